"""`evaluate_spark`: every scheme on every row of a Spark DataFrame, with the file run's own code.

Each executor receives the rules once (a broadcast, unpickled once per Python worker) and runs
`engine.evaluation.batch.evaluate_table` on pieces of its partitions through `mapInPandas` (Arrow):
the same screening of total rows, the same typing and rejects, the same vectorized evaluation as
`kece evaluate FILE`. Repeated customer ids are found over the whole table first (a Spark
aggregation), so every policy (first, last, reject, keep) decides as a file run does, with the same
reasons. Results, rejects and per-piece tallies leave the executors as one DataFrame, kept
(memory and disk) so writing results and rejects and counting them reads the evaluation once.
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engine.backends.scope import domain_column
from engine.errors import Say, UsageError
from engine.evaluation.batch import (
    BatchRun,
    SchemeSummary,
    add_rejected_columns,
    empty_summary,
    evaluate_table,
    results_table,
)
from engine.evaluation.evaluate import alias_schemes, choose_schemes, describe_missing
from engine.io.coerce import REJECT_COLUMNS, empty_rejects
from engine.io.outputs import refuse_overwrite
from engine.io.screen import FOOTER_CELLS, SHOWN_ROWS, KnownDuplicates, check_policy
from engine.io.tables import guess_id_column, header_renames, without_blank_rows
from engine.rules.model import Rulebook, Scheme
from engine.spark.frames import (
    EXTRA,
    ROW,
    Source,
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
    from pyspark.sql import Column, DataFrame

PIECE_ROWS = 100_000  # rows an executor evaluates at once (Arrow hands it 10,000 at a time)
BROADCAST_IDS = 1_000_000  # repeated ids sent to every executor rather than joined by a shuffle
KIND = "__kece_kind"
REJECT = {name: f"__kece_reject_{name}" for name in REJECT_COLUMNS}
T_SCHEME, T_KEY, T_COUNT = "__kece_tally_scheme", "__kece_tally_key", "__kece_tally_count"
FIRST, LAST, SHOWN = "__kece_dup_first", "__kece_dup_last", "__kece_dup_shown"
ID_TEXT = "__kece_id"
ROWS_IN, BLANK = "rows_in", "blank"  # run-wide tallies (scheme '')
UNMATCHED, CONFLICTS, OUT_OF_SCOPE, TOTAL = "!unmatched", "!conflicts", "!out_of_scope", "!total"


@dataclass(frozen=True)
class Plan:
    """What every executor needs: the rules to run and how the pieces are laid out."""

    schemes: list[Scheme]
    id_name: str | None
    columns: list[str]  # the source's columns, renamed by the inputs' aliases, in order
    strings: frozenset[str]  # those Spark holds as text
    lang: str
    policy: str | None  # screening repeated ids with KnownDuplicates (first, last, reject), or not
    extra: bool  # a CSV's column of cells beyond the header
    piece_rows: int = PIECE_ROWS

    @property
    def id_output(self) -> str:
        return self.id_name or "row"

    def result_columns(self) -> list[tuple[str, str]]:
        """(name, Spark type) of the results, as a file run writes them."""
        columns = [(self.id_output, "string")]
        for scheme in self.schemes:
            columns += [(scheme.id, "string"), (f"{scheme.id}.label", "string")]
            if scheme.hit_policy == "score":
                columns.append((f"{scheme.id}.score", "double"))
        return columns

    def output_columns(self) -> list[tuple[str, str]]:
        rejects = [(REJECT[name], "long" if name == "row" else "string") for name in REJECT_COLUMNS]
        return [(KIND, "string"), *self.result_columns(), *rejects,
                (T_SCHEME, "string"), (T_KEY, "string"), (T_COUNT, "long")]


@dataclass
class RepeatedIds:
    """Customer ids on more than one row, over the whole table (what `kece evaluate` warns about)."""

    policy: str
    ids: int = 0
    rejected: int = 0
    first_examples: list[tuple[str, list[int]]] = field(default_factory=list)

    def examples(self, count: int = 3) -> list[tuple[str, list[int]]]:
        return self.first_examples[:count]


@dataclass(frozen=True)
class SparkTally:
    rows_in: int
    rows_out: int
    rows_rejected: int
    summaries: list[SchemeSummary]
    rejected_columns: dict[str, tuple[int, str]]


@dataclass
class SparkEvaluation:
    """The results and rejects of a Spark run (unpack: `results, rejects = evaluate_spark(...)`), what
    was decided from the header, and `check()`, which counts them and proves rows in = out + rejected."""

    results: DataFrame
    rejects: DataFrame
    schemes: list[Scheme]
    skipped: dict[str, list[str]]
    missing: dict[str, Say]
    id_name: str | None
    duplicates: RepeatedIds | None
    evaluated: DataFrame  # results, rejects and tallies together, persisted
    source: DataFrame

    def __iter__(self):
        return iter((self.results, self.rejects))

    def check(self) -> SparkTally:
        from pyspark.sql import functions as F

        tallies = (self.evaluated.where(F.col(KIND) == "tally").groupBy(T_SCHEME, T_KEY)
                   .agg(F.sum(T_COUNT).alias("n")).collect())
        found = {(row[T_SCHEME], row[T_KEY]): int(row["n"]) for row in tallies}
        rows_out, rows_rejected = self.results.count(), self.rejects.count()
        rows_in, blank, source_rows = found.get(("", ROWS_IN), 0), found.get(("", BLANK), 0), self.source.count()
        if rows_in != rows_out + rows_rejected or source_rows != rows_in + blank:
            raise RuntimeError(f"the Spark run lost rows: {source_rows:,} in the source ({blank:,} blank), "
                               f"{rows_in:,} evaluated, {rows_out:,} results + {rows_rejected:,} rejects")
        summaries = []
        for scheme in self.schemes:
            summary = empty_summary(scheme)
            summary.counts = {key: found.get((scheme.id, key), 0) for key in summary.counts}
            summary.unmatched = found.get((scheme.id, UNMATCHED), 0)
            summary.conflicts = found.get((scheme.id, CONFLICTS), 0)
            summary.out_of_scope = found.get((scheme.id, OUT_OF_SCOPE), 0)
            summary.total = found.get((scheme.id, TOTAL), 0)
            summaries.append(summary)
        groups = (self.rejects.groupBy("column")
                  .agg(F.count("*").alias("n"), F.min_by("reason", "row").alias("reason"), F.min("row").alias("at"))
                  .orderBy("at").collect())
        by_column: dict[str, tuple[int, str]] = {}
        add_rejected_columns(((row["column"], int(row["n"]), row["reason"]) for row in groups), by_column)
        most = dict(sorted(by_column.items(), key=lambda item: -item[1][0]))
        return SparkTally(rows_in, rows_out, rows_rejected, summaries, most)

    def unpersist(self) -> None:
        self.evaluated.unpersist()


def evaluate_spark(df: DataFrame, rulebook: Rulebook, schemes: Sequence[str] | None = None, *,
                   id_column: str | None = None, lang: str = "zh", domain: str | None = None,
                   duplicates: str = "first", row_column: str | None = None, first_row: int = 1,
                   piece_rows: int = PIECE_ROWS) -> SparkEvaluation:
    """Evaluate every row of a Spark DataFrame as `kece evaluate` does a file: (results, rejects) as
    Spark DataFrames with the file run's columns. Rejects name each row by its number: `row_column`
    when given, else the DataFrame's order counted from `first_row` (engine.spark.frames)."""
    from pyspark.sql import functions as F

    check_policy(duplicates)
    if ROW not in df.columns:
        df = df.withColumn(ROW, F.col(row_column).cast("long")) if row_column else numbered(df, first_row)
    source_columns = [c for c in df.columns if c not in (ROW, EXTRA)]
    renames = header_renames(source_columns, alias_schemes(rulebook, schemes))
    if renames:
        df = df.withColumnsRenamed(renames)
    columns = [renames.get(c, c) for c in source_columns]
    header = pd.DataFrame(columns=columns)
    id_name = guess_id_column(header, id_column)
    usable, skipped = choose_schemes(rulebook, schemes, columns, domain=domain)
    missing = describe_missing(alias_schemes(rulebook, schemes), skipped, columns) if skipped else {}
    domain_column(columns)  # two domain columns are an error before the work, not in an executor
    strings = frozenset(f.name for f in df.schema.fields if f.dataType.typeName() == "string")
    repeated, annotated = None, df
    if id_name is not None:
        repeated, annotated = _repeated_ids(df, id_name, columns[0], duplicates)
    policy = duplicates if id_name is not None and duplicates != "keep" else None
    plan = Plan(usable, id_name, columns, strings, lang, policy, EXTRA in df.columns, piece_rows)
    spark = df.sparkSession
    shipped, key = spark.sparkContext.broadcast(pickle.dumps(plan)), uuid.uuid4().hex
    schema = ", ".join(f"`{name}` {kind}" for name, kind in plan.output_columns())

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        yield from evaluate_pieces(_unpickled(key, shipped), batches)

    from pyspark import StorageLevel

    evaluated = annotated.mapInPandas(run, schema).persist(StorageLevel.MEMORY_AND_DISK)
    results = evaluated.where(F.col(KIND) == "result").select(*[F.col(f"`{n}`") for n, _ in plan.result_columns()])
    rejects = evaluated.where(F.col(KIND) == "reject").select(*[F.col(REJECT[n]).alias(n) for n in REJECT_COLUMNS])
    return SparkEvaluation(results, rejects, usable, skipped, missing, id_name, repeated, evaluated, df)


