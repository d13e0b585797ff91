"""CSV files in chunks of text cells: Arrow's multi-threaded CSV reader, parsed on a thread of its
own, and pandas' reader for the rows Arrow reads otherwise (more or fewer cells than the header),
from the record where Arrow stopped. Each chunk's index holds the rows' spreadsheet numbers; blank
rows are still in it (engine.io.tables drops them and wraps the chunks)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Full, Queue

import pandas as pd
import pyarrow as pa

from engine.errors import InputFileError, Say

# Bytes Arrow's CSV reader parses at a time (several threads share a block's columns).
ARROW_BLOCK = 1 << 22


def csv_chunks(path: Path, encoding: str, chunk_rows: int, header_row: int,
               header: list[str]) -> Iterator[pd.DataFrame]:
    """The rows below `header` (read from row `header_row`), at most `chunk_rows` at a time, as text."""
    names = [name or f"Unnamed: {number}" for number, name in enumerate(header)]  # as pandas names them
    read = 0
    try:
        for chunk in _arrow_csv_chunks(path, encoding, chunk_rows, header_row, names):
            read += chunk.rows
            yield chunk.table
        return
    except _NotForArrow:
        pass
    # A row with more or fewer cells than the header (or a file Arrow cannot parse): pandas reads on
    # from where Arrow stopped, padding short rows as it always has, or says what is wrong.
    yield from _pandas_csv_chunks(path, encoding, chunk_rows, header_row, header, read)


class _NotForArrow(Exception):
    """Arrow met a row it does not read the way pandas does."""


@dataclass
class _ArrowChunk:
    table: pd.DataFrame
    rows: int  # records read, blank ones included


def _arrow_csv_chunks(path: Path, encoding: str, chunk_rows: int, header_row: int,
                      names: list[str]) -> Iterator[_ArrowChunk]:
    """Typed as text, multi-threaded and streamed by Arrow's CSV reader (several times faster than
    pandas'), made into chunks on a thread of their own; a chunk is only handed on once Arrow has
    read all of it cleanly."""
    return _read_ahead(_arrow_chunks(path, encoding, chunk_rows, header_row, names))


def _arrow_chunks(path: Path, encoding: str, chunk_rows: int, header_row: int,
                  names: list[str]) -> Iterator[_ArrowChunk]:
    import pyarrow.csv as pa_csv

    ragged: list[object] = []

    def note_ragged(row: object) -> str:
        ragged.append(row)
        return "skip"

    try:
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=header_row, block_size=ARROW_BLOCK,
                                            encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False,
                                              invalid_row_handler=note_ragged),
            convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in names},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                  null_values=[]))
        start, pending, count = header_row + 1, [], 0
        for batch in itertools.chain(reader, [None]):
            if ragged:
                raise _NotForArrow
            if batch is not None:
                pending.append(batch)
                count += batch.num_rows
            while pending and (count >= chunk_rows or batch is None):
                whole = pa.Table.from_batches(pending)
                part, rest = whole.slice(0, chunk_rows), whole.slice(chunk_rows)
                pending, count = rest.to_batches(), rest.num_rows
                chunk = part.to_pandas()
                chunk.index = pd.RangeIndex(start, start + len(chunk))
                start += len(chunk)
                yield _ArrowChunk(chunk, len(chunk))
        if start == header_row + 1:  # a header and no rows: still one (empty) chunk to decide on
            yield _ArrowChunk(pd.DataFrame(columns=names, dtype=str), 0)
    except pa.ArrowException:
        raise _NotForArrow from None


def _one_cell_too_many(path: Path, chunk: pd.DataFrame, header: list[str], start: int) -> pd.DataFrame:
    """pandas takes a first row with one cell more than the header for an index column and shifts every
    column by one. A trailing comma on every row (an empty last cell) is read as if it were not there;
    a value in that cell (¥1,200 unquoted) is an error, as a long row further down is."""
    if not (chunk.iloc[:, -1] == "").all():
        raise InputFileError(Say(f"{path}: row {start} has more cells than the header ({len(header)}); a comma "
                                 "inside a value (¥1,200) needs the value in double quotes",
                                 f"{path}:第 {start} 行的单元格比表头({len(header)} 列)多;值里有逗号"
                                 "(如 ¥1,200)时,请给这个值加上英文双引号"))
    cells = [chunk.index.to_numpy(dtype=object)] + [chunk.iloc[:, k].to_numpy() for k in range(len(header) - 1)]
    return pd.DataFrame(dict(zip(header, cells, strict=True)))


def _read_ahead(items: Iterator[_ArrowChunk], depth: int = 2) -> Iterator[_ArrowChunk]:
    """The chunks, read and made on a thread of their own while the caller types and evaluates the
    ones before (Arrow's streaming reader parses only when asked; it and Arrow's conversion to pandas
    release the GIL while they work). An error there is raised here, after the chunks before it."""
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        queue.put(item, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(done)
        except BaseException as exc:  # handed to the caller, raised there
            queue.put(exc)

    worker = threading.Thread(target=produce, name="kece-read", daemon=True)
    worker.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # let a producer blocked on a full queue see the stop
            try:
                queue.get(timeout=0.1)
            except Empty:
                pass


def _pandas_csv_chunks(path: Path, encoding: str, chunk_rows: int, header_row: int, header: list[str],
                       skip: int = 0) -> Iterator[pd.DataFrame]:
    """The CSV read by pandas, leaving out the first `skip` records (read already)."""
    with path.open(encoding=encoding, newline="") as handle:
        try:
            reader = pd.read_csv(handle, dtype=str, keep_default_na=False, skip_blank_lines=False,
                                 chunksize=chunk_rows, skiprows=header_row - 1)
            start = header_row + 1
            for chunk in reader:
                if not isinstance(chunk.index, pd.RangeIndex):
                    chunk = _one_cell_too_many(path, chunk, header, start)
                chunk.index = pd.RangeIndex(start, start + len(chunk))
                start += len(chunk)
                if skip:
                    dropped = min(skip, len(chunk))
                    chunk, skip = chunk.iloc[dropped:], skip - dropped
                    if not len(chunk):
                        continue
                yield chunk
            if start == header_row + 1:
                yield pd.DataFrame(columns=header, dtype=str)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InputFileError(Say(f"{path}: cannot read it as CSV: {exc}",
                                     f"{path}:无法按 CSV 读取:{exc}")) from None
