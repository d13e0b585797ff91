"""Turn customer data as written (text cells, JSON values) into typed columns, rejecting what
does not fit. One path serves files and single customers, so both read a value the same way.

Typed columns: number, integer and date are float64 (NaN = missing; dates in days since
1970-01-01); boolean, enum and string are pandas categoricals (NaN = missing).
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.errors import Say
from engine.io.arrow_text import arrow_strings
from engine.rules.literals import (
    EPOCH,
    FALSE_WORDS,
    MAX_INTEGER,
    TRUE_WORDS,
    TYPE_NAMES,
    LiteralError,
    exported_number,
    format_value,
    parse_date,
)
from engine.rules.model import Input, Scheme, Value

REJECT_COLUMNS = ["row", "id", "column", "value", "reason"]
# What exports write in a cell that has no value (Excel's #N/A, a dash, 无/空 typed by hand): read
# as missing, whatever the file format, unless the input reads the word as one of its values (无 is
# "no" for a boolean; an enum may have a value or label 无).
PLACEHOLDERS = ("N/A", "NA", "#N/A", "-", "—", "无", "空")


def _case_forms(word: str) -> set[str]:
    forms = {""}
    for char in word:
        forms = {form + variant for form in forms for variant in {char.lower(), char.upper()}}
    return forms


# every case of each word, so that a column is checked by hash (isin) rather than folded cell by cell
PLACEHOLDER_FORMS = frozenset(form for word in PLACEHOLDERS for form in _case_forms(word))
# Columns shorter than this are typed cell by cell: the vectorized passes would not pay for themselves.
FAST_PATH_ROWS = 2_000
# A column is typed by its distinct values when it holds at most one per this many rows.
DISTINCT_SHARE = 4
# A number written plainly: no spaces, separators, units or full-width digits.
PLAIN_DECIMAL = r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$"
FIRST_DAY = (dt.date.min - EPOCH).days
LAST_DAY = (dt.date.max - EPOCH).days


def empty_rejects() -> pd.DataFrame:
    """No rejects, with the types a rejects table has (row numbers are whole numbers)."""
    return pd.DataFrame({"row": pd.Series(dtype="int64"),
                         **{name: pd.Series(dtype=object) for name in REJECT_COLUMNS[1:]}})


def column_key(decl: Input) -> tuple:
    return (decl.name, decl.type, decl.values, decl.min, decl.max, decl.required)


def coerce_column(text: pd.Series, decl: Input, lang: str = "zh") -> tuple[pd.Series, pd.Series]:
    """(typed column, reason per row in `lang`, or '' where the value was read).

    Numbers written plainly are parsed by Arrow (a large column of nothing else in one cast), and
    only the other cells (¥6,000,000, 500万) one by one. A large column of another type with few
    distinct values (enums, yes/no, dates) is typed by its distinct values, each read once, the
    results spread by index: every cell gets what `_coerce_cells` gives it, in a fraction of the time."""
    strings = arrow_strings(text) if len(text) >= FAST_PATH_ROWS else None
    if strings is not None:
        fast = (_plain_column if decl.type in ("number", "integer") else _by_distinct_values)(text, strings, decl, lang)
        if fast is not None:
            return fast
    return _coerce_cells(text, decl, lang)


def _by_distinct_values(text: pd.Series, strings: pa.Array, decl: Input,
                        lang: str) -> tuple[pd.Series, pd.Series] | None:
    """Type each distinct cell once and spread the results by index; None when the column holds too
    many distinct values for that to pay."""
    encoded = pc.dictionary_encode(strings)
    distinct = encoded.dictionary
    if len(distinct) > max(1, len(strings) // DISTINCT_SHARE) and decl.type not in ("enum", "boolean"):
        return None
    typed, reasons = _distinct_typed(tuple(distinct.to_pylist()), decl, lang)
    positions = encoded.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False)
    if isinstance(typed.dtype, pd.CategoricalDtype):
        spread = pd.Series(pd.Categorical.from_codes(typed.cat.codes.to_numpy()[positions], dtype=typed.dtype),
                           index=text.index)
    else:
        spread = pd.Series(typed.to_numpy()[positions], index=text.index, dtype=typed.dtype)
    spread_reasons = pd.Categorical.from_codes(reasons.cat.codes.to_numpy()[positions], dtype=reasons.dtype)
    return spread, pd.Series(spread_reasons, index=text.index)


def _distinct(texts: list[str], used: np.ndarray) -> list[str]:
    chosen = [texts[code] for code in used]
    if len(set(chosen)) != len(chosen):  # never expected: each check words its reason differently
        raise ValueError(f"reasons worded alike: {chosen}")
    return chosen


def _plain_numbers(text: pd.Series) -> pd.Series:
    """Each cell written as a plain decimal (1234.5, -3e2) read by Arrow, correctly rounded as
    Python's float() reads it; NaN for every other cell. pandas' own parser is not correctly rounded
    (it reads 3E30 as 3.0000000000000003e+30), and a value on a rule's threshold must compare equal."""
    strings = arrow_strings(text)
    assert strings is not None  # `text` is pandas' string type
    numbers = _cast_blank_or_numbers(strings)  # a clean column in one cast, no pattern matched
    if numbers is None:
        plain = pc.fill_null(pc.match_substring_regex(strings, PLAIN_DECIMAL), False)
        numbers = pc.cast(pc.if_else(plain, strings, pa.scalar(None, strings.type)), pa.float64())
    values = numbers.to_numpy(zero_copy_only=False).copy()
    # Arrow also reads inf and nan; the pattern decides whether such a cell was written as a number.
    odd = np.flatnonzero(~np.isfinite(values) & ~np.asarray(numbers.is_null()))
    if len(odd):
        written = pc.match_substring_regex(strings.take(pa.array(odd)), PLAIN_DECIMAL)
        values[odd[~np.asarray(pc.fill_null(written, False))]] = np.nan
    return pd.Series(values, index=text.index, dtype="float64")


