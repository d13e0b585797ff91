"""Spark DataFrames in and out: a customer or transactions source (a Parquet or CSV path, or a
table `table:db.name`) as a DataFrame with each row's number, its cells as the text a file run
reads, and Parquet written without leaving a half-written output in place.

Row numbers: a Spark DataFrame has none, so kece gives each row one, counted in the order the
source is read (Spark reads a file's splits in order): a CSV's rows from 2, as a spreadsheet shows
them under the header (Spark's CSV reader skips blank lines, so after a blank line in the file the
numbers are one lower than the file's; cells spanning lines are not supported); a Parquet file's
rows from 2, as a file run numbers them; a table's rows from 1. A caller with its own numbering
(a line-number column in the table) names it instead (`row_column`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engine.errors import InputFileError, Say, UsageError
from engine.io.coerce import REJECT_COLUMNS
from engine.io.tables import FIRST_ROW, _check_header, cell_text, detect_encoding

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ROW = "__kece_row"  # each row's number, added to the source
TABLE_PREFIX = "table:"
SPARK_ENCODINGS = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "gb18030": "GB18030", "gbk": "GBK"}


@dataclass(frozen=True)
class Source:
    frame: DataFrame  # the source's columns (all as read) and ROW
    name: str  # as the user gave it
    columns: list[str]  # the source's own columns, in order
    encoding: str | None = None
    path: Path | None = None  # a local file, when it is one


def source_text(source: object) -> str:
    """A source as Spark reads it: a command-line path loses one slash of a URI (hdfs:/nn/x), put back."""
    text = str(source)
    if text.startswith("file:/") and not text.startswith("file:///"):
        return "file:///" + text.removeprefix("file:").lstrip("/")
    return re.sub(r"^([A-Za-z][\w+.-]*):/(?!/)", r"\1://", text)


def is_table(source: str) -> bool:
    return source.startswith(TABLE_PREFIX)


def local_path(source: str) -> Path | None:
    """The local file or folder a source names (a plain path or file://), None for a table or hdfs:// etc."""
    if is_table(source):
        return None
    if source.startswith("file://"):
        return Path(source.removeprefix("file://"))
    return None if "://" in source else Path(source)


def read_source(spark: SparkSession, source: str, encoding: str | None = None,
                row_column: str | None = None) -> Source:
    """The source as a Spark DataFrame of its columns plus ROW, each row's number."""
    path = local_path(source)
    if path is not None and not path.exists():
        raise InputFileError(Say(f"no such file or folder: {source}", f"找不到文件或文件夹:{source}"))
    used = None
    if is_table(source):
        name = source.removeprefix(TABLE_PREFIX)
        try:
            frame, first = spark.table(name), 1
        except Exception as exc:  # AnalysisException: no such table or database
            raise InputFileError(Say(f"no table '{name}' in Spark's catalog: {_first_line(exc)}",
                                     f"Spark 目录中没有表“{name}”:{_first_line(exc)}")) from None
    elif _suffix(source) == ".parquet":
        frame, first = _read(lambda: spark.read.parquet(source), source, "Parquet"), FIRST_ROW
    elif _suffix(source) == ".csv":
        used = detect_encoding(path, encoding) if path is not None and path.is_file() else encoding or "utf-8"
        frame, first = _read_csv(spark, source, used), FIRST_ROW
    else:
        raise InputFileError(Say(f"{source}: --engine spark reads .parquet and .csv paths and table:DB.NAME",
                                 f"{source}:--engine spark 可读取 .parquet、.csv 路径和 table:库名.表名"))
    columns = [c for c in frame.columns if c != EXTRA]
    _check_header(Path(source), columns)
    if row_column is not None:
        if row_column not in columns:
            raise UsageError(Say(f"no column '{row_column}' for the row numbers in {source}",
                                 f"{source} 中没有用作行号的列“{row_column}”"))
        from pyspark.sql import functions as F

        return Source(frame.withColumn(ROW, F.col(row_column).cast("long")), source, columns, used, path)
    return Source(numbered(frame, first), source, columns, used, path)


def _suffix(source: str) -> str:
    return Path(source.rstrip("/")).suffix.lower()


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


def _read(read, source: str, kind: str) -> DataFrame:
    try:
        return read()
    except Exception as exc:  # Spark's AnalysisException for a path it cannot read
        raise InputFileError(Say(f"{source}: cannot read it as {kind}: {_first_line(exc)}",
                                 f"{source}:无法按 {kind} 读取:{_first_line(exc)}")) from None


def _read_csv(spark: SparkSession, source: str, encoding: str) -> DataFrame:
    """Every cell as text, as written (no type guessing, no trimming, "" kept apart from nothing);
    RFC 4180 quoting. A line with more cells than the header is kept whole: its extra cells land in
    a last column, and the row is rejected for it rather than silently cut short."""
    from pyspark.sql.types import StringType, StructField, StructType

    options = {"encoding": SPARK_ENCODINGS.get(encoding.lower(), encoding), "quote": '"', "escape": '"',
               "mode": "PERMISSIVE"}
    first = _read(lambda: spark.read.options(header=False, **options).csv(source).first(), source, "CSV")
    if first is None:
        raise InputFileError(Say(f"{source}: the file is empty", f"{source}:文件是空的"))
    header = [str(cell or "") for cell in first]
    header[0] = header[0].removeprefix("\ufeff")  # a UTF-8 byte order mark (Excel writes one)
    schema = StructType([StructField(name, StringType()) for name in [*header, EXTRA]])
    return spark.read.options(header=True, enforceSchema=True, **options).schema(schema).csv(source)


EXTRA = "__kece_extra_cells"  # a CSV line's cells beyond the header's


def numbered(frame: DataFrame, first: int) -> DataFrame:
    """`frame` with ROW: first, first + 1, … in the order its partitions are read. Two passes over the
    source (one counts each partition's rows) and no shuffle: monotonically_increasing_id holds the
    partition in its upper bits and the position within it in the lower 33."""
    from pyspark.sql import functions as F

    marked = frame.withColumn(ROW, F.monotonically_increasing_id())
    if frame.rdd.getNumPartitions() == 1:  # a small source: positions are the numbers, no counting pass
        return marked.withColumn(ROW, F.col(ROW) + F.lit(first))
    counts = dict(marked.groupBy(F.shiftright(ROW, 33).alias("part")).count().collect())
    offsets, total = [], 0
    for part in range(max(counts, default=-1) + 1):
        offsets.append(total)
        total += counts.get(part, 0)
    if not offsets:
        return marked.withColumn(ROW, F.col(ROW) + F.lit(first))
    start = F.element_at(F.array(*[F.lit(o) for o in offsets]), (F.shiftright(ROW, 33) + 1).cast("int"))
    return marked.withColumn(ROW, start + F.col(ROW).bitwiseAND(F.lit((1 << 33) - 1)) + F.lit(first))


def text_cells(batch: pd.DataFrame, columns: list[str], strings: set[str]) -> pd.DataFrame:
    """A batch's cells as the text a file run reads (engine.io.tables.cell_text, as for Parquet); text
    columns only have their nulls made ''."""
    out = {}
    for name in columns:
        column = batch[name]
        if name in strings:
            values = column.astype(object).to_numpy()
            out[name] = np.where(pd.isna(values), "", values).astype(object)
        else:
            out[name] = column.astype(object).map(cell_text).to_numpy()
    return pd.DataFrame(out, index=batch.index)


def extra_cell_rejects(table: pd.DataFrame, extra: pd.Series, id_name: str | None, lang: str) -> pd.DataFrame:
    """CSV lines with more cells than the header, rejected whole with their cells (never cut short)."""
    cells = table.astype(str).agg(",".join, axis=1) + "," + extra.astype(str).to_numpy()
    reason = Say("more cells than the header has", "单元格比表头的列多").get(lang)
    return pd.DataFrame({"row": table.index.to_numpy(dtype=np.int64), "id": table[id_name].to_numpy() if id_name
                         else "", "column": "", "value": cells.str.slice(0, 200).to_numpy(), "reason": reason},
                        columns=REJECT_COLUMNS)


def write_parquet(frame: DataFrame, target: str) -> None:
    """Write `frame` as a Parquet folder; a local target is written beside it and renamed into place,
    so a failed run never leaves part of an output where a whole one is expected."""
    path = local_path(target)
    if path is None:
        frame.write.mode("overwrite").parquet(target)
        return
    path = path.absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        frame.write.mode("overwrite").parquet(str(staging / "out"))
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        os.replace(staging / "out", path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_parquet_target(target: str, option: str) -> None:
    if _suffix(target) != ".parquet":
        raise UsageError(Say(f"{option} {target}: with --engine spark kece writes Parquet (a folder named *.parquet)",
                             f"{option} {target}:使用 --engine spark 时 kece 写出 Parquet(名为 *.parquet 的文件夹)"))
