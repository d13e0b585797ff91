"""What evaluating a customer against a scheme gives, whichever backend computed it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from engine.rules.model import Record, Scheme

Status = Literal["matched", "unmatched", "conflict", "out_of_scope"]
CONFLICT = "!conflict"


@dataclass(frozen=True)
class SchemeResult:
    """One customer under one scheme.

    `matched` lists every rule whose tests hold, in file order; `outcome` is what the hit policy
    makes of them: the winning rule (first, priority, unique), all matches (collect), or the band
    (score). A unique scheme with several matches is a conflict and has no outcome. A customer
    outside the scheme's scope is neither matched nor unmatched: nothing is evaluated for it.
    """

    scheme_id: str
    status: Status
    outcome: tuple[str, ...]
    matched: tuple[str, ...]
    score: float | None = None

    @property
    def display(self) -> str:
        """The value of the scheme's output column."""
        if self.status == "conflict":
            return CONFLICT
        return "|".join(self.outcome)


def out_of_scope(scheme: Scheme) -> SchemeResult:
    return SchemeResult(scheme.id, "out_of_scope", (), ())


def reference(scheme: Scheme, record: Record, domain: object = None) -> SchemeResult:
    """The reference meaning of a whole scheme for one customer, scope included."""
    if not scheme.scope.applies(record, domain):
        return out_of_scope(scheme)
    return resolve(scheme, [rule.index for rule in scheme.rules if rule.matches(record)])


def resolve(scheme: Scheme, matched: Sequence[int]) -> SchemeResult:
    """Apply the scheme's hit policy to the indices of the rules that matched (any order)."""
    indices = sorted(set(matched))
    ids = tuple(scheme.rules[i].id for i in indices)
    policy = scheme.hit_policy
    if policy == "score":
        score = float(sum(scheme.rules[i].points for i in indices))
        band = next((b for b in scheme.bands if b.matches(score)), None)
        if band is None:
            return SchemeResult(scheme.id, "unmatched", (), ids, score)
        return SchemeResult(scheme.id, "matched", (band.id,), ids, score)
    if not indices:
        return SchemeResult(scheme.id, "unmatched", (), ())
    if policy == "collect":
        return SchemeResult(scheme.id, "matched", ids, ids)
    if policy == "unique":
        if len(indices) > 1:
            return SchemeResult(scheme.id, "conflict", (), ids)
        return SchemeResult(scheme.id, "matched", ids, ids)
    if policy == "priority":
        # Highest priority wins; among equals the earlier rule (max keeps the first maximum).
        best = max(indices, key=lambda i: scheme.rules[i].priority)
        return SchemeResult(scheme.id, "matched", (scheme.rules[best].id,), ids)
    return SchemeResult(scheme.id, "matched", (ids[0],), ids)
