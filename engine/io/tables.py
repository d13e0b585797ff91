"""Reading customer files and writing results: the file-format edge of the batch path.

Every reader returns cells as text ('' for empty), so that typing is ours (engine.io.coerce), not a
reader's guess, and every format reads a value the same way.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import json
import math
import os
import zipfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.errors import InputFileError, Say
from engine.io.arrow_text import float_texts
from engine.io.coerce import REJECT_COLUMNS, empty_rejects
from engine.io.csv_in import csv_chunks
from engine.io.csv_out import csv_rows
from engine.io.outputs import check_output_file, is_formula, neutralise_formulas, write_xlsx
from engine.io.temporary import make_temporary, remove_stale_temporaries
from engine.limits import limits
from engine.rules.model import Scheme

# Spreadsheet row numbers: the header is row 1, so the first customer is row 2.
FIRST_ROW = 2
ID_COLUMN_GUESSES = ("id", "customer_id", "客户编号", "客户ID", "客户id")
# .xls: Excel 97-2003, as older CRM and core-banking systems still export.
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
READ_SUFFIXES = (".csv", ".txt", *EXCEL_SUFFIXES, ".parquet", ".jsonl", ".ndjson")
WRITE_SUFFIXES = (".csv", ".xlsx", ".parquet")
# Tried in order when no --encoding is given: Chinese Excel and CRM exports are often GB18030
# (a superset of GBK and GB2312), which UTF-8 rejects.
ENCODINGS = ("utf-8-sig", "gb18030")
BLOCK = 1 << 24
# How many rows from the top are looked at for a title above the header (a CRM export's report name).
HEADER_LOOKAHEAD = 6


@dataclass
class InputTable:
    """A customer file as text cells; the index holds each row's spreadsheet row number."""

    table: pd.DataFrame
    encoding: str | None = None
    # Rows the reader itself could not read (a broken JSON line), in the rejects file's columns.
    unreadable: pd.DataFrame = field(default_factory=empty_rejects)


def iter_table(path: Path, encoding: str | None = None, sheet: str | None = None, lang: str = "zh",
               chunk_rows: int = 250_000, header_row: int | None = None) -> tuple[str | None, Iterator[InputTable]]:
    """(encoding, chunks): a CSV, Excel, Parquet or JSON Lines file in pieces of at most `chunk_rows`
    rows, so a file larger than memory is read in flat memory (CSV and Parquet stream; Excel and JSON
    Lines come whole). Each chunk's index holds spreadsheet row numbers; blank rows are not customers
    and are dropped, but keep their numbers, so later rows are reported where a spreadsheet shows them.
    `header_row` (CSV and Excel) is the row holding the column names, rows above it are skipped;
    without it the header is row 1, and a row 1 that looks like a title is an error saying so."""
    if not path.is_file():
        raise InputFileError(Say(f"no such file: {path}", f"找不到文件:{path}"))
    suffix = path.suffix.lower()
    if suffix not in READ_SUFFIXES:
        known = ", ".join(READ_SUFFIXES)
        raise InputFileError(Say(f"{path}: cannot read '{suffix}' files; kece reads {known}",
                                 f"{path}:无法读取 {suffix} 文件;kece 可读取 {known}"))
    if header_row is not None and header_row < 1:
        raise InputFileError(Say(f"--header-row is a row number from 1, not {header_row}",
                                 f"--header-row 是从 1 开始的行号,不能是 {header_row}"))
    if header_row not in (None, 1) and suffix not in (".csv", ".txt", *EXCEL_SUFFIXES):
        raise InputFileError(Say(f"{path}: --header-row applies to CSV and Excel files only",
                                 f"{path}:--header-row 只适用于 CSV 和 Excel 文件"))
    if suffix in (".csv", ".txt"):
        used = detect_encoding(path, encoding)
        if header_row is None:
            with path.open(encoding=used, newline="") as handle:
                _check_title_row(path, list(itertools.islice(csv.reader(handle), HEADER_LOOKAHEAD)))
        return used, _csv_chunks(path, used, chunk_rows, header_row or 1)
    if suffix == ".parquet":
        return None, _parquet_chunks(path, chunk_rows)
    if suffix in (".jsonl", ".ndjson"):
        whole = _read_jsonl(path, encoding, lang)
    else:
        whole = InputTable(_read_excel(path, sheet, header_row))
    whole.table = without_blank_rows(whole.table)
    return whole.encoding, iter([whole])