def _coerce_cells(text: pd.Series, decl: Input, lang: str = "zh") -> tuple[pd.Series, pd.Series]:
    """coerce_column cell by cell (numbers written plainly: by Arrow), the reference for the
    faster paths."""
    text = text.astype("string").str.strip()
    placeholder = text.isin(_placeholders(decl)).fillna(False).astype(bool)
    if placeholder.any():
        text = text.mask(placeholder, "")
    empty = text.isna() | (text == "")
    kind = decl.type
    plain = None
    if kind in ("number", "integer"):
        plain = _plain_numbers(text)
        typed = plain.where(np.isfinite(plain))
        # Exported forms (1,234, ¥500, 12.5%, 500万, full-width digits) take the slower path.
        other = ~empty & typed.isna()
        if other.any():
            parsed = [exported_number(cell) for cell in text[other]]
            typed.loc[other] = np.array([np.nan if v is None else v for v in parsed], dtype=np.float64)
        bad = ~empty & typed.isna()
    elif kind == "date":
        typed = _days(pd.to_datetime(text, format="%Y-%m-%d", errors="coerce"))
        # numpy reads year 0 (0000-01-01); Python's dates, which explain and plans show, begin at year 1.
        typed = typed.where((typed >= FIRST_DAY) & (typed <= LAST_DAY))
        # Other forms (2024/6/3, 2024年6月3日, 20240603, a midnight time) take the slower path.
        other = typed.isna() & ~empty
        if other.any():
            days = [parse_date(cell) for cell in text[other]]
            typed.loc[other] = np.array([np.nan if isinstance(d, LiteralError) else d for d in days], dtype=np.float64)
        bad = ~empty & typed.isna()
    elif kind == "boolean":
        lowered = text.str.normalize("NFKC").str.lower()
        typed_bool = pd.Series(pd.NA, index=text.index, dtype="boolean")
        typed_bool[lowered.isin(TRUE_WORDS).fillna(False).astype(bool)] = True
        typed_bool[lowered.isin(FALSE_WORDS).fillna(False).astype(bool)] = False
        bad = ~empty & typed_bool.isna()
        typed = pd.Series(pd.Categorical(typed_bool.astype(object).where(typed_bool.notna(), None),
                                         categories=[False, True]), index=text.index)
    elif kind == "enum":
        readings = enum_readings(decl)
        # Each distinct cell is looked up once: a column holds a handful of values over many rows.
        codes, distinct = pd.factorize(text)
        found = np.array([readings.get(fold(cell)) for cell in distinct] + [None], dtype=object)[codes]
        bad = pd.Series(~empty.fillna(True).to_numpy() & pd.isna(found), index=text.index)
        typed = pd.Series(pd.Categorical(found, categories=list(decl.values or ())), index=text.index)
    else:
        typed = pd.Series(pd.Categorical(text.where(~empty, None).astype(object)), index=text.index)
        bad = pd.Series(False, index=text.index)
    return _checked(typed, bad, empty.fillna(True).astype(bool), plain, decl, lang)


