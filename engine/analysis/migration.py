"""Who moved between two segmentations of the same customers: per scheme a migration matrix (old
result × new result), the customers whose result changed, and, between two rulebooks, the rule edits
that can explain it. Shared by `kece impact` (two rulebooks, one file) and `kece compare` (two
results files)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine.io.tables import ChunkWriter
from engine.rules.model import Rulebook, Scheme

UNMATCHED = ""
CONFLICT = "!conflict"
NOT_APPLICABLE = "!out_of_scope"  # its own key: a customer a scheme does not apply to is not unmatched
ABSENT = "!absent"  # compare: the customer is not in that file


@dataclass(frozen=True)
class RuleEdit:
    rule_id: str
    kind: str  # changed | added | removed


@dataclass(frozen=True)
class Move:
    customer_id: str
    old: str
    new: str


@dataclass
class Migration:
    """One scheme's migration. `matrix[old][new]` counts customers; keys are rule (or band) ids,
    '' unmatched, '!conflict', '!out_of_scope'. `moved` keeps every customer whose result changed,
    in file order."""

    scheme_id: str
    matrix: dict[str, dict[str, int]] = field(default_factory=dict)
    moved: list[Move] = field(default_factory=list)
    edits: tuple[RuleEdit, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)  # key -> label in the reader's language
    order: tuple[str, ...] = ()  # the outcome ids in the rules' order, for rows and columns
    # Filled in by plans.impact: how the moved customers' arbitrated actions change.
    actions_gained: Counter = field(default_factory=Counter)  # action text -> moved customers who gain it
    actions_lost: Counter = field(default_factory=Counter)
    touches_before: float = 0.0  # recurring touches a week, summed over the moved customers' plans
    touches_after: float = 0.0

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.matrix.values())

    def add(self, ids: Sequence[str], old: Sequence[str], new: Sequence[str]) -> None:
        """Count one batch of customers (aligned ids, old keys, new keys)."""
        frame = pd.DataFrame({"id": list(ids), "old": list(old), "new": list(new)})
        for (before, after), count in frame.groupby(["old", "new"], sort=False).size().items():
            row = self.matrix.setdefault(str(before), {})
            row[str(after)] = row.get(str(after), 0) + int(count)
        changed = frame[frame["old"] != frame["new"]]
        self.moved += [Move(str(i), str(o), str(n)) for i, o, n in changed.itertuples(index=False)]

    def ordered(self) -> tuple[list[str], list[str]]:
        """(row keys, column keys) in the rules' order, then unmatched, conflict, not applicable,
        then anything else as first seen."""
        order = self.order
        rows = list(self.matrix)
        columns = list(dict.fromkeys(key for row in self.matrix.values() for key in row))
        rank = {key: i for i, key in enumerate([*order, UNMATCHED, CONFLICT, NOT_APPLICABLE, ABSENT])}
        sort = lambda keys: sorted(keys, key=lambda k: (rank.get(k, len(rank)), keys.index(k)))  # noqa: E731
        return sort(rows), sort(columns)

    def as_json(self) -> dict:
        rows, columns = self.ordered()
        return {"matrix": {old: {new: self.matrix[old][new] for new in columns if new in self.matrix[old]}
                           for old in rows}, "moved": len(self.moved)}


def outcome_order(scheme: Scheme | None) -> list[str]:
    if scheme is None:
        return []
    return [b.id for b in scheme.bands] if scheme.hit_policy == "score" else list(scheme.rule_ids)


def rule_edits(old: Scheme, new: Scheme) -> tuple[RuleEdit, ...]:
    """Rules whose `when` or `any` changed, rules added, rules removed; then the scheme-wide edits
    that move customers too (hit policy, scope, band or score edits are named by '*')."""
    before = {rule.id: rule for rule in old.rules}
    after = {rule.id: rule for rule in new.rules}
    edits = [RuleEdit(rid, "removed") for rid in before if rid not in after]
    for rid, rule in after.items():
        if rid not in before:
            edits.append(RuleEdit(rid, "added"))
        elif _tests(rule.when) != _tests(before[rid].when) or \
                [_tests(b) for b in rule.any] != [_tests(b) for b in before[rid].any]:
            edits.append(RuleEdit(rid, "changed"))
        elif rule.priority != before[rid].priority or rule.points != before[rid].points:
            edits.append(RuleEdit(rid, "changed"))
    if old.hit_policy != new.hit_policy:
        edits.append(RuleEdit("*hit_policy", "changed"))
    if _tests(old.scope.tests) != _tests(new.scope.tests) or old.scope.domain != new.scope.domain:
        edits.append(RuleEdit("*scope", "changed"))
    if [(b.id, b.test.text if b.test else None) for b in old.bands] != \
            [(b.id, b.test.text if b.test else None) for b in new.bands]:
        edits.append(RuleEdit("*bands", "changed"))
    if old.hit_policy in ("first", "collect") and [r for r in old.rule_ids if r in after] != \
            [r for r in new.rule_ids if r in before]:
        edits.append(RuleEdit("*order", "changed"))
    return tuple(edits)


def _tests(tests) -> tuple[tuple[str, str], ...]:
    return tuple((test.input, test.text) for test in tests)


def scheme_pairs(old: Rulebook, new: Rulebook) -> tuple[list[str], list[str], list[str]]:
    """(scheme ids in both, only in old, only in new)."""
    both = [s.id for s in new.schemes if s.id in old.by_id]
    return both, [s.id for s in old.schemes if s.id not in new.by_id], [s.id for s in new.schemes
                                                                         if s.id not in old.by_id]


MOVED_COLUMNS = ("customer_id", "scheme", "old", "old_label", "new", "new_label")


def moved_table(migrations: Sequence[Migration]) -> pd.DataFrame:
    """Every customer who moved, one row per scheme they moved in (the moved-customers file)."""
    rows = [(m.customer_id, mig.scheme_id, m.old, mig.labels.get(m.old, m.old), m.new, mig.labels.get(m.new, m.new))
            for mig in migrations for m in mig.moved]
    return pd.DataFrame(rows, columns=list(MOVED_COLUMNS), dtype=object)


def write_moved(migrations: Sequence[Migration], path: Path) -> None:
    """The moved customers as .csv, .xlsx or .parquet, put in place only once complete."""
    writer = ChunkWriter(path)
    try:
        table = moved_table(migrations)
        if len(table):
            writer.write(table)
        writer.close(table.iloc[:0])
    except BaseException:
        writer.abandon()
        raise