def _check_title_row(path: Path, rows: Sequence[Sequence[object]]) -> None:
    """A CRM export with its report title in row 1 and the column names below: without this, every
    scheme would be skipped for lacking every column, in one long error naming all of them."""
    cells = [[text for text in (cell_text(c).strip() for c in row) if text] for row in rows]
    # one cell, or several beside two or more unnamed columns (which could not be told apart)
    if not cells or not cells[0] or (len(cells[0]) > 1 and len(rows[0]) - len(cells[0]) < 2):
        return
    below = next((number for number, row in enumerate(cells[1:], start=2) if len(row) > max(1, len(cells[0]))),
                 None)
    if below is not None:
        title = ", ".join(cells[0])[:60]
        raise InputFileError(Say(f"{path}: row 1 holds only '{title}', which looks like a title, and the column "
                                 f"names seem to be in row {below}: give --header-row {below}",
                                 f"{path}:第 1 行只有“{title}”,像是标题;列名似乎在第 {below} 行:"
                                 f"请加 --header-row {below}"))


def _check_header(path: Path, header: list[str]) -> None:
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputFileError(Say(f"{path}: the header names a column more than once: {', '.join(duplicated)}; "
                                 "rename one of them", f"{path}:表头中有重名的列:{'、'.join(duplicated)};请改名"))


def detect_encoding(path: Path, encoding: str | None) -> str:
    """The encoding a text file decodes with, checked over the whole file in blocks (flat memory)."""
    for candidate in (encoding,) if encoding else ENCODINGS:
        try:
            decoder = codecs.getincrementaldecoder(candidate)()
        except LookupError:
            raise InputFileError(Say(f"unknown encoding '{encoding}'", f"未知的编码“{encoding}”")) from None
        if codecs.lookup(candidate).name in ("utf-8", "utf-8-sig") and is_utf8(path):
            return candidate
        position = 0  # not UTF-8 (or another encoding): Python's decoder says where it fails
        try:
            with path.open("rb") as handle:
                while block := handle.read(BLOCK):
                    decoder.decode(block)
                    position += len(block)
                decoder.decode(b"", final=True)
            return candidate
        except UnicodeDecodeError as exc:
            failure = position + exc.start
    tried = encoding or " / ".join(ENCODINGS)
    raise InputFileError(Say(f"{path}: cannot be read as {tried} (byte {failure}); give --encoding",
                             f"{path}:无法按 {tried} 读取(第 {failure} 字节);请用 --encoding 指定编码"))


def is_utf8(path: Path) -> bool:
    """Whether a file is UTF-8 throughout, checked by Arrow a block at a time: several times the speed
    of Python's decoder, which read a 10M-row file for a second before any row was evaluated."""
    block = bytearray(BLOCK + 4)
    view, carried = memoryview(block), 0
    with path.open("rb") as handle:
        while read := handle.readinto(view[carried:carried + BLOCK]):
            filled = carried + read
            whole = _whole_characters(view[:filled])
            if not _arrow_utf8(view[:whole]):
                return False
            view[:filled - whole] = view[whole:filled]  # a character cut by the block: checked with the next
            carried = filled - whole
    return _arrow_utf8(view[:carried])


