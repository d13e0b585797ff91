"""The page of `kece impact -o impact.html` (and `kece compare -o ….html`): per scheme that changed,
the migration matrix as a heatmap and a table, the rule edits behind it, how the moved customers'
actions change, and the first moved customers; self-contained like the report (inline SVG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from engine.analysis.impact import Impact
from engine.analysis.migration import Migration
from engine.analysis.report import TEMPLATES, _svg, plt
from engine.io.outputs import check_output_file, refuse_overwrite
from engine.io.tables import atomic_write
from engine.messages import t

SHOWN_MOVED = 50  # customers listed per scheme on the page; the moved-customers file has them all


def matrix_heatmap(migration: Migration, lang: str) -> Markup:
    rows, columns = migration.ordered()
    values = np.array([[migration.matrix[r].get(c, 0) for c in columns] for r in rows])
    name = lambda key: migration.labels.get(key, key) or t(lang, "unmatched")  # noqa: E731
    figure, axes = plt.subplots(figsize=(1.2 * len(columns) + 2.5, 0.55 * len(rows) + 1.5))
    # Colour by share of the old result's row: who stayed shows on the diagonal, who left off it.
    shares = values / np.maximum(values.sum(axis=1, keepdims=True), 1)
    axes.imshow(shares, cmap="Blues", aspect="auto", vmin=0, vmax=1)
    axes.set_xticks(range(len(columns)), [name(k) for k in columns], rotation=30, ha="right")
    axes.set_yticks(range(len(rows)), [name(k) for k in rows])
    axes.set_xlabel(t(lang, "impact_new"))
    axes.set_ylabel(t(lang, "impact_old"))
    for (i, j), value in np.ndenumerate(values):
        axes.text(j, i, f"{value:,}", ha="center", va="center", color="white" if shares[i, j] > 0.5 else "black")
    return _svg(figure)


def render_impact(result, title: str, lang: str = "zh") -> str:
    """`result` is an Impact or a Comparison: both hold migrations and the schemes added and removed."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    schemes = []
    for migration in result.changed:
        rows, columns = migration.ordered()
        schemes.append({"m": migration, "chart": matrix_heatmap(migration, lang), "rows": rows, "columns": columns,
                        "moved": migration.moved[:SHOWN_MOVED]})
    return environment.get_template("impact.html").render(
        result=result, title=title, schemes=schemes, lang=lang, is_impact=isinstance(result, Impact),
        t=lambda key, **v: t(lang, key, **v), name=lambda m, key: m.labels.get(key, key) or t(lang, "unmatched"))


def write_impact_page(result, title: str, path: Path, inputs: list[Path], lang: str = "zh") -> None:
    check_output_file(path)
    refuse_overwrite(inputs, [path])
    html = render_impact(result, title, lang)
    atomic_write(path, lambda tmp: tmp.write_text(html, encoding="utf-8"))
