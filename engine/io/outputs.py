"""What kece writes must not harm whoever opens it next: an output never replaces an input, a
spreadsheet never receives a live formula from customer data, and a cell Excel cannot hold is
replaced rather than aborting the whole run."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from engine.errors import Say, UsageError
from engine.io.arrow_text import arrow_strings
from engine.io.csv_out import FORMULA_CHARACTERS, formula_mask

# OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel, LibreOffice
# and Google Sheets; prefixing a single quote makes it text. Full-width forms are included because
# spreadsheet apps in Chinese locales normalise them.
FORMULA_START = tuple(FORMULA_CHARACTERS)
# A plain number is harmless and common (-5, +3.2): left as it is, so numbers stay numbers.
_PLAIN_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
# XML 1.0 forbids these characters; openpyxl raises on them. U+FFFD shows where one was.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def refuse_overwrite(inputs: Iterable[Path | None], outputs: Iterable[Path | None]) -> None:
    """A usage error when an output (results, rejects, a report, a plan) is, or resolves to, an input,
    or when two outputs are the same file: kece would destroy what it reads."""
    sources = [p for p in inputs if p is not None]
    targets = [p for p in outputs if p is not None]
    for number, target in enumerate(targets):
        for source in sources:
            if _same_file(source, target):
                raise UsageError(Say(f"{target}: this output is the input file {source}; choose another -o or "
                                     "--rejects path (kece never overwrites what it reads)",
                                     f"{target}:输出文件就是输入文件 {source};请用 -o 或 --rejects 另选路径"
                                     "(kece 不会覆盖它读取的文件)"))
        for other in targets[number + 1:]:
            if _same_file(other, target):
                raise UsageError(Say(f"{target}: the results and the rejects would be the same file; give "
                                     "--rejects another path", f"{target}:结果文件与拒收文件是同一个文件;"
                                     "请用 --rejects 另选路径"))


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)  # hard links and symlinks too
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_output_file(path: Path) -> None:
    """An output file cannot be an existing folder (a usage error, not a crash on open)."""
    if path.is_dir():
        raise UsageError(Say(f"{path} is a folder; -o takes a file name here, e.g. {path / 'report.html'}",
                             f"{path} 是文件夹;这里的 -o 需要文件名,例如 {path / 'report.html'}"))


def is_formula(text: str) -> bool:
    return text.startswith(FORMULA_START) and not _PLAIN_NUMBER.match(text)


def neutralise_formulas(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell (and header) that a spreadsheet would run as a formula
    prefixed with a single quote (OWASP's advice for CSV files opened by people)."""
    renamed = {c: f"'{c}" for c in table.columns if isinstance(c, str) and is_formula(c)}
    changed = {}
    for name in table.columns:
        column = table[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)  # categories are text a spreadsheet reads like any other
        if column.dtype != object and not pd.api.types.is_string_dtype(column.dtype):
            continue
        text = column.astype(object)
        risky = _formula_cells(text)
        if risky.any():
            changed[name] = text.where(~risky, "'" + text[risky].astype(str))
    if not changed and not renamed:
        return table
    return table.assign(**changed).rename(columns=renamed) if changed else table.rename(columns=renamed)


def _formula_cells(text: pd.Series) -> pd.Series:
    """is_formula for each cell of a column; False for cells that are not text."""
    strings = arrow_strings(text)
    if strings is None:  # numbers or other objects among the text
        return text.map(lambda v: isinstance(v, str) and is_formula(v)).astype(bool)
    return pd.Series(formula_mask(strings).to_numpy(zero_copy_only=False), index=text.index)


def xlsx_text(value: object) -> object:
    """A cell value openpyxl can store: text keeps its characters except those XML cannot hold."""
    if isinstance(value, str) and _XML_ILLEGAL.search(value):
        return _XML_ILLEGAL.sub("\ufffd", value)
    return value


def write_xlsx(table: pd.DataFrame, path: Path) -> None:
    """An .xlsx file where every text cell is a text cell: openpyxl (and pandas' to_excel) would
    store a string starting with '=' as a live formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")

    def row_cells(values: Iterable[object]) -> list[WriteOnlyCell]:
        cells = []
        for value in values:
            if hasattr(value, "item") and not isinstance(value, str):
                value = value.item()  # numpy scalars as Python numbers
            if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
                value = None
            elif not isinstance(value, int | float | str):
                value = str(value)
            cell = WriteOnlyCell(sheet, value=xlsx_text(value))
            if isinstance(value, str):
                cell.data_type = "s"  # never "f", whatever the text starts with
            cells.append(cell)
        return cells

    sheet.append(row_cells(str(c) for c in table.columns))
    for row in table.itertuples(index=False, name=None):
        sheet.append(row_cells(row))
    book.save(path)
