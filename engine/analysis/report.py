"""`kece report`: one self-contained HTML page about a customer file's segmentation — a one-screen
summary for a manager (rows in, out and rejected; per scheme its largest segment, unmatched and
conflicts), then per scheme the distribution over rules (an SVG bar chart and the numbers), a
cross-tab of two schemes as a heatmap, unmatched customers, conflicts and customers a scheme does
not apply to, rules no customer hit, and the rejects by reason and by column.

Charts are drawn with matplotlib into inline SVG whose text stays text (svg.fonttype none), so the
reader's browser renders Chinese labels with its own fonts and the page needs no network."""

from __future__ import annotations

import io
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from jinja2 import Environment, FileSystemLoader, select_autoescape  # noqa: E402
from markupsafe import Markup  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from engine.backends.vectorized import OUT_OF_SCOPE, SchemeColumns  # noqa: E402
from engine.errors import Say, UsageError  # noqa: E402
from engine.evaluation.batch import (  # noqa: E402
    CHUNK_ROWS,
    EvaluatedChunk,
    FeatureHook,
    Progress,
    SchemeSummary,
    count_rejected_columns,
    empty_summary,
    evaluate_chunks,
)  # noqa: E402
from engine.evaluation.evaluate import display_label  # noqa: E402
from engine.io.coerce import empty_rejects  # noqa: E402
from engine.io.outputs import check_output_file, refuse_overwrite  # noqa: E402
from engine.io.tables import ChunkWriter, atomic_write, check_output_suffix  # noqa: E402
from engine.messages import t  # noqa: E402
from engine.rules.model import Rulebook, Scheme  # noqa: E402

# text.parse_math off: a rule label such as "$5$ 以上" is text, not a matplotlib formula to parse.
plt.rcParams.update({"svg.fonttype": "none", "font.family": "sans-serif", "font.size": 11, "text.parse_math": False})
TEMPLATES = Path(__file__).parent / "templates"
NOT_APPLICABLE = "!out_of_scope"  # a cross-tab key of its own: out of scope is not unmatched ("")


@dataclass
class ReportData:
    input: Path
    rejects_path: Path | None = None  # where the rejected rows were written, if they were
    rows_in: int = 0
    rows_out: int = 0
    rows_rejected: int = 0
    summaries: list[SchemeSummary] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    cross: tuple[Scheme, Scheme] | None = None
    crosstab: pd.DataFrame | None = None
    reasons: Counter = field(default_factory=Counter)
    # column -> (rows rejected for it, the first reason given); "" for rows rejected as a whole
    columns: dict[str, tuple[int, str]] = field(default_factory=dict)


def collect(rulebook: Rulebook, input_path: Path, *, schemes: Sequence[str] | None = None,
            cross: tuple[str, str] | None = None, encoding: str | None = None, sheet: str | None = None,
            lang: str = "zh", chunk_rows: int = CHUNK_ROWS, domain: str | None = None,
            id_column: str | None = None, features: FeatureHook | None = None, rejects: Path | None = None,
            progress: Progress | None = None, header_row: int | None = None) -> ReportData:
    """Evaluate the file chunk by chunk, keeping only counts (flat memory for any file size); the
    rejected rows are also written to `rejects` when it is given (.csv, .xlsx or .parquet)."""
    if rejects is not None:  # before the work, not after it
        check_output_suffix(rejects)
        check_output_file(rejects)
        refuse_overwrite([input_path], [rejects])
    run = evaluate_chunks(rulebook, input_path, schemes=schemes, id_column=id_column, lang=lang, encoding=encoding,
                          sheet=sheet, chunk_rows=chunk_rows, domain=domain,
                          enrich=features.apply if features else None, header_row=header_row)
    by_id = {scheme.id: scheme for scheme in run.schemes}
    data = ReportData(input_path, rejects_path=rejects, skipped=run.skipped)
    if cross:
        missing = [c for c in cross if c not in by_id]
        if missing:
            raise UsageError(Say(f"--cross names {', '.join(missing)}, which this file does not evaluate; "
                                 f"it evaluates {', '.join(by_id)}",
                                 f"--cross 中的 {'、'.join(missing)} 没有在这个文件上计算;可用:{'、'.join(by_id)}"))
        data.cross = (by_id[cross[0]], by_id[cross[1]])
    summaries = {scheme.id: empty_summary(scheme) for scheme in run.schemes}
    tables = []
    writer = ChunkWriter(rejects) if rejects is not None else None
    try:
        _add_chunks(data, run.chunks, summaries, tables, writer, progress)
        if writer is not None:
            writer.close(empty_rejects())
    except BaseException:
        if writer is not None:
            writer.abandon()
        raise
    data.summaries = list(summaries.values())
    data.columns = dict(sorted(data.columns.items(), key=lambda item: -item[1][0]))
    if data.cross:
        a, b = data.cross
        total = pd.concat(tables).groupby(level=0).sum() if tables else pd.DataFrame()
        order_a, order_b = _outcome_order(a), _outcome_order(b)
        table = total.reindex(index=order_a, columns=order_b, fill_value=0).fillna(0).astype(int)
        # "no match", "conflict" and "not applicable" rows and columns only when someone is in them
        extra = ("", "!conflict", NOT_APPLICABLE)
        keep_rows = [k for k in table.index if k not in extra or table.loc[k].sum()]
        keep_columns = [k for k in table.columns if k not in extra or table[k].sum()]
        data.crosstab = table.loc[keep_rows, keep_columns]
    return data


