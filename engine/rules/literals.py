"""What a written value means for each input type, shared by tests, examples and input files.

Values are normalised to one Python form per type, which both backends use:
number -> float, integer -> int, boolean -> bool, enum and string -> str,
date -> int (days since 1970-01-01, so dates compare like numbers).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from engine.errors import Say

ORDERED_TYPES = frozenset({"number", "integer", "date"})
EPOCH = dt.date(1970, 1, 1)
# Beyond 2**53 a float64 column cannot hold every whole number exactly.
MAX_INTEGER = 2**53

_NUMBER = re.compile(r"^[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
# 2024-06-30, 2024/6/30, 2024.06.30, 2024年6月30日, with an optional midnight time as Excel
# exports write it; and 20240630.
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]0?0:00(?::00(?:\.0+)?)?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
TRUE_WORDS = frozenset({"true", "yes", "y", "t", "1", "是", "有", "真", "对"})
FALSE_WORDS = frozenset({"false", "no", "n", "f", "0", "否", "无", "假", "错"})
_CURRENCY = re.compile(r"^(?:[¥$€£]|CNY|RMB|USD)\s*|\s*(?:元|CNY|RMB)$")
_GROUPED = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
_SCALES = {"%": Decimal("0.01"), "万": Decimal(10) ** 4, "亿": Decimal(10) ** 8}
TYPE_NAMES = {
    "number": Say("a number", "数字"), "integer": Say("a whole number", "整数"),
    "boolean": Say("true or false", "是/否(true/false)"), "enum": Say("one of the listed values", "列出的取值之一"),
    "string": Say("a text", "文字"), "date": Say("a date (YYYY-MM-DD)", "日期(YYYY-MM-DD)"),
}


@dataclass(frozen=True)
class LiteralError:
    message: Say
    suggestion: Say | None = None


def parse_literal(input_type: str, text: str, values: tuple[str, ...] | None = None
                  ) -> float | int | bool | str | LiteralError:
    """Parse `text` as a value of `input_type`; a LiteralError says why it is not one."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    if input_type == "number":
        if _NUMBER.match(text):
            number = float(text.replace("_", ""))
            if math.isfinite(number):
                return number
        return LiteralError(Say(f"'{text}' is not a number", f"“{text}”不是数字"),
                            Say("write digits, e.g. 5000000 or 0.25", "请写数字,例如 5000000 或 0.25"))
    if input_type == "integer":
        if _NUMBER.match(text):
            number = float(text.replace("_", ""))
            if number.is_integer() and abs(number) < MAX_INTEGER:
                return int(number)
            if number.is_integer() or not math.isfinite(number):
                # A whole number all the same: saying it is not one would send the user looking for a
                # fraction. Beyond 2**53, float64 columns (and JSON) cannot tell neighbours apart.
                return LiteralError(Say(f"'{text}' is too large: kece compares whole numbers exactly only up "
                                        f"to {MAX_INTEGER - 1:,} (2^53 - 1)",
                                        f"“{text}”太大:kece 只能精确比较不超过 {MAX_INTEGER - 1:,}(2^53 - 1)的整数"),
                                    Say("use a smaller bound, or declare the input as type number (compared "
                                        "approximately)", "请使用更小的界限,或把该输入声明为 number 类型(近似比较)"))
        return LiteralError(Say(f"'{text}' is not a whole number", f"“{text}”不是整数"),
                            Say("write digits without a fraction, e.g. 12", "请写不带小数的数字,例如 12"))
    if input_type == "boolean":
        word = text.lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        return LiteralError(Say(f"'{text}' is not true or false", f"“{text}”不是 true 或 false"),
                            Say("write true or false", "请写 true 或 false(也可写 是/否)"))
    if input_type == "date":
        return parse_date(text)
    if input_type == "enum":
        if values is not None and text not in values:
            return LiteralError(Say(f"'{text}' is not one of the values", f"“{text}”不在取值列表中"),
                                did_you_mean(text, values, Say("allowed", "可选值")))
        return text
    return text


def parse_date(text: str) -> int | LiteralError:
    text = unicodedata.normalize("NFKC", text).strip()
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if match:
        try:
            return (dt.date(*map(int, match.groups())) - EPOCH).days
        except ValueError:
            pass
    return LiteralError(Say(f"'{text}' is not a date", f"“{text}”不是日期"),
                        Say("write YYYY-MM-DD, e.g. 2024-06-30", "请写成 YYYY-MM-DD,例如 2024-06-30"))


MAX_NUMBER_CHARS = 400


def exported_number(cell: str) -> float | None:
    """A number as spreadsheets and CRM exports write it: full-width digits, currency signs,
    thousands separators, and a scale suffix (12.5% is 0.125, 500万 is 5,000,000)."""
    text = _CURRENCY.sub("", unicodedata.normalize("NFKC", cell).strip()).strip()
    scale = _SCALES.get(text[-1:]) if text else None
    if scale is not None:
        text = text[:-1].strip()
    if "," in text:
        if not _GROUPED.match(text):
            return None
        text = text.replace(",", "")
    # No real figure has hundreds of characters; a megabyte of digits is a broken cell, not a number.
    if len(text) > MAX_NUMBER_CHARS or not _NUMBER.match(text):
        return None
    # Decimal keeps 12.3% exactly 0.123 before the one rounding to float.
    try:
        value = float(Decimal(text.replace("_", "")) * (scale or 1))
    except ArithmeticError:  # 1e1000000 overflows Decimal's context: not a number kece can hold
        return None
    return value if math.isfinite(value) else None


def did_you_mean(word: str, choices, listing: Say | None = None) -> Say | None:
    """'did you mean ...?' for a near miss; otherwise the choices after `listing`, or nothing."""
    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(word, choices, n=1)
    if close:
        return Say(f"did you mean '{close[0]}'?", f"是不是想写“{close[0]}”?")
    if listing is not None:
        return Say(f"{listing.en}: {', '.join(choices)}", f"{listing.zh}:{'、'.join(choices)}")
    return None


def format_value(input_type: str, value: object) -> str:
    """A normalised value as a user would write it (dates back to YYYY-MM-DD)."""
    if value is None:
        return "missing"
    if input_type == "date" and isinstance(value, int | float):
        return (EPOCH + dt.timedelta(days=int(value))).isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < MAX_INTEGER:
        return str(int(value))
    return str(value)