def _whole_characters(data: memoryview) -> int:
    """How many leading bytes of `data` end on a character boundary, judged from its last 4 bytes."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: a character starts here
            needs = 1 if byte < 0x80 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) - back if needs > back else len(data)
    return len(data)  # no start in the last 4 bytes: invalid, as the check will say


def _arrow_utf8(data: memoryview) -> bool:
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int32))
    try:
        pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _csv_chunks(path: Path, encoding: str, chunk_rows: int, header_row: int = 1) -> Iterator[InputTable]:
    with path.open(encoding=encoding, newline="") as handle:
        header = next(itertools.islice(csv.reader(handle), header_row - 1, None), [])
    _check_header(path, header)
    for chunk in csv_chunks(path, encoding, chunk_rows, header_row, header):
        yield InputTable(without_blank_rows(chunk), encoding)


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[InputTable]:
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own error types for broken files
        raise InputFileError(Say(f"{path}: cannot read it as Parquet: {exc}", f"{path}:无法按 Parquet 读取:{exc}")) \
            from None
    _check_header(path, list(parquet.schema_arrow.names))
    start = FIRST_ROW
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        chunk = pd.DataFrame({name: _parquet_text(batch.column(number))
                              for number, name in enumerate(batch.schema.names)})
        chunk.index = pd.RangeIndex(start, start + len(chunk))
        start += len(chunk)
        yield InputTable(without_blank_rows(chunk))
    if start == FIRST_ROW:
        yield InputTable(pd.DataFrame(columns=list(parquet.schema_arrow.names), dtype=str))


def _parquet_text(values: pa.Array) -> pd.Series:
    """A typed Parquet column as the text cell_text gives each value, a column at a time: text as it
    is, whole numbers by Arrow, floats as Python prints them, anything else by its distinct values."""
    kind = values.type
    if pa.types.is_dictionary(kind):
        values, kind = values.cast(kind.value_type), kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = pc.fill_null(values.cast(pa.string()), "")
    elif pa.types.is_integer(kind):
        text = pc.fill_null(pc.cast(values, pa.string()), "")
    elif pa.types.is_float64(kind):
        text = float_texts(values.to_numpy(zero_copy_only=False))
    else:
        try:
            encoded = pc.dictionary_encode(values)
            distinct, positions = encoded.dictionary.to_pylist(), pc.fill_null(encoded.indices, -1)
        except pa.ArrowNotImplementedError:  # lists, structs: one by one
            distinct, positions = values.to_pylist(), pa.array(range(len(values)))
        texts = [cell_text(value) for value in distinct] + [""]
        text = pa.array(texts, pa.string()).take(pc.if_else(pc.less(positions, 0), len(distinct), positions))
    return pd.Series(pd.arrays.ArrowStringArray(text), copy=False).astype("str")


def without_blank_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The table without its rows of empty cells only (they keep their numbers: the index is not reset)."""
    if len(table.columns) <= 1:
        return table
    maybe = (table.iloc[:, 0] == "").to_numpy()  # a blank row starts with an empty cell: look no further
    if not maybe.any():
        return table
    blank = np.zeros(len(table), dtype=bool)
    blank[maybe] = (table[maybe] == "").all(axis=1).to_numpy()
    return table[~blank]


