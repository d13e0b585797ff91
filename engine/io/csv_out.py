"""CSV text rendered by Arrow, column by column, byte for byte what pandas' to_csv writes (minimal
quoting, '' for a missing value, floats as numpy prints them): pandas formats and quotes each cell in
Python, which takes longer than the rest of a run.

A table holding a column of another kind (dates, booleans, mixed objects) is left to pandas.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine.io.arrow_text import arrow_strings, float_texts, holds_any, may_start_with, string_bytes

# What spreadsheets run as a formula (OWASP "CSV Injection"): a cell starting with one of these that
# is not a plain number. Full-width forms are included because spreadsheet apps in Chinese locales
# normalise them. The patterns are written for RE2 as Python's re reads outputs._PLAIN_NUMBER: \d is
# any Unicode decimal digit and $ also matches before a final newline.
FORMULA_CHARACTERS = "=+-@\t\r＝＋－＠"
FORMULA_START = r"^[=+\-@\t\r＝＋－＠]"
PLAIN_NUMBER = r"^[-+]?(\p{Nd}+\.?\p{Nd}*|\.\p{Nd}+)([eE][-+]?\p{Nd}+)?\n?$"


def _quoted_characters() -> str:
    """The characters that make Python's csv module (pandas' writer) quote a field: they vary
    between Python versions (3.11 leaves a lone carriage return unquoted)."""
    found = ""
    for char in ',"\n\r':
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([f"a{char}b", "c"])
        if buffer.getvalue().startswith('"'):
            found += char
    return found


QUOTED = _quoted_characters()
_QUOTED_PATTERN = "[" + QUOTED.replace("\n", "\\n").replace("\r", "\\r") + "]"


def formula_mask(strings: pa.Array) -> pa.Array:
    """True where a text cell would run as a spreadsheet formula (missing cells: False). Only the cells
    whose first byte could start a formula are matched against the patterns."""
    candidates = may_start_with(strings, FORMULA_CHARACTERS)
    found = np.zeros(len(strings), dtype=bool)
    if candidates.any():
        some = strings.filter(pa.array(candidates))
        risky = pc.and_(pc.match_substring_regex(some, FORMULA_START),
                        pc.invert(pc.match_substring_regex(some, PLAIN_NUMBER)))
        found[candidates] = np.asarray(pc.fill_null(risky, False))
    return pa.array(found)


def neutralised(strings: pa.Array) -> pa.Array:
    """Cells that would run as formulas, prefixed with a single quote (OWASP)."""
    risky = formula_mask(strings)
    if not pc.any(risky).as_py():
        return strings
    quote, nothing = pa.scalar("'", strings.type), pa.scalar("", strings.type)
    return pc.if_else(risky, pc.binary_join_element_wise(quote, strings, nothing), strings)


def csv_rows(table: pd.DataFrame, escape_formulas: bool) -> bytes | None:
    """The rows (no header) as pandas' to_csv(index=False) writes them; None when a column is of a
    kind rendered here differently from pandas, or the table has a single column (where pandas
    writes an empty cell as "")."""
    if len(table.columns) < 2 or not len(table):
        return None
    cells = []
    for _, column in table.items():
        if isinstance(column.dtype, pd.CategoricalDtype):  # escaped and quoted once per distinct value
            text = _categorical_text(column, escape_formulas)
        else:
            text = _column_text(column)
            if text is None:
                return None
            text = text.cast(pa.large_string())  # pandas holds large strings, other columns not: one type to join
            if escape_formulas and not pd.api.types.is_numeric_dtype(column.dtype):
                text = neutralised(text)
            text = _quoted(text)
        if text is None:
            return None
        cells.append(text)
    lines = pc.binary_join_element_wise(*cells, _large(","))
    lines = pc.binary_join_element_wise(lines, _large(""), _large("\n"))  # every row ends with a newline
    if lines.null_count:  # never expected: every cell is filled; pandas writes such a table
        return None
    starts, lengths, data = string_bytes(lines)  # the lines lie end to end in one buffer
    return data[starts[0]:starts[-1] + lengths[-1]].tobytes()


def _large(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _column_text(column: pd.Series) -> pa.Array | None:
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return pc.cast(pa.array(column.to_numpy()), pa.string())
    if pd.api.types.is_float_dtype(dtype) and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return float_texts(column.to_numpy())
    if isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype):
        strings = arrow_strings(column)
        return None if strings is None else pc.fill_null(strings, "")
    return None


def _categorical_text(column: pd.Series, escape_formulas: bool) -> pa.Array | None:
    categories = list(column.dtype.categories)
    if not all(isinstance(value, str) for value in categories):
        return None
    texts = pa.array([*categories, ""], pa.large_string())  # the last: a missing value
    texts = _quoted(neutralised(texts) if escape_formulas else texts)
    codes = column.cat.codes.to_numpy()
    return texts.take(pa.array(np.where(codes < 0, len(categories), codes)))


def _quoted(strings: pa.Array) -> pa.Array:
    if not holds_any(strings, QUOTED):
        return strings
    needs = pc.fill_null(pc.match_substring_regex(strings, _QUOTED_PATTERN), False)
    mark, nothing = pa.scalar('"', strings.type), pa.scalar("", strings.type)
    quoted = pc.binary_join_element_wise(mark, pc.replace_substring(strings, '"', '""'), mark, nothing)
    return pc.if_else(needs, quoted, strings)