def _add_chunks(data: ReportData, chunks: Iterable[EvaluatedChunk], summaries: dict[str, SchemeSummary],
                tables: list[pd.DataFrame], writer: ChunkWriter | None, progress: Progress | None) -> None:
    for chunk in chunks:
        for col in chunk.columns.values():
            summaries[col.scheme.id].add(col)
        if data.cross:
            a, b = data.cross
            tables.append(pd.crosstab(_cross_keys(chunk.columns[a.id], a.id), _cross_keys(chunk.columns[b.id], b.id)))
        for reasons in chunk.rejects["reason"]:
            data.reasons.update(str(reasons).split("; "))
        count_rejected_columns(chunk.rejects, data.columns)
        if writer is not None:
            writer.write(chunk.rejects)
        data.rows_in += chunk.rows_in
        data.rows_out += len(chunk.prepared)
        data.rows_rejected += len(chunk.rejects)
        if progress:
            progress(data.rows_in)


def _outcome_order(scheme: Scheme) -> list[str]:
    ids = [b.id for b in scheme.bands] if scheme.hit_policy == "score" else list(scheme.rule_ids)
    return [*ids, "", "!conflict", NOT_APPLICABLE]


def _cross_keys(col: SchemeColumns, name: str) -> pd.Series:
    keys = np.where(col.winner == OUT_OF_SCOPE, NOT_APPLICABLE, col.display)
    return pd.Series(keys, dtype=object, name=name)


def _outcome_name(scheme: Scheme, key: str, lang: str) -> str:
    if key == NOT_APPLICABLE:
        return t(lang, "not_applicable")
    return display_label(scheme, key, lang) if key else t(lang, "unmatched")


def _svg(figure) -> Markup:
    buffer = io.StringIO()
    with warnings.catch_warnings():
        # Text stays text in the SVG and the browser draws it; matplotlib's own fonts lacking CJK
        # glyphs only makes its layout estimate, which it warns about once per glyph.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return Markup(text[text.index("<svg"):])  # drop the XML prologue: the SVG sits inside HTML