def _read_excel(path: Path, sheet: str | None, header_row: int | None = None) -> pd.DataFrame:
    _check_workbook_size(path)
    try:
        # calamine (Rust) reads a sheet 7x as fast as openpyxl (100,000 rows: 4 s, not 27 s), into the
        # same values, and reads .xls as well. keep_default_na off: cells reach typing as written, and
        # N/A, NA, #N/A… are read as missing there (engine.io.coerce.PLACEHOLDERS) as in a CSV.
        raw = pd.read_excel(path, sheet_name=sheet or 0, header=None, dtype=object, engine="calamine",
                            keep_default_na=False)
    except ValueError as exc:  # an unknown sheet name
        raise InputFileError(Say(f"{path}: {exc}", f"{path}:{exc}(请用 --sheet 指定工作表名)")) from None
    except Exception as exc:  # the reader raises several kinds for a file that is not a workbook
        raise InputFileError(_not_a_workbook(path, exc)) from None
    if raw.empty:
        return pd.DataFrame()
    if header_row is None:
        _check_title_row(path, raw.iloc[:HEADER_LOOKAHEAD].values.tolist())
    top = (header_row or 1) - 1  # raw row 0 is the sheet's row 1
    header = [cell_text(h) for h in raw.iloc[top]] if top < len(raw) else []
    _check_header(path, header)
    body = raw.iloc[top + 1:].apply(_excel_text).astype("str")
    body.columns = header
    body.index = pd.RangeIndex(top + FIRST_ROW, top + FIRST_ROW + len(body))
    return body


