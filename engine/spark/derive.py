"""`kece derive --engine spark`: transactions to one row per customer on Spark, with the
single-machine code on every piece, so the features are the same as `kece derive FILE`.

1. Typing (mapInPandas): each piece of transactions is typed and screened by
   `engine.features.transactions.parse_transactions`: the same rejects, reasons and row numbers.
2. The as-of day: given, or the last readable date (a Spark max).
3. Per customer (applyInPandas over hash buckets of the customer id): a bucket holds all of its
   customers' transactions, put back in file order, and `base_features` aggregates them as a file run
   does — the same sums in the same order, to the last bit.
4. Calibration, when none is given: the cut-points are exact. Spark finds the order statistics the
   quantiles need (a count per distinct value and a running total over them), and
   `interpolated_cuts` interpolates between them as numpy does; the value pyramid's thresholds are
   order statistics too. No `approxQuantile`: its error bound would move customers across cut-points.
5. The output rows (mapInPandas over the customers in id order): `features_table`, as a file run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engine.errors import Say, UsageError
from engine.features import calibration as cal
from engine.features.derive import DeriveRun, features_table
from engine.features.featureset import FeatureSet
from engine.features.transactions import (
    Transactions,
    base_features,
    day_to_date,
    find_columns,
    is_whitespace_header,
    parse_as_of,
    parse_transactions,
    whitespace_rows,
)
from engine.io.coerce import LAST_DAY, REJECT_COLUMNS, empty_rejects
from engine.io.outputs import refuse_overwrite
from engine.spark.frames import (
    EXTRA,
    ROW,
    check_parquet_target,
    extra_cell_rejects,
    local_path,
    numbered,
    read_source,
    source_text,
    text_cells,
    write_parquet,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

KIND = "__kece_kind"
REJECT = {name: f"__kece_reject_{name}" for name in REJECT_COLUMNS}
LINE = "value"  # spark.read.text's column
BUCKET = "__kece_bucket"
RANKED = "__kece_pyramid_value"
BASE_LONG = ("last_date", "first_date", "transaction_count", "days_since_last", "days_since_first")
BASE_DOUBLE = ("amount_sum", "spend_last_period", "spend_prev_period", "amount_mean", "spend_trend")


@dataclass(frozen=True)
class TypingPlan:
    columns: dict[str, str]  # kece column -> the source's column
    source_columns: list[str]
    strings: frozenset[str]
    whitespace_header: list[str] | None  # a whitespace-separated .txt file: its header's fields
    as_of: int  # LAST_DAY when the as-of day comes from the data
    lang: str


@dataclass
class SparkDerivation:
    features: DataFrame  # one row per customer, the columns of `kece derive`'s output
    rejects: DataFrame
    calibration: cal.Calibration
    fitted: bool
    as_of: int
    rows_in: int
    rows_used: int
    rows_rejected: int
    customers: int
    kept: list[DataFrame]

    def __iter__(self):
        return iter((self.features, self.rejects))

    def unpersist(self) -> None:
        for frame in self.kept:
            frame.unpersist()


def read_transactions(spark: SparkSession, source: str, encoding: str | None = None
                      ) -> tuple[DataFrame, list[str], list[str] | None]:
    """(the source with ROW, its columns, the header of a whitespace-separated .txt or None)."""
    from pyspark.sql import functions as F

    path = local_path(source)
    if source.lower().rstrip("/").endswith(".txt"):
        if path is not None and not path.exists():
            from engine.errors import InputFileError

            raise InputFileError(Say(f"no such file: {source}", f"找不到文件:{source}"))
        lines = spark.read.text(source)
        first = lines.first()
        header_line = (first[LINE] if first else "").removeprefix("\ufeff")
        if not is_whitespace_header(header_line):
            raise UsageError(Say(f"{source}: with --engine spark a .txt file is read as whitespace-separated "
                                 "columns (as CDNOW_master.txt); save a comma-separated file as .csv",
                                 f"{source}:使用 --engine spark 时 .txt 文件按空白分隔读取"
                                 "(如 CDNOW_master.txt);逗号分隔的文件请存为 .csv"))
        header = header_line.split()
        return numbered(lines, 1).where(F.col(ROW) > 1), header, header
    read = read_source(spark, source, encoding)
    return read.frame, read.columns, None


def derive_spark(frame: DataFrame, features: FeatureSet, *, columns: list[str], whitespace_header: list[str] | None,
                 as_of: str | None = None, calibration: cal.Calibration | None = None, lang: str = "zh",
                 input_name: str = "", content_sha256: str = "", buckets: int | None = None) -> SparkDerivation:
    """Base and calibrated features per customer from transactions with ROW (read_transactions)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    spark = frame.sparkSession
    found = find_columns(pd.DataFrame(columns=columns), features, Path(input_name or "input"))
    strings = frozenset(f.name for f in frame.schema.fields if f.dataType.typeName() == "string")
    given = parse_as_of(as_of) if as_of else None
    plan = TypingPlan(found, columns, strings, whitespace_header, LAST_DAY if given is None else given, lang)
    quantity = "quantity" in found
    typed_schema = ", ".join([f"{KIND} string", f"{ROW} long", "customer_id string", "day long", "amount double",
                              "quantity double", *(f"{REJECT[n]} {'long' if n == 'row' else 'string'}"
                                                   for n in REJECT_COLUMNS), "rows_in long"])
    typed = frame.mapInPandas(lambda batches: _type_pieces(plan, batches), typed_schema) \
        .persist(StorageLevel.MEMORY_AND_DISK)
    kept = [typed]
    good = typed.where(F.col(KIND) == "tx")
    rejects = typed.where(F.col(KIND) == "reject").select(*[F.col(REJECT[n]).alias(n) for n in REJECT_COLUMNS])
    totals = typed.agg(F.sum("rows_in").alias("rows_in"), F.count(F.when(F.col(KIND) == "tx", 1)).alias("used"),
                       F.count(F.when(F.col(KIND) == "reject", 1)).alias("rejected"),
                       F.max(F.when(F.col(KIND) == "tx", F.col("day"))).alias("last")).first()
    rows_in, used, rejected = int(totals["rows_in"] or 0), int(totals["used"]), int(totals["rejected"])
    if rows_in != used + rejected:
        raise RuntimeError(f"the Spark run lost transactions: {rows_in:,} in, {used:,} used + {rejected:,} rejected")
    if given is None and totals["last"] is None:
        raise UsageError(Say("no readable transactions: cannot take the as-of date from the file; give --as-of",
                             "没有可读的交易:无法从文件确定基准日;请用 --as-of 指定"))
    as_of_day = given if given is not None else int(totals["last"])
    parts = buckets or int(spark.conf.get("spark.sql.shuffle.partitions") or 200)
    base_schema = ", ".join(["customer_id string", *(f"{c} long" for c in BASE_LONG),
                             *(f"{c} double" for c in BASE_DOUBLE), "quantity_sum double", "churn_flag boolean",
                             f"{RANKED} double"])
    params = features.parameters
    base = (good.withColumn(BUCKET, F.pmod(F.xxhash64("customer_id"), F.lit(parts)))
            .groupBy(BUCKET)
            .applyInPandas(lambda piece: _base_features(piece, as_of_day, features, quantity), base_schema)
            .persist(StorageLevel.MEMORY_AND_DISK))
    kept.append(base)
    customers = base.count()
    fitted = calibration is None
    if calibration is None:
        calibration = _fit(base, params, input_name=input_name, content_sha256=content_sha256,
                           as_of=day_to_date(as_of_day).isoformat(), transactions=used)
    sample = _dummy_base(quantity)
    out_columns = features_table(sample, features, calibration)
    out_schema = ", ".join(f"`{name}` {_spark_type(out_columns[name])}" for name in out_columns.columns)
    shown = calibration
    derived = base.orderBy("customer_id").mapInPandas(
        lambda batches: (_features_piece(piece, features, shown, quantity) for piece in batches), out_schema)
    return SparkDerivation(derived, rejects, calibration, fitted, as_of_day, rows_in, used, rejected, customers, kept)