_PLANS: dict[str, Plan] = {}


def _unpickled(key: str, shipped) -> Plan:
    """The broadcast plan, unpickled once per Python worker (workers are reused across tasks)."""
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = pickle.loads(shipped.value)
    return plan


def evaluate_pieces(plan: Plan, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """An executor's work on one partition: Arrow batches gathered into pieces of `piece_rows`."""
    pending: list[pd.DataFrame] = []
    size = 0
    for batch in batches:
        pending.append(batch)
        size += len(batch)
        if size >= plan.piece_rows:
            yield evaluate_piece(plan, pd.concat(pending, ignore_index=True))
            pending, size = [], 0
    if pending:
        yield evaluate_piece(plan, pd.concat(pending, ignore_index=True))


def evaluate_piece(plan: Plan, batch: pd.DataFrame) -> pd.DataFrame:
    rows = batch[ROW].to_numpy(dtype=np.int64)
    table = text_cells(batch, plan.columns, plan.strings)
    table.index = pd.Index(rows)
    unreadable = empty_rejects()
    if plan.extra:
        over = batch[EXTRA].notna().to_numpy()
        if over.any():
            unreadable = extra_cell_rejects(table[over], batch.loc[over, EXTRA], plan.id_name, plan.lang)
            table = table[~over]
    kept = without_blank_rows(table)
    screen = None
    if plan.policy is not None:
        marked = batch[FIRST].notna().to_numpy()
        known = pd.DataFrame({"first": batch.loc[marked, FIRST].to_numpy(), "last": batch.loc[marked, LAST].to_numpy(),
                              "shown": batch.loc[marked, SHOWN].to_numpy()}, index=pd.Index(rows[marked]))
        screen = KnownDuplicates(plan.policy, known)
    chunk = evaluate_table(kept, plan.schemes, plan.id_name, plan.lang, "vectorized", screen, unreadable)
    results = results_table(chunk.prepared, chunk.columns, plan.id_output, plan.lang)
    tallies = [("", ROWS_IN, chunk.rows_in), ("", BLANK, len(table) - len(kept))]
    for col in chunk.columns.values():
        summary = empty_summary(col.scheme)
        summary.add(col)
        tallies += [(col.scheme.id, key, count) for key, count in summary.counts.items()]
        tallies += [(col.scheme.id, UNMATCHED, summary.unmatched), (col.scheme.id, CONFLICTS, summary.conflicts),
                    (col.scheme.id, OUT_OF_SCOPE, summary.out_of_scope), (col.scheme.id, TOTAL, summary.total)]
    return _together(plan, results, chunk.rejects, tallies)


def _together(plan: Plan, results: pd.DataFrame, rejects: pd.DataFrame, tallies: list[tuple[str, str, int]]
              ) -> pd.DataFrame:
    """Results, rejects and tallies as one table of the output schema (what each row is in KIND)."""
    sizes = (len(results), len(rejects), len(tallies))
    total = sum(sizes)
    data: dict[str, object] = {KIND: np.repeat(np.array(["result", "reject", "tally"], dtype=object), sizes)}

    def placed(values, start: int, kind: str) -> object:
        if kind == "long":
            column = pd.array([None] * total, dtype="Int64")
            column[start:start + len(values)] = np.asarray(values, dtype=np.int64)
            return column
        column = np.full(total, np.nan if kind == "double" else None, dtype=np.float64 if kind == "double" else object)
        column[start:start + len(values)] = values
        return column

    for name, kind in plan.result_columns():
        data[name] = placed(results[name].to_numpy(), 0, kind)
    for name in REJECT_COLUMNS:
        values = rejects[name].to_numpy() if name == "row" else rejects[name].astype(str).to_numpy(dtype=object)
        data[REJECT[name]] = placed(values, sizes[0], "long" if name == "row" else "string")
    data[T_SCHEME] = placed(np.array([t[0] for t in tallies], dtype=object), sizes[0] + sizes[1], "string")
    data[T_KEY] = placed(np.array([t[1] for t in tallies], dtype=object), sizes[0] + sizes[1], "string")
    data[T_COUNT] = placed([t[2] for t in tallies], sizes[0] + sizes[1], "long")
    return pd.DataFrame(data)


def _stripped(column: Column) -> Column:
    """Python's str.strip() in Spark: Unicode white space and the separators \\x1c-\\x1f."""
    from pyspark.sql import functions as F

    return F.regexp_replace(column, r"(?U)^[\s\x1c-\x1f]+|[\s\x1c-\x1f]+$", "")


def _repeated_ids(df: DataFrame, id_name: str, first_column: str, policy: str) -> tuple[RepeatedIds, DataFrame]:
    """Every id on more than one row (total rows and empty ids aside, as a file run screens them), and
    `df` with each such row's id's first row, last row and first rows shown (for KnownDuplicates)."""
    from pyspark.sql import functions as F

    id_text = F.coalesce(F.col(f"`{id_name}`").cast("string"), F.lit(""))
    footer = _stripped(id_text).isin(list(FOOTER_CELLS))
    if first_column != id_name:
        footer = footer | _stripped(F.coalesce(F.col(f"`{first_column}`").cast("string"), F.lit(""))) \
            .isin(list(FOOTER_CELLS))
    candidates = df.where((id_text != "") & ~footer).select(id_text.alias(ID_TEXT), F.col(ROW))
    groups = (candidates.groupBy(ID_TEXT)
              .agg(F.count("*").alias("n"), F.min(ROW).alias(FIRST), F.max(ROW).alias(LAST),
                   F.slice(F.array_sort(F.collect_list(ROW)), 1, SHOWN_ROWS).alias(SHOWN))
              .where(F.col("n") > 1)
              .persist())
    totals = groups.agg(F.count("*").alias("ids"), F.sum("n").alias("rows")).first()
    ids, rows = int(totals["ids"]), int(totals["rows"] or 0)
    examples = [(row[ID_TEXT], [int(n) for n in row[SHOWN]]) for row in groups.orderBy(FIRST).limit(3).collect()]
    rejected = 0 if policy == "keep" else rows if policy == "reject" else rows - ids
    found = RepeatedIds(policy, ids, rejected, examples)
    if policy == "keep" or ids == 0:
        groups.unpersist()
        return found, df.withColumns({FIRST: F.lit(None).cast("long"), LAST: F.lit(None).cast("long"),
                                      SHOWN: F.lit(None).cast("array<long>")})
    marks = groups.select(F.col(ID_TEXT), FIRST, LAST, SHOWN)
    if ids <= BROADCAST_IDS:
        marks = F.broadcast(marks)
    keyed = df.withColumn(ID_TEXT, F.when((id_text != "") & ~footer, id_text))
    return found, keyed.join(marks, on=ID_TEXT, how="left").drop(ID_TEXT)


# ---- the command ---------------------------------------------------------------------------------

def evaluate_source(rulebook: Rulebook, source: str, output: str | None = None, rejects: str | None = None, *,
                    master: str | None = None, schemes: Sequence[str] | None = None, id_column: str | None = None,
                    lang: str = "zh", domain: str | None = None, duplicates: str = "first",
                    encoding: str | None = None) -> BatchRun:
    """`kece evaluate SOURCE --engine spark`: read a Parquet or CSV path or a table, evaluate on Spark,
    write results and rejects as Parquet, and count them as a file run does."""
    from engine.spark.session import spark_session

    source = source_text(source)
    stem = Path(source.removeprefix("table:").replace(".", "_") if source.startswith("table:")
                else source.rstrip("/")).stem
    output = output or str(Path("kece-out") / f"{stem}.evaluated.parquet")
    rejects = rejects or str(Path(output.rstrip("/")).with_name(f"{Path(output.rstrip('/')).stem}.rejects.parquet"))
    check_parquet_target(output, "--output")
    check_parquet_target(rejects, "--rejects")
    refuse_overwrite([local_path(source)], [local_path(output), local_path(rejects)])
    spark = spark_session(master)
    read: Source = read_source(spark, source, encoding)
    evaluation = evaluate_spark(read.frame, rulebook, schemes, id_column=id_column, lang=lang, domain=domain,
                                duplicates=duplicates)
    try:
        write_parquet(evaluation.results, output)
        write_parquet(evaluation.rejects, rejects)
        tally = evaluation.check()
    finally:
        evaluation.unpersist()
    return BatchRun(Path(source), Path(output), Path(rejects), tally.rows_in, tally.rows_out, tally.rows_rejected,
                    tally.summaries, evaluation.skipped, "vectorized", read.encoding, 1, evaluation.missing,
                    tally.rejected_columns, evaluation.duplicates)  # type: ignore[arg-type]


def refuse_options(given: dict[str, object], lang: str = "zh") -> None:
    """Options a Spark run does not take (a single customer, Excel sheets, the durable backend…): a
    usage error naming them, rather than a run that quietly ignores them."""
    named = [option for option, value in given.items() if value not in (None, False, "")]
    if named:
        raise UsageError(Say(f"--engine spark does not take {', '.join(named)}",
                             f"--engine spark 不支持 {'、'.join(named)}"))
