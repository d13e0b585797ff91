"""Unary tests: what each written test accepts, including missing values and boundaries."""

from __future__ import annotations

import pytest

from engine.errors import Location
from engine.rules.literals import parse_date
from engine.rules.unary import UnaryTestError, parse_test
from engine.rules.yamlnodes import Raw

HERE = Location("t.yaml", 1, 1)


def raw(value) -> Raw:
    if isinstance(value, list):
        items = tuple(Raw(v, str(v), False, HERE) for v in value)
        return Raw(items, "[" + ", ".join(map(str, value)) + "]", False, HERE)
    return Raw(value, str(value).lower() if isinstance(value, bool) else str(value), False, HERE)


@pytest.mark.parametrize(("kind", "test", "passes", "fails"), [
    ("number", ">= 5000000", [5000000, 6e6], [4999999.99, None]),
    ("number", "> 0.5", [0.5000001], [0.5, None]),
    ("number", "< 10", [-1, 9.99], [10, None]),
    ("number", "≤ 3", [3], [3.0000001]),
    ("number", "[100..200)", [100, 199.99], [99.99, 200, None]),
    ("number", "(0..1]", [0.001, 1], [0, 1.01]),
    ("number", "]0..1[", [0.5], [0, 1]),
    ("number", "!= 5", [4, 6], [5, None]),
    ("number", "not in [1, 2]", [0, 1.5, 3], [1, 2, None]),
    ("number", "in [1, 2]", [1, 2], [1.5, None]),
    ("number", 5, [5], [5.1]),
    ("number", "missing", [None], [0]),
    ("number", "is present", [0, -1], [None]),
    ("integer", "[1..3]", [1, 2, 3], [0, 4]),
    ("enum", "complete", ["complete"], ["partial", None]),
    ("enum", "!= complete", ["partial"], ["complete", None]),
    ("enum", ["complete", "partial"], ["complete", "partial"], ["none", None]),
    ("enum", "not in [complete, 'partial']", ["none"], ["complete", "partial", None]),
    ("enum", "present", ["none"], [None]),
    ("boolean", True, [True], [False, None]),
    ("boolean", "否", [False], [True]),
    ("string", "= 上海", ["上海"], ["北京", None]),
    ("date", ">= 2024-01-01", [parse_date("2024-01-01")], [parse_date("2023-12-31"), None]),
    ("integer", "<= 9007199254740991", [9007199254740991, -9007199254740991], [None]),
])
def test_what_a_test_accepts(kind, test, passes, fails):
    values = ("complete", "partial", "none") if kind == "enum" else None
    parsed = parse_test("x", kind, raw(test), values)
    assert [parsed.matches(v) for v in passes] == [True] * len(passes)
    assert [parsed.matches(v) for v in fails] == [False] * len(fails)


@pytest.mark.parametrize(("kind", "test", "message"), [
    ("number", ">= abc", "'abc' is not a number"),
    ("number", "[5..1]", "contains no value"),
    ("number", "(1..1]", "contains no value"),
    ("number", "[1..", "cannot read the range"),
    ("integer", "> 1.5", "'1.5' is not a whole number"),
    # Whole numbers all the same: the message says why kece cannot use them (issue 14).
    ("integer", ">= 9007199254740992", "'9007199254740992' is too large: kece compares whole numbers exactly "
                                       "only up to 9,007,199,254,740,991"),
    ("integer", "< -1e20", "'-1e20' is too large"),
    ("integer", "> 1e400", "'1e400' is too large"),
    ("enum", "< complete", "'<' needs a number or date input"),
    ("enum", "[a..b]", "a range needs a number or date input"),
    ("enum", "completed", "'completed' is not one of the values"),
    ("boolean", "maybe", "'maybe' is not true or false"),
    ("date", "> 2024-13-01", "'2024-13-01' is not a date"),
    ("number", "in []", "the list is empty"),
])
def test_bad_tests_are_explained(kind, test, message):
    values = ("complete", "partial", "none") if kind == "enum" else None
    with pytest.raises(UnaryTestError) as info:
        parse_test("x", kind, raw(test), values)
    assert message in info.value.message.en
    assert info.value.message.zh and info.value.message.zh != info.value.message.en