# How a real workbook begins: .xlsx/.xlsm are zip files, .xls an OLE compound file.
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def _not_a_workbook(path: Path, exc: Exception) -> Say:
    """Why an Excel file cannot be read, and what to do. Many systems "export to Excel" as an HTML or
    text table named .xls; Excel opens those, so a user does not know the file is not a workbook."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(WORKBOOK_MAGIC):
        return Say(f"{path}: cannot read it as an Excel workbook ({exc}); it may be damaged: open it in Excel "
                   "and save it again as .xlsx",
                   f"{path}:无法按 Excel 工作簿读取({exc});文件可能已损坏:请用 Excel 打开后重新另存为 .xlsx")
    return Say(f"{path}: is not an Excel workbook but text (an export saved as HTML or CSV under an Excel name); "
               "open it in Excel and save it as .xlsx, or rename it .csv if it holds comma-separated lines",
               f"{path}:不是 Excel 工作簿,而是文本(以 Excel 文件名保存的 HTML 或 CSV 导出);"
               "请用 Excel 打开后另存为 .xlsx;如果内容是逗号分隔的行,把扩展名改为 .csv 即可")


def _excel_text(column: pd.Series) -> pd.Series:
    """A sheet's column as text cells: a column of text only (most of an export) as it is, checked in
    one pass; any other written cell by cell (cell_text), which took a second per million cells."""
    return column if pd.api.types.infer_dtype(column, skipna=False) == "string" else column.map(cell_text)


def _check_workbook_size(path: Path) -> None:
    """A sheet is read whole, and an .xlsx is a zip of XML: a small file can expand to gigabytes (a
    zip bomb). Its parts' sizes as the zip declares them are checked before a byte is unzipped."""
    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(part.file_size for part in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        expanded = path.stat().st_size  # .xls is not a zip; a broken file is said so by the reader
    limit = limits().workbook_bytes
    if expanded > limit:
        raise InputFileError(Say(
            f"{path}: the workbook expands to {expanded / 1e6:,.0f} MB, more than the {limit / 1e6:,.0f} MB "
            "KECE_MAX_WORKBOOK_BYTES allows; save the sheet as CSV (read in chunks, in flat memory) or raise the limit",
            f"{path}:工作簿解压后有 {expanded / 1e6:,.0f} MB,超过 KECE_MAX_WORKBOOK_BYTES 允许的 {limit / 1e6:,.0f} MB;"
            "请把工作表另存为 CSV(kece 分块读取 CSV,内存占用平稳),或调高该上限"))


def _read_jsonl(path: Path, encoding: str | None, lang: str) -> InputTable:
    used = detect_encoding(path, encoding)
    text = path.read_text(encoding=used)
    records, unreadable, numbers = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError
        except ValueError:
            reason = Say("not a JSON object", "不是 JSON 对象").get(lang)
            unreadable.append({"row": number, "id": "", "column": "", "value": line[:200], "reason": reason})
            continue
        records.append({key: cell_text(value) for key, value in record.items()})
        numbers.append(number)
    table = pd.DataFrame.from_records(records).fillna("") if records else pd.DataFrame()
    # JSON Lines has no header row: a customer's row number is its line number.
    table.index = pd.Index(numbers, dtype="int64")
    return InputTable(table, used, pd.DataFrame(unreadable, columns=REJECT_COLUMNS) if unreadable else empty_rejects())


def cell_text(value: object) -> str:
    """A typed cell (Excel, Parquet, JSON) as the text a CSV would hold."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):  # pandas Timestamps too
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def apply_aliases(table: pd.DataFrame, schemes: Iterable[Scheme]) -> pd.DataFrame:
    """Rename columns named by an input's alias (`资产规模` for `assets`) or title to the input's name.

    Two columns that would both give one input are an error naming them: kece will not guess.
    """
    renames = header_renames(list(map(str, table.columns)), schemes)
    return table.rename(columns=renames) if renames else table


def header_names(schemes: Iterable[Scheme]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Per input name, the headers that give it: (the name and its declared aliases, its titles).
    A title is what a business user calls the column (资产规模, Credit record), so it works without
    an alias; a title that is another input's name, alias or title names neither."""
    declared: dict[str, list[str]] = {}
    titles: dict[str, list[str]] = {}
    for scheme in schemes:
        for name, decl in scheme.inputs.items():
            names = declared.setdefault(name, [name])
            names += [alias for alias in decl.aliases if alias not in names]
            own = titles.setdefault(name, [])
            if decl.title is not None:
                own += [title for title in (decl.title.zh, decl.title.en) if title and title not in own]
    claimed: dict[str, set[str]] = {}
    for name in declared:
        for header in (*declared[name], *titles[name]):
            claimed.setdefault(header, set()).add(name)
    return {name: (tuple(declared[name]),
                   tuple(t for t in titles[name] if claimed[t] == {name} and t not in declared[name]))
            for name in declared}


def header_renames(columns: Sequence[str], schemes: Iterable[Scheme]) -> dict[str, str]:
    """Header -> input name for the headers (file columns, or a customer's JSON keys) that are an
    input's alias or title; a title counts only when no name or alias of that input is present."""
    present_columns = set(columns)
    renames: dict[str, str] = {}
    for name, (declared, titles) in header_names(schemes).items():
        present = [c for c in declared if c in present_columns] or [c for c in titles if c in present_columns]
        if len(present) > 1:
            raise InputFileError(Say(f"columns {', '.join(present)} would all give input '{name}'; keep one",
                                     f"列 {'、'.join(present)} 都对应输入“{name}”;请只保留一列"))
        if present and present[0] != name:
            if renames.get(present[0], name) != name:
                raise InputFileError(Say(f"column '{present[0]}' is an alias of both '{renames[present[0]]}' "
                                         f"and '{name}'", f"列“{present[0]}”同时是“{renames[present[0]]}”和"
                                         f"“{name}”的别名"))
            renames[present[0]] = name
    return renames


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
    remove_stale_temporaries(path.parent)
    tmp = make_temporary(path)
    try:
        write(tmp)
        _publish(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _publish(tmp: Path, path: Path) -> None:
    # mkstemp makes the file private (0600); give it the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, path)


def check_output_suffix(path: Path) -> None:
    if path.suffix.lower() not in WRITE_SUFFIXES:
        known = ", ".join(WRITE_SUFFIXES)
        raise InputFileError(Say(f"{path}: cannot write '{path.suffix}' files; kece writes {known}",
                                 f"{path}:无法写出 {path.suffix} 文件;kece 可写出 {known}"))


class ChunkWriter:
    """Writes a table chunk by chunk and puts the file in place only when every chunk is written:
    CSV and Parquet stream to a temporary file; Excel (at most ~1M rows anyway) is written at the end.
    CSV cells a spreadsheet would run as formulas are neutralised unless `escape_formulas` is off
    (machine consumers); Excel cells are always text, never formulas."""

    def __init__(self, path: Path, escape_formulas: bool = True) -> None:
        check_output_suffix(path)
        check_output_file(path)
        self.path = path
        self.escape_formulas = escape_formulas
        self.suffix = path.suffix.lower()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path.parent)
        self.tmp = make_temporary(path)
        self.pending: list[pd.DataFrame] = []
        self.parquet: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, table: pd.DataFrame) -> None:
        if self.suffix == ".csv":
            self._write_csv(table)
        elif self.suffix == ".parquet":
            if self.parquet is None:
                # Text columns are strings even when a first chunk holds only empty values.
                schema = pa.schema([(str(name), pa.float64() if pd.api.types.is_float_dtype(dtype)
                                     else pa.int64() if pd.api.types.is_integer_dtype(dtype) else pa.string())
                                    for name, dtype in table.dtypes.items()])
                self.parquet = pq.ParquetWriter(self.tmp, schema)
            batch = pa.Table.from_pandas(table, preserve_index=False)
            self.parquet.write_table(batch.cast(self.parquet.schema))
        else:
            self.pending.append(table)
        self.rows += len(table)

    def _write_csv(self, table: pd.DataFrame) -> None:
        """UTF-8 with a byte-order mark, so that Excel reads Chinese text; rendered by Arrow where it
        can, by pandas otherwise, the same bytes either way."""
        rows = csv_rows(table, self.escape_formulas)
        if rows is None:
            table = neutralise_formulas(table) if self.escape_formulas else table
            table.to_csv(self.tmp, mode="a" if self.rows else "w", header=not self.rows, index=False,
                         encoding="utf-8-sig" if not self.rows else "utf-8")
            return
        with self.tmp.open("ab" if self.rows else "wb") as handle:
            if not self.rows:
                header = io.StringIO()
                names = [str(name) for name in table.columns]
                csv.writer(header, lineterminator="\n").writerow(
                    [f"'{name}" if self.escape_formulas and is_formula(name) else name for name in names])
                handle.write(header.getvalue().encode("utf-8-sig"))
            handle.write(rows)

    def close(self, empty: pd.DataFrame) -> None:
        """Finish the file and put it in place; `empty` gives the columns when no chunk had rows."""
        self.finish(empty)
        self.publish()

    def finish(self, empty: pd.DataFrame) -> None:
        """Complete the temporary file without publishing it: a run that writes results and rejects
        finishes both before publishing either, so a failure never pairs new results with old rejects."""
        if self.rows == 0 and self.suffix != ".xlsx":
            self.write(empty)
        if self.parquet is not None:
            self.parquet.close()
        if self.suffix == ".xlsx":
            whole = pd.concat(self.pending, ignore_index=True) if self.pending else empty
            write_xlsx(whole, self.tmp)

    def publish(self) -> None:
        _publish(self.tmp, self.path)

    def abandon(self) -> None:
        if self.parquet is not None:
            self.parquet.close()
        self.tmp.unlink(missing_ok=True)


class WriteBehind:
    """Writes chunks on one background thread, in order, while the caller reads and types the next
    ones: rendering CSV runs in Arrow and numpy, which release the GIL, so on two cores both go on at
    once. At most `depth` chunks wait; a write's error is raised in the caller at its next call."""

    def __init__(self, depth: int = 2) -> None:
        self.depth = depth
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kece-write")
        self.pending: deque[Future] = deque()

    def submit(self, write: Callable[..., None], *args: object) -> None:
        self.pending.append(self.pool.submit(write, *args))
        while len(self.pending) > self.depth:
            self.pending.popleft().result()

    def finish(self) -> None:
        """Wait for every write; raise the first error."""
        try:
            while self.pending:
                self.pending.popleft().result()
        finally:
            self.pool.shutdown(wait=True)

    def abandon(self) -> None:
        """Stop: drop the writes not started, wait for the one running (its file is then removed)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pending.clear()
