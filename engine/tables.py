"""Reading customer files and writing results: the file-format edge of the batch path."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from engine.errors import InputFileError, Say

# Spreadsheet row numbers: the header is row 1, so the first customer is row 2.
FIRST_ROW = 2
ID_COLUMN_GUESSES = ("id", "customer_id", "客户编号", "客户ID", "客户id")


def read_table(path: Path) -> pd.DataFrame:
    """Every cell as text (empty cells as ''), so that typing is ours, not the reader's guess.

    The index holds each row's spreadsheet row number (the header is row 1); blank lines are not
    customers and are dropped, but keep their numbers so later rows are reported where they are.
    """
    if not path.is_file():
        raise InputFileError(Say(f"no such file: {path}", f"找不到文件:{path}"))
    if path.suffix.lower() not in (".csv", ".txt", ""):
        raise InputFileError(Say(f"{path}: cannot read '{path.suffix}' files yet; save it as CSV (UTF-8)",
                                 f"{path}:暂不支持读取 {path.suffix} 文件;请另存为 CSV(UTF-8)"))
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skip_blank_lines=False)
    except UnicodeDecodeError as exc:
        raise InputFileError(Say(f"{path}: is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as CSV UTF-8",
                                 f"{path}:不是 UTF-8 文本(第 {exc.start} 字节);请另存为 CSV UTF-8")) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(Say(f"{path}: cannot read it as CSV: {exc}", f"{path}:无法按 CSV 读取:{exc}")) from None
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputFileError(Say(f"{path}: the header names a column more than once: {', '.join(duplicated)}; "
                                 "rename one of them", f"{path}:表头中有重名的列:{'、'.join(duplicated)};请改名"))
    table.index = pd.RangeIndex(FIRST_ROW, FIRST_ROW + len(table))
    blank = (table == "").all(axis=1) if len(table.columns) > 1 else pd.Series(False, index=table.index)
    return table[~blank]


def guess_id_column(table: pd.DataFrame, requested: str | None) -> str | None:
    if requested:
        if requested not in table.columns:
            columns = list(map(str, table.columns))
            raise InputFileError(Say(f"no column '{requested}' for --id-column; the file has: {', '.join(columns)}",
                                     f"文件中没有 --id-column 指定的列“{requested}”;文件中的列:{'、'.join(columns)}"))
        return requested
    return next((c for c in ID_COLUMN_GUESSES if c in table.columns), None)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder and rename it into place, so a crash
    or a full disk never leaves a half-written file where a complete one is expected."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_table(table: pd.DataFrame, path: Path) -> None:
    if path.suffix.lower() not in (".csv", ".txt"):
        raise InputFileError(Say(f"{path}: can only write .csv files yet", f"{path}:暂时只能写 .csv 文件"))
    # utf-8-sig so that Excel opens Chinese text correctly.
    atomic_write(path, lambda tmp: table.to_csv(tmp, index=False, encoding="utf-8-sig"))
