"""Static analysis of a scheme, as DMN decision-table analysers do: overlaps, gaps, unreachable
rules and contradictions, each with a concrete customer.

Every test speaks about one input, so the boundaries that all tests of an input mention cut its
domain into atoms (points, the open runs between them, each enum value, missing) on which every
test is constant. The product of the inputs' atoms is then an exact partition of all customers:
evaluating one representative customer per cell, with the vectorized engine, answers every
question exactly. Only customers in the scheme's scope count: a region its `scope.when` excludes
is no gap, and a rule that only customers out of scope would match never matches. (The domain
part of a scope is a column outside the inputs and changes none of this.) Findings are stated
as regions (unions of boxes of atoms) and one customer, whose result is re-checked against the
reference meaning before it is reported.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from engine.analysis.conditions import Condition, describe_atoms
from engine.backends.results import resolve
from engine.backends.vectorized import ColumnView, all_tests_mask, evaluate_frame
from engine.errors import Location
from engine.limits import limits
from engine.rules.literals import ORDERED_TYPES, format_value
from engine.rules.model import Input, Scheme, Value
from engine.rules.unary import UnaryTest

# Beyond this many cells a scheme is checked on a seeded sample of cells (and says so).
EXACT_CELL_LIMIT = 400_000
SAMPLE_CELLS = 200_000
MAX_REGIONS = 3

Kind = Literal["overlap", "gap", "unreachable", "contradiction", "incoherent"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Atom:
    """A piece of one input's domain on which every test of the scheme gives the same answer."""

    lo: float | int | None = None
    hi: float | int | None = None
    point: bool = False
    missing: bool = False
    value: Value = None
    other: bool = False  # a string input's "any text no test mentions"
    representative: Value = None


@dataclass(frozen=True)
class Finding:
    kind: Kind
    severity: Severity
    scheme_id: str
    rules: tuple[str, ...]
    locations: tuple[Location, ...]
    regions: tuple[tuple[Condition, ...], ...]  # per region, what each input it depends on is there
    more_regions: int
    customer: dict[str, Value] | None
    customer_text: str
    detail: tuple[str, ...] = ()  # e.g. the rules that shadow an unreachable one


@dataclass
class Analysis:
    scheme: Scheme
    findings: list[Finding] = field(default_factory=list)
    cells: int = 0
    sampled: bool = False


def input_atoms(scheme: Scheme, decl: Input) -> list[Atom]:
    tests = [test for rule in scheme.rules for test in rule.tests if test.input == decl.name]
    tests += [test for test in scheme.scope.tests if test.input == decl.name]
    return atoms_for(decl, tests)


def atoms_for(decl: Input, tests: list[UnaryTest]) -> list[Atom]:
    """The atoms of one input on which each of `tests` (all about this input) is constant."""
    atoms: list[Atom] = []
    if decl.type in ORDERED_TYPES:
        whole = decl.type != "number"
        points = {p for t in tests for i in t.intervals for p in (i.lo, i.hi) if p is not None}
        points.update(b for b in (decl.min, decl.max) if b is not None)
        inside = sorted(p for p in points
                        if (decl.min is None or p >= decl.min) and (decl.max is None or p <= decl.max))
        previous = None  # the last point placed; None is minus infinity
        for p in inside:
            # With a declared min, min is the first point and nothing lies below it.
            if previous is not None or decl.min is None:
                gap = _between(previous, p, whole)
                if gap is not None:
                    atoms.append(Atom(lo=previous, hi=p, representative=gap))
            atoms.append(Atom(lo=p, hi=p, point=True, representative=p))
            previous = p
        if decl.max is None:
            atoms.append(Atom(lo=previous, hi=None, representative=_between(previous, None, whole)))
    elif decl.type == "enum":
        atoms = [Atom(value=v, representative=v) for v in decl.values or ()]
    elif decl.type == "boolean":
        atoms = [Atom(value=False, representative=False), Atom(value=True, representative=True)]
    else:
        mentioned = sorted({m for t in tests for m in t.members}, key=str)
        other = "<other>"
        while other in mentioned:
            other += "_"
        atoms = [Atom(value=v, representative=v) for v in mentioned]
        atoms.append(Atom(other=True, representative=other))
    if not decl.required:
        atoms.append(Atom(missing=True))
    return atoms


def _between(lo, hi, whole: bool):
    """A value strictly between lo and hi (None = unbounded), or None if there is none."""
    if whole:
        if lo is None and hi is None:
            return 0
        if lo is None:
            return hi - 1
        if hi is None:
            return lo + 1
        return lo + 1 if lo + 1 < hi else None
    if lo is None and hi is None:
        return 0.0
    if lo is None:
        return float(hi - max(1.0, abs(hi)))
    if hi is None:
        return float(lo + max(1.0, abs(lo)))
    middle = (lo + hi) / 2
    return middle if lo < middle < hi else None