def bar_chart(summary: SchemeSummary, lang: str) -> Markup:
    """Shares of the customers the scheme applies to. Customers out of its scope get no bar: a
    bank scheme on a file of mostly dealers would otherwise be a long 不适用 bar beside a few short
    ones; the page says how many they are under the chart."""
    scheme = summary.scheme
    names = [f"{key} · {scheme.outcome_label(key, lang)}" for key in summary.counts]
    values = list(summary.counts.values())
    if summary.unmatched:
        names.append(t(lang, "unmatched"))
        values.append(summary.unmatched)
    if summary.conflicts:
        names.append(t(lang, "conflict"))
        values.append(summary.conflicts)
    shares = [value / summary.applied if summary.applied else 0.0 for value in values]
    figure, axes = plt.subplots(figsize=(7, 0.45 * len(names) + 0.8))
    positions = np.arange(len(names))[::-1]
    axes.barh(positions, shares, color="#3b6ea8")
    axes.set_yticks(positions, names)
    for y, value, share in zip(positions, values, shares, strict=True):
        axes.annotate(f"{share:.1%} ({value:,})", (share, y), xytext=(4, 0), textcoords="offset points", va="center")
    # a collect scheme's shares may add up to more than 1, and a share of 1 needs room for its label
    axes.set_xlim(0, max(1.0, *shares) * 1.15)
    axes.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes.set_xlabel(t(lang, "share_of_applied"))
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def overview(data: ReportData, lang: str) -> list[dict]:
    """Per scheme what a manager reads first: its largest segment with the share of the customers it
    applies to, and how many are unmatched or in conflict."""
    rows = []
    for summary in data.summaries:
        scheme = summary.scheme
        key, count = max(summary.counts.items(), key=lambda item: item[1], default=("", 0))
        rows.append({"scheme": scheme, "summary": summary,
                     "top": f"{key} · {scheme.outcome_label(key, lang)}" if count else "—",
                     "share": count / summary.applied if summary.applied and count else None})
    return rows


def heatmap(data: ReportData, lang: str) -> Markup:
    a, b = data.cross
    table = data.crosstab

    def name(scheme: Scheme, key: str) -> str:
        return _outcome_name(scheme, key, lang)

    figure, axes = plt.subplots(figsize=(1.2 * len(table.columns) + 2.5, 0.55 * len(table.index) + 1.5))
    axes.imshow(table.to_numpy(), cmap="Blues", aspect="auto")
    axes.set_xticks(range(len(table.columns)), [name(b, k) for k in table.columns], rotation=30, ha="right")
    axes.set_yticks(range(len(table.index)), [name(a, k) for k in table.index])
    axes.set_xlabel(b.title.get(lang))
    axes.set_ylabel(a.title.get(lang))
    peak = table.to_numpy().max() or 1
    for (i, j), value in np.ndenumerate(table.to_numpy()):
        axes.text(j, i, f"{value:,}", ha="center", va="center", color="white" if value > peak / 2 else "black")
    return _svg(figure)


def render(data: ReportData, lang: str = "zh", owner_labels: Mapping[str, str] | None = None) -> str:
    """The page. `owner_labels` names the segment owners' roles in `lang` (the playbooks' `owners:`);
    a role it lacks shows as its id."""
    labels = owner_labels or {}

    def owner(scheme: Scheme, key: str) -> str:
        role = scheme.outcome_owner(key)
        return str(labels.get(role, role)) if role else ""

    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    template = environment.get_template("report.html")
    schemes = []
    for summary in data.summaries:
        scheme = summary.scheme
        schemes.append({
            "scheme": scheme, "summary": summary, "chart": bar_chart(summary, lang),
            "rows": [(key, scheme.outcome_label(key, lang), owner(scheme, key), count)
                     for key, count in summary.counts.items()],
            "owners": any(scheme.outcome_owner(key) for key in summary.counts),
            "never": [key for key, count in summary.counts.items() if count == 0],
        })
    cross = None
    if data.cross:
        a, b = data.cross
        cross = {"a": a, "b": b, "chart": heatmap(data, lang), "table": data.crosstab,
                 "label": lambda scheme, key: _outcome_name(scheme, key, lang)}
    columns = [(column or t(lang, "rejected_row_level"), count, reason)
               for column, (count, reason) in data.columns.items()]
    return template.render(data=data, schemes=schemes, cross=cross, lang=lang, t=lambda key, **v: t(lang, key, **v),
                           reasons=data.reasons.most_common(), columns=columns, overview=overview(data, lang))


def write_report(data: ReportData, path: Path, lang: str = "zh", owner_labels: Mapping[str, str] | None = None) -> None:
    check_output_file(path)
    refuse_overwrite([data.input], [path])
    html = render(data, lang, owner_labels)
    atomic_write(path, lambda tmp: tmp.write_text(html, encoding="utf-8"))
