"""`kece impact`: what a rule change does to real customers. The file is evaluated under the old and
the new rulebook side by side, chunk by chunk (the same rows in each chunk, so memory stays flat),
and each scheme both rulebooks hold gets a migration matrix and the customers who moved. A hook
(plans.impact) sees the moved customers of each chunk to compare their plans."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from engine.analysis.migration import NOT_APPLICABLE, Migration, outcome_order, rule_edits, scheme_pairs
from engine.backends.vectorized import OUT_OF_SCOPE, SchemeColumns
from engine.evaluation.batch import CHUNK_ROWS, EvaluatedChunk, evaluate_chunks
from engine.evaluation.evaluate import display_label
from engine.messages import t
from engine.rules.model import Rulebook


class MovedHook(Protocol):
    """Sees each chunk's customers who moved: `old_at`/`new_at` are the positions of the rows both
    evaluations read in each chunk, `moved[scheme]` which of those rows moved in that scheme."""

    def add(self, old: EvaluatedChunk, new: EvaluatedChunk, old_at: np.ndarray, new_at: np.ndarray,
            moved: dict[str, np.ndarray], migrations: dict[str, Migration]) -> None: ...


@dataclass
class Impact:
    input: Path
    base: str  # how the old rulebook was named (a folder, or REV:path)
    migrations: dict[str, Migration] = field(default_factory=dict)  # every scheme both rulebooks evaluated
    schemes_removed: list[str] = field(default_factory=list)
    schemes_added: list[str] = field(default_factory=list)
    rows_in: int = 0
    rows_compared: int = 0  # rows both rulebooks could read (a row one of them rejects is not compared)
    skipped: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> list[Migration]:
        """Schemes with a rule edit or a customer who moved."""
        return [m for m in self.migrations.values() if m.moved or m.edits]

    @property
    def moved(self) -> int:
        return sum(len(m.moved) for m in self.migrations.values())


def keys(col: SchemeColumns) -> np.ndarray:
    return np.where(col.winner == OUT_OF_SCOPE, NOT_APPLICABLE, col.display).astype(object)


def measure_impact(old: Rulebook, new: Rulebook, input_path: Path, *, base: str = "", lang: str = "zh",
                   id_column: str | None = None, encoding: str | None = None, sheet: str | None = None,
                   domain: str | None = None, enrich: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                   hook: MovedHook | None = None, chunk_rows: int = CHUNK_ROWS) -> Impact:
    """Evaluate `input_path` under both rulebooks and count, per scheme, who moved where."""
    options = dict(id_column=id_column, lang=lang, encoding=encoding, sheet=sheet, chunk_rows=chunk_rows,
                   domain=domain, enrich=enrich)
    before = evaluate_chunks(old, input_path, **options)  # type: ignore[arg-type]
    after = evaluate_chunks(new, input_path, **options)  # type: ignore[arg-type]
    both, removed, added = scheme_pairs(old, new)
    evaluated = {s.id for s in before.schemes} & {s.id for s in after.schemes}
    impact = Impact(input_path, base, schemes_removed=removed, schemes_added=added, skipped=after.skipped)
    for sid in both:
        if sid in evaluated:
            old_scheme, new_scheme = old.by_id[sid], new.by_id[sid]
            labels = {key: display_label(scheme, key, lang) for scheme in (old_scheme, new_scheme)
                      for key in (*scheme.rule_ids, *(b.id for b in scheme.bands))}
            labels.update({"": t(lang, "unmatched"), "!conflict": t(lang, "conflict"),
                           NOT_APPLICABLE: t(lang, "not_applicable")})
            order = dict.fromkeys([*outcome_order(new_scheme), *outcome_order(old_scheme)])
            impact.migrations[sid] = Migration(sid, edits=rule_edits(old_scheme, new_scheme), labels=labels,
                                               order=tuple(order))
    # Both read the same file in chunks of the same size: chunk i of each holds the same rows.
    for one, two in zip(before.chunks, after.chunks, strict=True):
        rows, old_at, new_at = np.intersect1d(one.prepared.rows, two.prepared.rows, return_indices=True)
        ids = one.prepared.ids.to_numpy()[old_at].astype(str)
        moved = {}
        for sid, migration in impact.migrations.items():
            was, now = keys(one.columns[sid])[old_at], keys(two.columns[sid])[new_at]
            migration.add(ids, was, now)
            moved[sid] = was != now
        if hook is not None and any(mask.any() for mask in moved.values()):
            hook.add(one, two, old_at, new_at, moved, impact.migrations)
        impact.rows_in += one.rows_in
        impact.rows_compared += len(rows)
    return impact