@functools.lru_cache(maxsize=64)
def _distinct_typed(distinct: tuple[str, ...], decl: Input, lang: str) -> tuple[pd.Series, pd.Series]:
    """The distinct texts typed, and one more entry for the missing cells (None); the chunks of a
    file mostly hold the same few texts, typed once."""
    return _coerce_cells(pd.Series([*distinct, None], dtype=object), decl, lang)


def _cast_blank_or_numbers(strings: pa.Array) -> pa.Array | None:
    """Every cell as a float (blank and missing cells null) when Arrow reads them all; else None."""
    blank = pc.fill_null(pc.equal(pc.binary_length(strings), 0), True)
    try:
        return pc.cast(pc.if_else(blank, pa.scalar(None, strings.type), strings), pa.float64())
    except pa.ArrowInvalid:
        return None


def _plain_column(text: pd.Series, strings: pa.Array, decl: Input, lang: str) -> tuple[pd.Series, pd.Series] | None:
    """A number column whose every cell is blank or a plain decimal, read in one Arrow cast: what
    `_coerce_cells` gives it (no cell of such a column is a placeholder, has spaces to strip or needs
    the exported forms); None for any other column."""
    numbers = _cast_blank_or_numbers(strings)
    if numbers is None:
        return None
    values = numbers.to_numpy(zero_copy_only=False)
    empty = np.asarray(numbers.is_null())
    if (~np.isfinite(values) & ~empty).any():  # inf, nan or an overflow: the pattern decides
        return None
    plain = pd.Series(values, index=text.index, dtype="float64")
    return _checked(plain, pd.Series(False, index=text.index), pd.Series(empty, index=text.index), plain, decl, lang)


def _checked(typed: pd.Series, bad: pd.Series, empty: pd.Series, plain: pd.Series | None, decl: Input,
             lang: str) -> tuple[pd.Series, pd.Series]:
    """The checks after reading: whole numbers, required values and bounds; each row's reason."""
    kind = decl.type
    bad = bad.fillna(False).astype(bool)
    huge = pd.Series(False, index=typed.index)
    if kind == "integer":
        values = typed.to_numpy()
        with np.errstate(invalid="ignore"):
            fractional = pd.Series(~np.isnan(values) & ((np.trunc(values) != values) | (np.abs(values) >= MAX_INTEGER)),
                                   index=typed.index)
        bad |= fractional
        typed = typed.mask(fractional)
        # a whole number, but beyond what a float64 column holds exactly
        huge = ~empty & bad & plain.abs().ge(MAX_INTEGER).fillna(False)  # type: ignore[union-attr]
    # Each row's reason as a code into a few texts (later checks override earlier ones): a
    # categorical column, compared and spread by its codes rather than a string per row.
    texts: list[str] = [""]
    codes = np.zeros(len(typed), dtype=np.int8)

    def give(rows: pd.Series | np.ndarray, reason: Say) -> None:
        rows = np.asarray(rows, dtype=bool)
        if rows.any():
            texts.append(reason.get(lang))
            codes[rows] = len(texts) - 1

    expected = TYPE_NAMES[kind]
    give(bad, enum_listing(decl) if kind == "enum" else Say(f"not {expected.en}", f"不是{expected.zh}"))
    give(huge, Say("too large (at most 2^53 - 1)", "太大(最大为 2^53 - 1)"))
    if decl.required:
        give(empty, Say("empty, but a value is required", "为空,但这一项必填"))
    if kind in ("number", "integer", "date"):
        for bound, outside, word in ((decl.min, typed < (decl.min if decl.min is not None else 0), "below"),
                                     (decl.max, typed > (decl.max if decl.max is not None else 0), "above")):
            if bound is None:
                continue
            outside = outside.fillna(False).astype(bool) & ~bad
            shown = format_value(kind, bound)
            give(outside, Say(f"below the minimum {shown}", f"小于最小值 {shown}") if word == "below"
                 else Say(f"above the maximum {shown}", f"大于最大值 {shown}"))
            typed = typed.mask(outside)
    used = np.flatnonzero(np.bincount(codes, minlength=len(texts)))  # the texts some row still has
    renumbered = np.zeros(len(texts), dtype=np.int8)
    renumbered[used] = np.arange(len(used))
    reasons = pd.Series(pd.Categorical.from_codes(renumbered[codes], categories=_distinct(texts, used)),
                        index=typed.index)
    return typed, reasons