def _spark_type(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_float_dtype(column):
        return "double"
    if pd.api.types.is_integer_dtype(column):
        return "long"
    return "string"


def _type_pieces(plan: TypingPlan, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    for batch in batches:
        rows = batch[ROW].to_numpy(dtype=np.int64)
        unreadable = empty_rejects()
        if plan.whitespace_header is not None:
            lines = zip(rows.tolist(), batch[LINE].fillna(""), strict=True)
            table, unreadable = whitespace_rows(plan.whitespace_header, lines, plan.lang)
        else:
            table = text_cells(batch, plan.source_columns, plan.strings)
            table.index = pd.Index(rows)
            if EXTRA in batch.columns:
                over = batch[EXTRA].notna().to_numpy()
                if over.any():
                    unreadable = extra_cell_rejects(table[over], batch.loc[over, EXTRA], plan.columns["customer_id"],
                                                    plan.lang)
                    table = table[~over]
            if len(table.columns) > 1:  # blank rows are not transactions (engine.io.tables)
                table = table[~(table == "").all(axis=1)]
        if not len(table) and not len(unreadable):
            continue
        tx, _ = parse_transactions(table, plan.columns, unreadable, plan.as_of, plan.lang)
        used_rows = table.index.to_numpy(dtype=np.int64)
        used_rows = used_rows[~np.isin(used_rows, tx.rejects["row"].to_numpy())]
        yield _typed_frame(tx, used_rows)


def _typed_frame(tx: Transactions, rows: np.ndarray) -> pd.DataFrame:
    n, m = len(tx.day), len(tx.rejects)
    total = n + m + 1

    def strings(values: object, start: int) -> np.ndarray:
        column = np.full(total, None, dtype=object)
        column[start:start + (len(values) if hasattr(values, "__len__") else 0)] = values  # type: ignore[arg-type]
        return column

    def numbers(values: np.ndarray, start: int, kind: str) -> object:
        if kind == "long":
            column = pd.array([None] * total, dtype="Int64")
        else:
            column = np.full(total, np.nan)
        column[start:start + len(values)] = values
        return column

    data = {KIND: np.array(["tx"] * n + ["reject"] * m + ["count"], dtype=object),
            ROW: numbers(rows, 0, "long"),
            "customer_id": strings(tx.customer_id.astype(str).to_numpy(dtype=object), 0),
            "day": numbers(tx.day, 0, "long"),
            "amount": numbers(tx.amount, 0, "double"),
            "quantity": numbers(tx.quantity if tx.quantity is not None else np.full(n, np.nan), 0, "double")}
    for name in REJECT_COLUMNS:
        values = tx.rejects[name].to_numpy(dtype=np.int64) if name == "row" else \
            tx.rejects[name].astype(str).to_numpy(dtype=object)
        data[REJECT[name]] = numbers(values, n, "long") if name == "row" else strings(values, n)
    data["rows_in"] = numbers(np.array([tx.rows_in]), n + m, "long")
    return pd.DataFrame(data)


def _base_features(piece: pd.DataFrame, as_of: int, features: FeatureSet, quantity: bool) -> pd.DataFrame:
    """One bucket's customers: their transactions in file order, aggregated by `base_features`."""
    piece = piece.sort_values(ROW, kind="stable")
    tx = Transactions(piece["customer_id"].astype(object).reset_index(drop=True),
                      piece["day"].to_numpy(dtype=np.int64), piece["amount"].to_numpy(dtype=np.float64),
                      piece["quantity"].to_numpy(dtype=np.float64) if quantity else None, empty_rejects(), len(piece))
    base = base_features(tx, as_of, features)
    params = features.parameters
    ranked = cal.ranked_for_pyramid(params, base["days_since_last"].to_numpy(dtype=np.float64),
                                    base["amount_sum"].to_numpy(dtype=np.float64),
                                    base["days_since_first"].to_numpy(dtype=np.float64))
    out = {"customer_id": base.index.to_numpy(dtype=object)}
    out.update({c: base[c].to_numpy(dtype=np.int64) for c in BASE_LONG})
    out.update({c: base[c].to_numpy(dtype=np.float64) for c in BASE_DOUBLE})
    out["quantity_sum"] = base["quantity_sum"].to_numpy(dtype=np.float64) if quantity else np.full(len(base), np.nan)
    out["churn_flag"] = base["churn_flag"].to_numpy(dtype=bool)
    out[RANKED] = ranked
    return pd.DataFrame(out)


def _as_base(piece: pd.DataFrame, quantity: bool) -> pd.DataFrame:
    """A piece of the customers table as `base_features` returned it (index customer_id)."""
    base = piece.drop(columns=[RANKED]).set_index("customer_id")
    base.index.name = "customer_id"
    if not quantity:
        base = base.drop(columns=["quantity_sum"])
    for column in BASE_LONG:
        base[column] = base[column].astype(np.int64)
    base["churn_flag"] = base["churn_flag"].astype(bool)
    return base


def _dummy_base(quantity: bool) -> pd.DataFrame:
    piece = pd.DataFrame({"customer_id": ["x"], **{c: [1] for c in BASE_LONG}, **{c: [1.0] for c in BASE_DOUBLE},
                          "quantity_sum": [1.0], "churn_flag": [False], RANKED: [1.0]})
    return _as_base(piece, quantity)


def _features_piece(piece: pd.DataFrame, features: FeatureSet, calibration: cal.Calibration,
                    quantity: bool) -> pd.DataFrame:
    return features_table(_as_base(piece, quantity), features, calibration)


def order_statistics(frame: DataFrame, column: str, ranks: list[int]) -> dict[int, float]:
    """The values at `ranks` (from 0) of `column` sorted ascending, NaN and nulls left out: exact, from a
    count per distinct value and a running total over the distinct values."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if not ranks:
        return {}
    values = frame.where(F.col(column).isNotNull() & ~F.isnan(column)).groupBy(column).count()
    running = Window.orderBy(column).rowsBetween(Window.unboundedPreceding, Window.currentRow)
    totals = values.withColumn("upto", F.sum("count").over(running))
    wanted = F.lit(False)
    for rank in ranks:
        wanted = wanted | ((F.col("upto") - F.col("count") <= rank) & (F.col("upto") > rank))
    found = totals.where(wanted).collect()
    out = {}
    for rank in ranks:
        row = next(r for r in found if r["upto"] - r["count"] <= rank < r["upto"])
        out[rank] = float(row[column])
    return out


def _fit(base: DataFrame, params, *, input_name: str, content_sha256: str, as_of: str,
         transactions: int) -> cal.Calibration:
    """`cal.fit` on the customers table: recency, frequency and spend quantiles and the pyramid's
    thresholds over the finite values, from exact order statistics."""
    from pyspark.sql import functions as F

    names = ("days_since_last", "transaction_count", "amount_sum", RANKED)
    figures = base.select(*[F.col(c).cast("double").alias(c) for c in names]).persist()
    try:
        counts = figures.agg(*[F.count(F.when(F.col(c).isNotNull() & ~F.isnan(c), 1)).alias(c) for c in names]).first()

        def cuts(column: str) -> tuple[float, ...]:
            return cal.interpolated_cuts(int(counts[column]), params.rfm_bins,
                                         lambda ranks: order_statistics(figures, column, ranks))

        rfm = cal.RfmCuts(params.rfm_bins, *(cuts(c) for c in names[:3]))
        ranked = int(counts[RANKED])
        ranks = cal.pyramid_ranks(ranked, tuple(params.pyramid_shares))
        values = order_statistics(figures, RANKED, sorted(set(ranks))) if ranked else {}
        pyramid = tuple(values[r] for r in ranks) if ranked else tuple(0.0 for _ in ranks)
    finally:
        figures.unpersist()
    return cal.calibration_from_cuts(rfm, pyramid, params, customers=int(counts["amount_sum"]),
                                     input_name=input_name, content_sha256=content_sha256, as_of=as_of,
                                     transactions=transactions)


# ---- the command ---------------------------------------------------------------------------------

def derive_source(source: str, output: str, features: FeatureSet, *, master: str | None = None,
                  as_of: str | None = None, calibration: cal.Calibration | None = None, rejects: str | None = None,
                  encoding: str | None = None, lang: str = "zh") -> DeriveRun:
    """`kece derive SOURCE --engine spark`: features per customer and the rejects, as Parquet."""
    from engine.spark.session import spark_session

    source = source_text(source)
    rejects = rejects or str(Path(output.rstrip("/")).with_name(f"{Path(output.rstrip('/')).stem}.rejects.parquet"))
    check_parquet_target(output, "--output")
    check_parquet_target(rejects, "--rejects")
    path = local_path(source)
    refuse_overwrite([path], [local_path(output), local_path(rejects)])
    if as_of:
        parse_as_of(as_of)  # a mistyped date before Spark starts
    spark = spark_session(master)
    frame, columns, header = read_transactions(spark, source, encoding)
    name = Path(source.rstrip("/")).name if path is not None else source
    sha = cal.file_sha256(path) if path is not None and path.is_file() else \
        hashlib.sha256(source.encode()).hexdigest()
    run = derive_spark(frame, features, columns=columns, whitespace_header=header, as_of=as_of,
                       calibration=calibration, lang=lang, input_name=name, content_sha256=sha)
    try:
        write_parquet(run.features, output)
        write_parquet(run.rejects, rejects)
    finally:
        run.unpersist()
    return DeriveRun(Path(output), Path(rejects), run.rows_in, run.rows_used, run.rows_rejected, run.customers,
                     day_to_date(run.as_of).isoformat(), as_of is not None, run.calibration, run.fitted)
