"""Evaluating a whole customer file: read in chunks, type, evaluate, write results and rejects as
they come, so memory stays flat however large the file; summaries add up over the chunks."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from engine.backends.scope import domain_column, rows_domains
from engine.backends.vectorized import CONFLICTED, OUT_OF_SCOPE, UNMATCHED, SchemeColumns
from engine.errors import Say, UsageError
from engine.evaluation.evaluate import (
    Backend,
    alias_schemes,
    choose_schemes,
    describe_missing,
    display_label,
    evaluate_prepared,
)
from engine.io.coerce import Prepared, empty_rejects, prepare
from engine.io.outputs import check_output_file, refuse_overwrite
from engine.io.screen import DuplicateLog, Duplicates, check_policy, footer_rejects, footer_rows
from engine.io.tables import (
    ChunkWriter,
    WriteBehind,
    apply_aliases,
    check_output_suffix,
    guess_id_column,
    header_names,
    iter_table,
)
from engine.rules.model import Rulebook, Scheme

CHUNK_ROWS = 250_000


class FeatureHook(Protocol):
    """Adds derived features to each chunk (engine.features.derive.CalibratedFeatures); `label` names it."""

    label: str

    def apply(self, table: pd.DataFrame) -> pd.DataFrame: ...
Progress = Callable[[int], None]  # called with the rows read so far


class DuplicateScreen(Protocol):
    """Decides which rows repeating a customer id are evaluated: (rows kept, their rejects) for a piece
    of data (engine.io.screen.DuplicateLog reads a file in order; a Spark run knows every id's rows)."""

    def screen(self, table: pd.DataFrame, id_name: str, lang: str) -> tuple[pd.Series, pd.DataFrame]: ...


@dataclass
class SchemeSummary:
    scheme: Scheme
    counts: dict[str, int]  # outcome id -> customers, in rule (or band) order, zeros included
    unmatched: int = 0
    conflicts: int = 0
    out_of_scope: int = 0  # customers the scheme does not apply to: neither a segment nor unmatched
    total: int = 0  # customers evaluated

    @property
    def applied(self) -> int:
        """Customers in the scheme's scope."""
        return self.total - self.out_of_scope

    def add(self, col: SchemeColumns) -> None:
        scheme = col.scheme
        if scheme.hit_policy == "collect":
            per_rule = col.rule_masks.sum(axis=1)
            found = {rule.id: int(per_rule[rule.index]) for rule in scheme.rules}
        else:
            outcomes = scheme.bands if scheme.hit_policy == "score" else scheme.rules
            hits = np.bincount(col.winner[col.winner >= 0], minlength=len(outcomes))
            found = {item.id: int(hits[item.index]) for item in outcomes}
        for key, count in found.items():
            self.counts[key] += count
        self.unmatched += int((col.winner == UNMATCHED).sum())
        self.conflicts += int((col.winner == CONFLICTED).sum())
        self.out_of_scope += int((col.winner == OUT_OF_SCOPE).sum())
        self.total += len(col)


def empty_summary(scheme: Scheme) -> SchemeSummary:
    outcomes = scheme.bands if scheme.hit_policy == "score" else scheme.rules
    return SchemeSummary(scheme, {item.id: 0 for item in outcomes})


@dataclass(frozen=True)
class BatchRun:
    input: Path
    output: Path
    rejects_path: Path
    rows_in: int
    rows_out: int
    rows_rejected: int
    summaries: list[SchemeSummary]
    skipped: dict[str, list[str]]
    backend: Backend
    encoding: str | None = None
    chunks: int = 1
    missing: dict[str, Say] = field(default_factory=dict)  # input a skipped scheme lacks -> how to say it
    # column -> (rows rejected for it, the first reason given), the columns with most rejects first
    rejected_columns: dict[str, tuple[int, str]] = field(default_factory=dict)
    duplicates: DuplicateLog | None = None


@dataclass
class EvaluatedChunk:
    """One chunk of a file, evaluated: typed rows, results per scheme and the rows that were rejected."""

    prepared: Prepared
    columns: dict[str, SchemeColumns]
    rejects: pd.DataFrame
    rows_in: int
    table: pd.DataFrame  # the chunk as read (aliases applied, features added): names and other columns


@dataclass
class FileEvaluation:
    """What is known from a file's header once its first chunk is read; `chunks` yields the rest."""

    schemes: list[Scheme]
    skipped: dict[str, list[str]]
    id_name: str | None
    encoding: str | None
    chunks: Iterator[EvaluatedChunk]
    domain_column: str | None = None  # the column naming each customer's domain, if any
    missing: dict[str, Say] = field(default_factory=dict)  # input a skipped scheme lacks -> how to say it
    duplicates: DuplicateLog | None = None  # filled in as the chunks are read


def evaluate_chunks(rulebook: Rulebook, input_path: Path, *, schemes: Sequence[str] | None = None,
                    backend: Backend = "vectorized", id_column: str | None = None, lang: str = "zh",
                    encoding: str | None = None, sheet: str | None = None,
                    chunk_rows: int = CHUNK_ROWS, domain: str | None = None,
                    enrich: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                    duplicates: Duplicates = "first", header_row: int | None = None) -> FileEvaluation:
    """Read, type and evaluate a customer file chunk by chunk; the header decides once which
    schemes apply (`domain`: only schemes for it, and those without one) and which column holds ids.
    Total rows (合计) and, by `duplicates`, rows repeating an id are rejected before typing.
    `header_row`: the row holding the column names (CSV and Excel; default 1)."""
    check_policy(duplicates)
    used_encoding, chunks = iter_table(input_path, encoding, sheet, lang, chunk_rows, header_row)
    aliased = alias_schemes(rulebook, schemes)
    first = next(chunks)
    # `enrich` adds derived columns (calibrated features) before the schemes are chosen.
    enrich = enrich or (lambda table: table)
    header = enrich(apply_aliases(first.table, aliased))
    id_name = guess_id_column(header, id_column)
    try:
        usable, skipped = choose_schemes(rulebook, schemes, list(header.columns), domain=domain)
    except UsageError:
        if header_row is None:
            _check_header_below(input_path, header, aliased)
        raise
    missing = describe_missing(aliased, skipped, list(map(str, header.columns))) if skipped else {}
    log = DuplicateLog(duplicates) if id_name else None
    if log is not None and duplicates in ("last", "reject"):  # which row of an id to keep needs all of them
        _, again = iter_table(input_path, encoding, sheet, lang, chunk_rows, header_row)
        log.plan(table.loc[~footer_rows(table, id_name), id_name]
                 for table in (apply_aliases(chunk.table, aliased) for chunk in again))

    def evaluated() -> Iterator[EvaluatedChunk]:
        nonlocal header
        for number, chunk in enumerate(itertools.chain([first], chunks)):
            if number == 0:
                table, header = header, None  # read once, and not kept for the whole run
            else:
                table = enrich(apply_aliases(chunk.table, aliased))
            yield evaluate_table(table, usable, id_name, lang, backend, log, chunk.unreadable)

    domain_name = domain_column(header.columns)
    return FileEvaluation(usable, skipped, id_name, used_encoding, evaluated(), domain_name, missing, log)


def evaluate_table(table: pd.DataFrame, schemes: Sequence[Scheme], id_name: str | None, lang: str = "zh",
                   backend: Backend = "vectorized", duplicates: DuplicateScreen | None = None,
                   unreadable: pd.DataFrame | None = None) -> EvaluatedChunk:
    """One piece of customer data, its columns already renamed by the inputs' aliases (and derived
    features added): total rows (合计) and, through `duplicates`, rows repeating an id are rejected,
    the rest typed (rejecting what does not fit) and evaluated. The index holds the rows' numbers.
    `unreadable`: rows the reader could not read, counted in and rejected. A file run and a Spark
    run (engine.spark) evaluate each of their pieces here, so the two cannot drift apart."""
    unreadable = unreadable if unreadable is not None else empty_rejects()
    rows_in = len(table) + len(unreadable)
    screened = [unreadable] if len(unreadable) else []
    footers = footer_rows(table, id_name)
    if footers.any():
        screened.append(footer_rejects(table, footers, id_name, lang))
        table = table[~footers.to_numpy()]
    if duplicates is not None and id_name is not None:
        keep, repeated = duplicates.screen(table, id_name, lang)
        if len(repeated):
            screened.append(repeated)
            table = table[keep.to_numpy()]
    prepared = prepare(table, schemes, id_name, lang)
    bad = pd.concat([*screened, prepared.rejects], ignore_index=True) if screened else prepared.rejects
    domains = rows_domains(table, prepared.rows)
    return EvaluatedChunk(prepared, evaluate_prepared(prepared, schemes, backend, domains),
                          bad.sort_values("row", kind="stable"), rows_in, table)


def _check_header_below(path: Path, table: pd.DataFrame, schemes: Sequence[Scheme], rows: int = 5) -> None:
    """When no scheme can use the header, a row just below it that holds more of the schemes' column
    names is likely the real header (rows above it: an export's title, its date): say which."""
    known = {header for declared, titles in header_names(schemes).values() for header in (*declared, *titles)}
    found = sum(str(column) in known for column in table.columns)
    for number, row in table.head(rows).iterrows():
        names = sum(str(cell).strip() in known for cell in row)
        if names >= 2 and names > found:
            raise UsageError(Say(f"{path}: row {number} holds more of the rules' column names than the header does; "
                                 f"if it is the header, give --header-row {number}",
                                 f"{path}:第 {number} 行包含的规则列名比表头还多;如果它才是表头,"
                                 f"请加 --header-row {number}"))


def evaluate_file(rulebook: Rulebook, input_path: Path, output: Path | None = None, *,
                  schemes: Sequence[str] | None = None, backend: Backend = "vectorized",
                  id_column: str | None = None, rejects: Path | None = None, lang: str = "zh",
                  encoding: str | None = None, sheet: str | None = None, chunk_rows: int = CHUNK_ROWS,
                  progress: Progress | None = None, domain: str | None = None,
                  features: FeatureHook | None = None, escape_formulas: bool = True,
                  duplicates: Duplicates = "first", header_row: int | None = None) -> BatchRun:
    """Evaluate every row of a customer file (CSV, Excel, Parquet, JSON Lines); rows that cannot
    be read go to the rejects file, written like the output (.csv, .xlsx or .parquet).
    `escape_formulas=False` writes CSV cells exactly as they are, for programs rather than people."""
    output = output or Path("kece-out") / f"{input_path.stem}.evaluated.csv"
    rejects = rejects or output.with_name(f"{output.stem}.rejects{output.suffix}")
    for path in (output, rejects):  # before the work, not after it
        check_output_suffix(path)
        check_output_file(path)
    refuse_overwrite([input_path], [output, rejects])
    run = evaluate_chunks(rulebook, input_path, schemes=schemes, backend=backend, id_column=id_column, lang=lang,
                          encoding=encoding, sheet=sheet, chunk_rows=chunk_rows, domain=domain,
                          enrich=features.apply if features else None, duplicates=duplicates, header_row=header_row)
    summaries = {scheme.id: empty_summary(scheme) for scheme in run.schemes}
    id_name = run.id_name or "row"
    results, rejected = ChunkWriter(output, escape_formulas), ChunkWriter(rejects, escape_formulas)
    rows_in = rows_out = rows_rejected = count = 0
    by_column: dict[str, tuple[int, str]] = {}
    def write(chunk: EvaluatedChunk) -> None:
        out = results_table(chunk.prepared, chunk.columns, id_name, lang)
        if features is not None:  # which calibration gave the calibrated features
            out["calibration"] = features.label
        results.write(out)
        rejected.write(chunk.rejects)

    writes = WriteBehind()
    try:
        for chunk in run.chunks:
            writes.submit(write, chunk)
            for col in chunk.columns.values():
                summaries[col.scheme.id].add(col)
            rows_in += chunk.rows_in
            rows_out += len(chunk.prepared)
            rows_rejected += len(chunk.rejects)
            count_rejected_columns(chunk.rejects, by_column)
            count += 1
            if progress:
                progress(rows_in)
        writes.finish()
        results.finish(pd.DataFrame(columns=_result_columns(run.schemes, id_name)))
        rejected.finish(empty_rejects())
    except BaseException:
        writes.abandon()
        results.abandon()
        rejected.abandon()
        raise
    results.publish()
    rejected.publish()
    most = dict(sorted(by_column.items(), key=lambda item: -item[1][0]))
    return BatchRun(input_path, output, rejects, rows_in, rows_out, rows_rejected, list(summaries.values()),
                    run.skipped, backend, run.encoding, count, run.missing, most, run.duplicates)


def count_rejected_columns(rejects: pd.DataFrame, counts: dict[str, tuple[int, str]]) -> None:
    """Add a chunk's rejects to the rows rejected per column; a row rejected for two columns counts
    for each. Grouped by the distinct column lists, so this is quick however many rows were rejected."""
    firsts = rejects.drop_duplicates("column").set_index("column")["reason"]
    add_rejected_columns(((str(columns), int(rows), str(firsts[columns]))
                          for columns, rows in rejects["column"].value_counts(sort=False).items()), counts)


def add_rejected_columns(groups: Iterable[tuple[str, int, str]], counts: dict[str, tuple[int, str]]) -> None:
    """`count_rejected_columns` from rejects already grouped: (the rejects' column cell, rows, the first
    reason given), in the order the groups were first met."""
    for columns, rows, first_reason in groups:
        reasons = first_reason.split("; ")
        for position, column in enumerate(columns.split("; ") if columns else [""]):
            seen, reason = counts.get(column, (0, reasons[min(position, len(reasons) - 1)]))
            counts[column] = (seen + rows, reason)


def _result_columns(schemes: list[Scheme], id_name: str) -> list[str]:
    columns = [id_name]
    for scheme in schemes:
        columns += [scheme.id, f"{scheme.id}.label"] + ([f"{scheme.id}.score"] if scheme.hit_policy == "score" else [])
    return columns


def results_table(prepared: Prepared, columns: dict[str, SchemeColumns], id_name: str, lang: str) -> pd.DataFrame:
    """One row per evaluated customer: the id, then per scheme its result, label (and score); a
    scheme's columns are categoricals of its few distinct results, never a string per customer."""
    data: dict[str, object] = {id_name: prepared.ids.reset_index(drop=True)}
    for scheme_id, col in columns.items():
        codes, texts = col.display_codes()
        data[scheme_id] = _categorical(texts, codes)
        data[f"{scheme_id}.label"] = _categorical([display_label(col.scheme, text, lang) for text in texts], codes)
        if col.score is not None:
            data[f"{scheme_id}.score"] = col.score
    return pd.DataFrame(data)


def _categorical(texts: list[str], codes: np.ndarray) -> pd.Categorical:
    distinct, position = np.unique(np.array(texts, dtype=object), return_inverse=True)  # two rules may share a label
    return pd.Categorical.from_codes(position[codes], categories=distinct.tolist())