def typed_column(decl: Input, atoms: list[Atom], index: np.ndarray) -> pd.Series:
    """The representatives of each cell's atom for one input, as the engine's typed column."""
    if decl.type in ORDERED_TYPES:
        values = np.array([np.nan if a.missing else a.representative for a in atoms], dtype=np.float64)
        return pd.Series(values[index])
    # Atoms other than missing are the categories, in order; the missing atom (always last) is code -1.
    codes = np.array([-1 if a.missing else i for i, a in enumerate(atoms)], dtype=np.int32)
    categories = [a.representative for a in atoms if not a.missing]
    return pd.Series(pd.Categorical.from_codes(codes[index], categories=categories))


def grid_cells(sizes: list[int], budget: int = EXACT_CELL_LIMIT, seed: int = 7) -> tuple[np.ndarray, bool]:
    """All cells as rows of atom indices, or a seeded sample when there are more than `budget`."""
    total = math.prod(sizes)
    if total <= min(EXACT_CELL_LIMIT, budget):
        grids = np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij")
        return np.stack([g.reshape(-1) for g in grids], axis=1), False
    rng = np.random.default_rng(seed)
    sample = np.stack([rng.integers(0, s, min(SAMPLE_CELLS, budget)) for s in sizes], axis=1)
    if total < 2 ** 62:
        # Rows as one mixed-radix number each: a 1-D unique is far quicker than np.unique(axis=0), and
        # sorted numbers are the same rows in the same (lexicographic) order.
        radix = np.array([math.prod(sizes[k + 1:]) for k in range(len(sizes))], dtype=np.int64)
        codes = np.unique(sample @ radix)
        return np.stack([(codes // r) % s for r, s in zip(radix, sizes, strict=True)], axis=1), True
    return np.unique(sample, axis=0), True


def analyse(scheme: Scheme) -> Analysis:
    """Every overlap, gap, unreachable rule and contradiction of one scheme."""
    scoped = {test.input for test in scheme.scope.tests}
    names = [n for n in scheme.inputs if n in scoped or any(n in rule.inputs for rule in scheme.rules)]
    decls = [scheme.inputs[n] for n in names]
    atoms = [input_atoms(scheme, d) for d in decls]
    # Every cell evaluates every test: a scheme with many rules gets fewer cells (a sample), so that
    # `kece check` on any file finishes in seconds (KECE_MAX_ANALYSIS_WORK).
    tests = 1 + len(scheme.scope.tests) + sum(len(rule.tests) for rule in scheme.rules)
    budget = max(1_000, limits().analysis_work // tests)
    cells, sampled = grid_cells([len(a) for a in atoms], budget) if names else (np.zeros((1, 0), dtype=np.int64), False)
    columns = {d.name: typed_column(d, a, cells[:, k]) for k, (d, a) in enumerate(zip(decls, atoms, strict=True))}
    result = Analysis(scheme, cells=len(cells), sampled=sampled)
    view = ColumnView(columns)
    inside = all_tests_mask(scheme.scope.tests, view, len(cells))
    everywhere = evaluate_frame(scheme, columns, len(cells))
    evaluated = everywhere.restricted(inside)
    masks = evaluated.rule_masks
    reporter = _Reporter(scheme, decls, atoms, cells, result)
    if not inside.any():
        reporter.add("contradiction", "error", (), None, detail=("scope",))
        return result

    for rule in scheme.rules:
        if not masks[rule.index].any():
            outside_only = bool(everywhere.rule_masks[rule.index].any())
            reporter.add("contradiction", "error", (rule.index,), None, detail=("scope",) if outside_only else ())
        elif rule.any:
            base = all_tests_mask(rule.when, view, len(cells)) & inside
            for b, branch in enumerate(rule.any):
                if not (base & all_tests_mask(branch, view, len(cells))).any():
                    reporter.add("contradiction", "warning", (rule.index,), None, detail=(f"any[{b}]",))

    count = masks.sum(axis=0)
    if scheme.hit_policy != "score":
        gap = (count == 0) & inside
        if gap.any():
            reporter.add("gap", "error" if scheme.complete else "warning", (), gap)
    if scheme.hit_policy == "unique":
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for cell in np.flatnonzero(count > 1):
            groups[tuple(np.flatnonzero(masks[:, cell]))].append(cell)
        for rules, members in sorted(groups.items(), key=lambda item: item[1][0]):
            selected = np.zeros(len(cells), dtype=bool)
            selected[members] = True
            reporter.add("overlap", "error", rules, selected)
    if scheme.hit_policy in ("first", "priority"):
        for rule in scheme.rules:
            mine = masks[rule.index]
            if mine.any() and not (evaluated.winner[mine] == rule.index).any():
                winners = sorted(set(evaluated.winner[mine].tolist()))
                reporter.add("unreachable", "warning", (rule.index,), None,
                             detail=tuple(scheme.rules[w].id for w in winners))
    return result


class _Reporter:
    def __init__(self, scheme: Scheme, decls: list[Input], atoms: list[list[Atom]], cells: np.ndarray,
                 result: Analysis) -> None:
        self.scheme, self.decls, self.atoms, self.cells = scheme, decls, atoms, cells
        self.result = result

    def add(self, kind: Kind, severity: Severity, rules: tuple[int, ...], selected: np.ndarray | None,
            detail: tuple[str, ...] = ()) -> None:
        regions: list[str] = []
        more = 0
        customer = None
        if selected is not None:
            chosen = self.cells[selected]
            boxes = cover_with_boxes({tuple(c) for c in chosen.tolist()}, [len(a) for a in self.atoms])
            regions = [self.describe_box(box) for box in boxes[:MAX_REGIONS]]
            more = max(0, len(boxes) - MAX_REGIONS)
            customer = self.customer(chosen[0])
            self.verify(kind, rules, customer)
        rule_objects = [self.scheme.rules[i] for i in rules]
        self.result.findings.append(Finding(
            kind, severity, self.scheme.id, tuple(r.id for r in rule_objects),
            tuple(r.location for r in rule_objects) or (self.scheme.location,), tuple(regions), more,
            customer, self.customer_text(customer), detail))

    def customer(self, cell) -> dict[str, Value]:
        return {d.name: self.atoms[k][int(cell[k])].representative for k, d in enumerate(self.decls)}

    def customer_text(self, customer: dict[str, Value] | None) -> str:
        if customer is None:
            return ""
        return "{" + ", ".join(f"{d.name}: {format_value(d.type, customer[d.name])}" for d in self.decls) + "}"

    def verify(self, kind: Kind, rules: tuple[int, ...], customer: dict[str, Value]) -> None:
        """Re-check the example customer against the reference meaning: a finding must be true."""
        matched = {r.index for r in self.scheme.rules if r.matches(customer)}
        reference = resolve(self.scheme, sorted(matched))
        assert self.scheme.scope.applies(customer), (self.scheme.id, customer)
        if kind == "gap":
            assert not matched, (self.scheme.id, customer, reference)
        elif kind == "overlap":
            assert set(rules) <= matched and reference.status == "conflict", (self.scheme.id, customer, reference)

    def describe_box(self, box: tuple[frozenset[int], ...]) -> tuple[Condition, ...]:
        return tuple(describe_atoms(self.decls[k], self.atoms[k], chosen) for k, chosen in enumerate(box)
                     if len(chosen) < len(self.atoms[k]))


def cover_with_boxes(cells: set[tuple[int, ...]], sizes: list[int],
                     limit: int | None = None) -> list[tuple[frozenset[int], ...]]:
    """Cover a set of cells with boxes (a set of atoms per input, all combinations inside the set),
    grown greedily from the first uncovered cell; at most `limit` boxes (then the cover is partial)."""
    remaining = set(cells)
    boxes = []
    while remaining and (limit is None or len(boxes) < limit):
        seed = min(remaining)
        box = [{a} for a in seed]
        for k in range(len(sizes)):
            for atom in range(sizes[k]):
                if atom in box[k]:
                    continue
                trial = [*box[:k], {atom}, *box[k + 1:]]
                if all(cell in cells for cell in itertools.product(*trial)):
                    box[k].add(atom)
        frozen = tuple(frozenset(b) for b in box)
        boxes.append(frozen)
        remaining.difference_update(itertools.product(*frozen))
    return boxes


def finding_message(finding: Finding, lang: str) -> str:
    from engine.messages import t

    key = f"finding.{finding.kind}"
    if finding.kind == "gap" and finding.severity == "error":
        key = "finding.gap_complete"
    if finding.kind == "contradiction" and finding.detail:
        key = "finding.contradiction_branch"
    if finding.kind == "contradiction" and finding.detail == ("scope",):
        key = "finding.outside_scope" if finding.rules else "finding.scope_never"
    separator = ", " if lang == "en" else "、"
    return t(lang, key, rules=separator.join(finding.rules), detail=separator.join(finding.detail))
