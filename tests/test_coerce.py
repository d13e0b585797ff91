"""How cells are read: every value either becomes a typed value or a reject with a reason."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from engine.io.coerce import coerce_column
from engine.rules.model import Input


def decl(kind: str, values=None, lo=None, hi=None) -> Input:
    return Input("x", kind, None, None, values, lo, hi, None)


def read(kind: str, cells: list, **options) -> list:
    typed, reasons = coerce_column(pd.Series(cells, dtype=object), decl(kind, **options), "en")
    out = []
    for value, reason in zip(typed.tolist(), reasons.tolist(), strict=True):
        if reason:
            out.append(("reject", reason))
        elif value is None or (isinstance(value, float) and math.isnan(value)):
            out.append(None)
        else:
            out.append(value)
    return out


@pytest.mark.parametrize(("kind", "cells", "expected", "options"), [
    ("number", ["1", " 2.5 ", "-3e2", "", None, "abc", "inf", "1_000"],
     [1.0, 2.5, -300.0, None, None, ("reject", "not a number"), ("reject", "not a number"), 1000.0], {}),
    ("integer", ["7", "7.0", "7.5", "x"],
     [7.0, 7.0, ("reject", "not a whole number"), ("reject", "not a whole number")], {}),
    ("boolean", ["true", "FALSE", "是", "否", "yes", "0", "maybe", ""],
     [True, False, True, False, True, False, ("reject", "not true or false"), None], {}),
    ("date", ["2024-06-30", "2024/6/3", "2024.06.03", "2024-02-30", "30/06/2024", ""],
     [19904.0, 19877.0, 19877.0, ("reject", "not a date (YYYY-MM-DD)"), ("reject", "not a date (YYYY-MM-DD)"), None],
     {}),
    ("enum", ["a", " b ", "c", ""], ["a", "b", ("reject", "not one of the listed values: a, b"), None],
     {"values": ("a", "b")}),
    ("string", ["上海", "  ", "x"], ["上海", None, "x"], {}),
    ("number", ["-1", "0", "100", "101"],
     [("reject", "below the minimum 0"), 0.0, 100.0, ("reject", "above the maximum 100")], {"lo": 0, "hi": 100}),
])
def test_cells_are_read_or_rejected(kind, cells, expected, options):
    assert read(kind, cells, **options) == expected


def test_required_inputs_reject_empty_cells():
    typed, reasons = coerce_column(pd.Series(["1", "", None], dtype=object),
                                   Input("x", "number", None, None, None, None, None, None, required=True))
    assert reasons.tolist() == ["", "为空,但这一项必填", "为空,但这一项必填"]


@pytest.mark.parametrize(("kind", "cells", "expected"), [
    ("number", ["1,234,567", "¥1,000", "￥2,000.50", "3000元", "12.5%", "12.3%", "500万", "1.2亿", "１２３",
                "－５", "1,23", "12,34,567", "%"],
     [1234567.0, 1000.0, 2000.5, 3000.0, 0.125, 0.123, 5_000_000.0, 120_000_000.0, 123.0, -5.0,
      ("reject", "not a number"), ("reject", "not a number"), ("reject", "not a number")]),
    ("integer", ["1,000", "3万", "1.5万", "50%"], [1000.0, 30000.0, 15000.0, ("reject", "not a whole number")]),
    ("date", ["2024年6月30日", "2024-06-30 00:00:00", "20240630", "２０２４/６/３０", "2024-06-30 12:30:00"],
     [19904.0, 19904.0, 19904.0, 19904.0, ("reject", "not a date (YYYY-MM-DD)")]),
    ("boolean", ["有", "无", "Ｙ", "真"], [True, False, True, True]),
    # Regression (issue 14): these aborted the whole batch or crashed explain and plan later.
    ("number", ["1e1000000", "9" * 1_000_000, "1e1000000万", "5"],
     [("reject", "not a number"), ("reject", "not a number"), ("reject", "not a number"), 5.0]),
    ("date", ["0000-01-01", "0001-01-01"], [("reject", "not a date (YYYY-MM-DD)"), -719162.0]),
])
def test_values_as_spreadsheets_and_crm_systems_export_them(kind, cells, expected):
    assert read(kind, cells) == expected


def test_whole_numbers_too_large_for_exact_columns_say_so():
    assert read("integer", ["9007199254740992", "12"]) == [("reject", "too large (at most 2^53 - 1)"), 12.0]
