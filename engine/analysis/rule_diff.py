"""What a rule change changes, with no customer file: `kece check --base REV`. For a scheme in both
rulebooks, the boundaries both versions' tests mention cut each input into atoms (regions.atoms_for);
one customer per cell of their product is evaluated under each version, and the cells whose result
differs are the regions of customers the change moves. (kece impact counts real customers.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from engine.analysis.regions import atoms_for, grid_cells, typed_column
from engine.backends.vectorized import OUT_OF_SCOPE, ColumnView, all_tests_mask, evaluate_frame
from engine.rules.model import Input, Rulebook, Scheme
from engine.rules.unary import UnaryTest

Status = Literal["changed", "same", "new", "gone"]


@dataclass(frozen=True)
class SchemeDiff:
    scheme_id: str
    status: Status
    changed: int = 0  # cells whose result differs
    cells: int = 0
    sampled: bool = False


def analysis_difference(old: Rulebook, new: Rulebook) -> list[SchemeDiff]:
    """Per scheme of either rulebook, in the new one's order (then removed ones): how many cells of
    the exact analysis change result."""
    diffs = []
    for scheme in new.schemes:
        before = old.by_id.get(scheme.id)
        diffs.append(_compare(before, scheme) if before is not None else SchemeDiff(scheme.id, "new"))
    diffs += [SchemeDiff(scheme.id, "gone") for scheme in old.schemes if scheme.id not in new.by_id]
    return diffs


def _compare(old: Scheme, new: Scheme) -> SchemeDiff:
    tests: dict[str, list[UnaryTest]] = {}
    for scheme in (old, new):
        for test in (*(t for rule in scheme.rules for t in rule.tests), *scheme.scope.tests):
            tests.setdefault(test.input, []).append(test)
    decls: list[Input] = []
    for name in sorted(tests):
        versions = [s.inputs[name] for s in (new, old) if name in s.inputs]
        if len({(d.type, d.values) for d in versions}) > 1:
            # The input's type or values changed: every customer's reading of it may differ.
            return SchemeDiff(new.id, "changed", 1, 1)
        decls.append(versions[0])
    atoms = [atoms_for(decl, tests[decl.name]) for decl in decls]
    cells, sampled = grid_cells([len(a) for a in atoms]) if decls else (np.zeros((1, 0), dtype=np.int64), False)
    columns = {d.name: typed_column(d, a, cells[:, k]) for k, (d, a) in enumerate(zip(decls, atoms, strict=True))}
    view, n = ColumnView(columns), len(cells)
    before, after = (_outcomes(s, columns, view, n) for s in (old, new))
    changed = int((before != after).sum())
    return SchemeDiff(new.id, "changed" if changed else "same", changed, n, sampled)


def _outcomes(scheme: Scheme, columns, view: ColumnView, n: int) -> np.ndarray:
    """Each cell's result as output shows it, out of scope told apart from unmatched."""
    inside = all_tests_mask(scheme.scope.tests, view, n)
    evaluated = evaluate_frame(scheme, columns, n).restricted(inside)
    return np.where(evaluated.winner == OUT_OF_SCOPE, "\0out", evaluated.display.astype(str))