def _placeholders(decl: Input) -> frozenset[str]:
    if decl.type == "boolean":
        return frozenset(form for form in PLACEHOLDER_FORMS if form.lower() not in TRUE_WORDS | FALSE_WORDS)
    if decl.type == "enum":
        readings = enum_readings(decl)
        return frozenset(form for form in PLACEHOLDER_FORMS if fold(form) not in readings)
    return PLACEHOLDER_FORMS


def fold(text: str) -> str:
    """A cell as compared with an enum's values: full-width forms and case do not matter."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def enum_readings(decl: Input) -> dict[str, str]:
    """Every way a file may write one of an enum's values (folded) -> the value: the value itself,
    its zh and en labels, and a label without the words it shares with the input's title (高 for
    高贡献 under 贡献度, 明确 for 明确意向 under 购买意向), as people fill in a column already named.
    Values win over labels and labels over short forms; a text two values share is not read."""
    readings: dict[str, str] = {}
    for tier in (_value_ids(decl), _full_labels(decl), _short_labels(decl)):
        claimed: dict[str, set[str]] = {}
        for text, value in tier:
            if text and text not in readings:
                claimed.setdefault(text, set()).add(value)
        readings.update({text: next(iter(values)) for text, values in claimed.items() if len(values) == 1})
    return readings


def _value_ids(decl: Input) -> Iterator[tuple[str, str]]:
    for value in decl.values or ():
        yield fold(value), value


def _full_labels(decl: Input) -> Iterator[tuple[str, str]]:
    for value, label in decl.labels.items():
        yield fold(label.zh), value
        yield fold(label.en), value


def _short_labels(decl: Input) -> Iterator[tuple[str, str]]:
    if decl.title is None:
        return
    for value, label in decl.labels.items():
        yield _without_common_run(fold(label.zh), fold(decl.title.zh)), value
        title_words = set(re.findall(r"\w+", fold(decl.title.en)))
        words = fold(label.en).split()
        yield " ".join(word for word in words if word not in title_words), value


def _without_common_run(label: str, title: str) -> str:
    """`label` without its longest run of two or more characters that `title` also holds; '' when
    nothing (or everything) would be left."""
    match = difflib.SequenceMatcher(None, label, title, autojunk=False).find_longest_match(0, len(label), 0, len(title))
    if match.size < 2 or match.size == len(label):
        return ""
    return label[:match.a] + label[match.a + match.size:]


def enum_listing(decl: Input) -> Say:
    """The reject reason for a cell no value reads as: the allowed values with their labels."""
    def listed(lang: str) -> str:
        shown = []
        for value in decl.values or ():
            label = decl.labels.get(value)
            text = label.get(lang) if label is not None else value
            shown.append(value if text == value else f"{value}({text})" if lang == "zh" else f"{value} ({text})")
        return ("、" if lang == "zh" else ", ").join(shown)
    return Say(f"not one of the listed values: {listed('en')}", f"不是列出的取值之一:{listed('zh')}")


def _days(stamps: pd.Series) -> pd.Series:
    return ((stamps - pd.Timestamp(EPOCH)) // pd.Timedelta(days=1)).astype("float64")


@dataclass
class Prepared:
    """Typed input columns of the rows that were read, plus the rows that were not."""

    ids: pd.Series
    rows: np.ndarray
    columns: dict[tuple, pd.Series] = field(default_factory=dict)
    rejects: pd.DataFrame = field(default_factory=empty_rejects)

    def __len__(self) -> int:
        return len(self.ids)

    def frame(self, scheme: Scheme) -> dict[str, pd.Series]:
        """The scheme's typed input columns by input name (a dict: no DataFrame copy)."""
        return {name: self.columns[column_key(decl)] for name, decl in scheme.inputs.items()}

    def records(self, scheme: Scheme) -> list[dict[str, Value]]:
        """Row-wise typed values (missing values left out), for the durable and reference paths."""
        return list(self.iter_records(scheme))

    def iter_records(self, scheme: Scheme) -> Iterator[dict[str, Value]]:
        """`records`, one row at a time: a caller that uses each record once (plans) keeps none of
        them alive, so they die young instead of filling the garbage collector's oldest generation."""
        columns = []
        for name, column in self.frame(scheme).items():
            convert = _python_value(scheme.inputs[name])
            columns.append((name, [None if value is None or (isinstance(value, float) and math.isnan(value))
                                   else convert(value) for value in column.tolist()]))
        for row in range(len(self)):
            yield {name: values[row] for name, values in columns if values[row] is not None}


