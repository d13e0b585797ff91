"""Unary tests (DMN style): what one `when` cell says about one input.

A test is parsed into a normalised value set, the single meaning every backend compiles from:
for ordered types (number, integer, date) a union of intervals, for the others a set of values
(or its complement), plus whether a missing value passes. Only `missing` accepts missing values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.errors import Say
from engine.rules.literals import ORDERED_TYPES, TYPE_NAMES, LiteralError, parse_literal
from engine.rules.yamlnodes import Raw

_COMPARISON = re.compile(r"^(>=|<=|!=|==|=|>|<|≥|≤|≠)\s*(.+)$", re.S)
_RANGE = re.compile(r"^([\[\(\]])\s*(.+?)\s*\.\.\s*(.+?)\s*([\]\)\[])$", re.S)
_LIST = re.compile(r"^(not\s+in|in)\s*\[(.*)\]$", re.S | re.I)
_OPERATORS = {"≥": ">=", "≤": "<=", "≠": "!=", "==": "="}
KEYWORDS = {"missing": "missing", "is missing": "missing", "present": "present", "is present": "present"}


@dataclass(frozen=True)
class Interval:
    """A run of ordered values; None is an open end at infinity."""

    lo: float | int | None
    lo_closed: bool
    hi: float | int | None
    hi_closed: bool

    def contains(self, value: float | int) -> bool:
        if self.lo is not None and (value < self.lo or (value == self.lo and not self.lo_closed)):
            return False
        return not (self.hi is not None and (value > self.hi or (value == self.hi and not self.hi_closed)))


EVERYTHING = Interval(None, False, None, False)


@dataclass(frozen=True)
class UnaryTest:
    input: str
    input_type: str
    text: str
    accepts_missing: bool
    intervals: tuple[Interval, ...] = ()
    members: frozenset = frozenset()
    negated: bool = False

    @property
    def ordered(self) -> bool:
        return self.input_type in ORDERED_TYPES

    def matches(self, value: object) -> bool:
        """The reference meaning, value by value (None is missing)."""
        if value is None:
            return self.accepts_missing
        if self.input_type in ORDERED_TYPES:
            for interval in self.intervals:  # a loop, not any(): plans test every customer's values
                if interval.contains(value):  # type: ignore[arg-type]
                    return True
            return False
        return (value in self.members) != self.negated


class UnaryTestError(Exception):
    def __init__(self, message: Say, suggestion: Say | None = None) -> None:
        super().__init__(message.en)
        self.message, self.suggestion = message, suggestion


def parse_test(name: str, input_type: str, raw: Raw, values: tuple[str, ...] | None) -> UnaryTest:
    """Parse one `when` cell for input `name`; raises UnaryTestError with a plain message."""
    ordered = input_type in ORDERED_TYPES
    if raw.is_list:
        items = [item.text for item in raw.value]
        return _membership(name, input_type, raw.text, items, values, negated=False)
    text = raw.text.strip()
    if raw.value is None or text == "":
        raise UnaryTestError(Say("the test is empty", "条件是空的"),
                             Say('write a test such as ">= 10", or missing', '请写一个条件,例如 ">= 10" 或 missing'))
    keyword = KEYWORDS.get(re.sub(r"\s+", " ", text.lower()))
    if keyword:
        if values and text in values:
            raise UnaryTestError(
                Say(f"'{text}' is both a value of '{name}' and the keyword for an empty cell",
                    f"“{text}”既是“{name}”的一个取值,又是表示空单元格的关键字"),
                Say(f'write "= {text}" for the value, or "is {keyword}" for an empty cell',
                    f'指取值请写 "= {text}",指空单元格请写 "is {keyword}"'))
        if keyword == "missing":
            return UnaryTest(name, input_type, text, True)
        if ordered:
            return UnaryTest(name, input_type, text, False, intervals=(EVERYTHING,))
        return UnaryTest(name, input_type, text, False, negated=True)
    if match := _LIST.match(text):
        items = _split_items(match.group(2))
        return _membership(name, input_type, text, items, values, negated=match.group(1).lower() != "in")
    if match := _RANGE.match(text):
        if not ordered:
            raise UnaryTestError(Say(f"a range needs a number or date input; '{name}' is {input_type}",
                                     f"区间只能用于数字或日期输入;“{name}”是 {input_type}"),
                                 Say("list the values instead, e.g. [a, b]", "请改为列出取值,例如 [a, b]"))
        lo = _literal(input_type, match.group(2), values)
        hi = _literal(input_type, match.group(3), values)
        lo_closed, hi_closed = match.group(1) == "[", match.group(4) == "]"
        if lo > hi or (lo == hi and not (lo_closed and hi_closed)):
            raise UnaryTestError(Say(f"the range {text} contains no value", f"区间 {text} 不包含任何值"),
                                 Say("put the smaller bound first", "请把较小的边界写在前面"))
        return UnaryTest(name, input_type, text, False, intervals=(Interval(lo, lo_closed, hi, hi_closed),))
    if match := _COMPARISON.match(text):
        operator = _OPERATORS.get(match.group(1), match.group(1))
        value = _literal(input_type, match.group(2), values)
        if operator == "=":
            return _membership(name, input_type, text, [match.group(2)], values, negated=False)
        if operator == "!=":
            return _membership(name, input_type, text, [match.group(2)], values, negated=True)
        if not ordered:
            raise UnaryTestError(Say(f"'{operator}' needs a number or date input; '{name}' is {input_type}",
                                     f"“{operator}”只能用于数字或日期输入;“{name}”是 {input_type}"),
                                 Say(f"use = or != or a list of values for {input_type} inputs",
                                     f"{input_type} 输入请用 =、!= 或取值列表"))
        interval = {
            ">=": Interval(value, True, None, False), ">": Interval(value, False, None, False),
            "<=": Interval(None, False, value, True), "<": Interval(None, False, value, False),
        }[operator]
        return UnaryTest(name, input_type, text, False, intervals=(interval,))
    if ordered and re.match(r"^[\[\(\]]", text):
        raise UnaryTestError(Say(f"cannot read the range '{text}'", f"无法读取区间“{text}”"),
                             Say("write it like [100..200) or (0..1]", "请写成 [100..200) 或 (0..1] 这样的形式"))
    return _membership(name, input_type, text, [text], values, negated=False)


def _membership(name: str, input_type: str, text: str, items: list[str], values: tuple[str, ...] | None,
                negated: bool) -> UnaryTest:
    if not items:
        raise UnaryTestError(Say("the list is empty", "列表是空的"),
                             Say("list at least one value, e.g. [a, b]", "请至少列出一个取值,例如 [a, b]"))
    parsed = [_literal(input_type, item, values) for item in items]
    if input_type not in ORDERED_TYPES:
        return UnaryTest(name, input_type, text, False, members=frozenset(parsed), negated=negated)
    points = sorted(set(parsed))
    if not negated:
        intervals = tuple(Interval(p, True, p, True) for p in points)
    else:
        bounds = [None, *points, None]
        intervals = tuple(Interval(lo, False, hi, False) for lo, hi in zip(bounds, bounds[1:], strict=False))
    return UnaryTest(name, input_type, text, False, intervals=intervals)


def _literal(input_type: str, text: str, values: tuple[str, ...] | None) -> float | int | bool | str:
    value = parse_literal(input_type, text, values)
    if isinstance(value, LiteralError):
        suggestion = value.suggestion
        if input_type not in ORDERED_TYPES and re.match(r"^\s*(<|>)", text):
            expected = TYPE_NAMES[input_type]
            suggestion = Say(f"comparisons need a number or date; this input expects {expected.en}",
                             f"比较只能用于数字或日期;这个输入应为{expected.zh}")
        raise UnaryTestError(value.message, suggestion)
    return value


def _split_items(body: str) -> list[str]:
    items, current, quote = [], [], ""
    for char in body:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current.append(char)
        elif char == ",":
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        items.append("".join(current).strip())
    return [item for item in items if item]