def _python_value(decl: Input):
    if decl.type in ("integer", "date"):
        return int
    if decl.type == "number":
        return float
    if decl.type == "boolean":
        return bool
    return str


def prepare(table: pd.DataFrame, schemes: Iterable[Scheme], id_column: str | None, lang: str = "zh") -> Prepared:
    """Type every input column the schemes need; rows with unreadable values become rejects.

    `table`'s index is taken as the rows' numbers (as `read_table` sets it), for the rejects file
    and as ids when there is no id column.
    """
    row_numbers = table.index.to_numpy()
    table = table.reset_index(drop=True)
    # Ids stay Arrow strings (pandas' str): written out as they are, never a Python string each.
    ids = (table[id_column].astype("str").fillna("") if id_column else pd.Series(row_numbers).astype("str"))
    typed: dict[tuple, pd.Series] = {}
    problems: list[pd.DataFrame] = []
    for scheme in schemes:
        for name, decl in scheme.inputs.items():
            key = column_key(decl)
            if key in typed:
                continue
            # A key absent from a customer record is a missing value; files are checked for
            # their columns before they get here.
            cells = table[name] if name in table else pd.Series([None] * len(table), dtype=object)
            column, reasons = coerce_column(cells, decl, lang)
            typed[key] = column
            bad = reasons != ""
            if bad.any():
                problems.append(pd.DataFrame({
                    "row": row_numbers[bad.to_numpy()], "id": ids[bad].to_numpy(), "column": name,
                    "value": cells[bad].astype(object).to_numpy(), "reason": reasons[bad].to_numpy()}))
    if problems:
        rejects = _one_row_each(pd.concat(problems, ignore_index=True))
        keep = ~np.isin(row_numbers, rejects["row"].to_numpy())
    else:
        rejects = empty_rejects()
        keep = np.ones(len(table), dtype=bool)
    kept = {key: column[keep].reset_index(drop=True) for key, column in typed.items()}
    return Prepared(ids[keep].reset_index(drop=True), row_numbers[keep], kept, rejects[REJECT_COLUMNS])


def _one_row_each(problems: pd.DataFrame) -> pd.DataFrame:
    """One reject per row, its columns, values and reasons joined with '; ' in the inputs' order; most
    rejected rows have one problem and are taken as they are, so only the others are grouped."""
    several = problems["row"].duplicated(keep=False).to_numpy()
    single = problems[~several].assign(value=problems.loc[~several, "value"].map(str))
    grouped = (problems[several].groupby(["row", "id"], sort=False, as_index=False)
               .agg({"column": "; ".join, "value": lambda v: "; ".join(map(str, v)), "reason": "; ".join}))
    whole = pd.concat([single, grouped], ignore_index=True) if len(grouped) else single
    return whole.sort_values("row", kind="stable").reset_index(drop=True)


def table_from_records(records: list[Mapping[str, object]]) -> pd.DataFrame:
    """Customer mappings (as from JSON) as a table of text cells, written the way a file would be;
    numbered from 1."""
    columns: dict[str, list[object]] = {}
    for index, record in enumerate(records):
        for key in record:
            columns.setdefault(key, [None] * len(records))
        for key, value in record.items():
            columns[key][index] = _cell_text(value)
    index = pd.RangeIndex(1, len(records) + 1)
    return pd.DataFrame({k: pd.Series(v, dtype=object, index=index) for k, v in columns.items()}, index=index)


def _cell_text(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
