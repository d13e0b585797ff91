"""Next best actions: from every action that the schemes applying to a customer recommend, the few a
rep does, in the order of the policy (policy.yaml, engine/rules/policy.py):

    candidates (each action once; `when:` kept only where it fits the customer)
      → suppress (policy conditions remove intents, channels, actions)
      → conflicts (contradicting intents: the policy's winner stays)
      → rank (priority = intent weight × scheme and action levers × customer value × propensity)
      → schedule (contact caps per period, per channel and per owner spread the due dates)
      → limit (the front list; the rest are "considered, not chosen", each with its reason)

Everything here is decided from the customer's results and the few inputs that `when:` tests
name, so plans of customers alike share one arbitration (compose.py keys it by those).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from engine.rules.model import Action, Value
from engine.rules.policy import CONTRADICTIONS, Cap, Policy

DropKind = str  # merged | suppressed | overridden | contact_limit | below_cut


@dataclass
class Candidate:
    """One action as recommended to this customer, by one or more schemes."""

    action: Action
    text: str  # in the plan's language: actions written alike in two schemes merge by it
    schemes: list[str]
    segments: list[tuple[str, str]]  # (scheme title, segment label) that recommend it
    notes: list[int]
    order: int
    due: dt.date | None = None
    priority: float = 1.0
    factors: tuple[tuple[str, str, float], ...] = ()  # (factor, what, weight) behind the priority


@dataclass(frozen=True)
class Dropped:
    candidate: Candidate
    kind: DropKind
    rule: str = ""  # the policy rule (or cap) that dropped it
    where: str = ""  # its file:line ('' for the default policy, which has no file)
    reason: str = ""  # the policy's words for a rep
    into: str = ""  # merged: the text of the action it became part of
    rank: int = 0
    cap: Cap | None = None  # contact_limit: the cap that had no room


@dataclass(frozen=True)
class Arbitration:
    chosen: tuple[Candidate, ...]
    dropped: tuple[Dropped, ...]
    contradictions: tuple[tuple[str, str], ...] = ()  # intent pairs no policy rule settles
    moved: frozenset[int] = field(default_factory=frozenset)  # ids of chosen candidates a cap moved later
    ranked: tuple[Candidate, ...] = ()  # what suppress and conflicts left, best first (before the caps and cut)


def arbitrate(candidates: Sequence[Candidate], outcomes: Mapping[str, tuple[str, ...]],
              value_of: Callable[[str], Value], policy: Policy, as_of: dt.date, lang: str) -> Arbitration:
    """The chosen actions (front list, ranked) and every dropped one with its reason."""
    dropped: list[Dropped] = []
    live = _merge(candidates, dropped)
    for rule in policy.suppressions:
        if not live or not rule.condition.holds(outcomes, value_of):
            continue
        keep = []
        for c in live:
            if rule.removes(c.action):
                dropped.append(Dropped(c, "suppressed", rule.id, str(rule.location), rule.reason.get(lang)))
            else:
                keep.append(c)
        live = keep
    for conflict in policy.conflicts:
        present = {c.action.intent for c in live}
        if conflict.keep not in present or not (conflict.drop & present):
            continue
        keep = []
        for c in live:
            if c.action.intent in conflict.drop:
                dropped.append(Dropped(c, "overridden", conflict.id, str(conflict.location), conflict.reason.get(lang)))
            else:
                keep.append(c)
        live = keep
    present = {c.action.intent for c in live}
    contradictions = tuple(sorted(tuple(sorted(pair)) for pair in CONTRADICTIONS if pair <= present))
    for c in live:
        _rank(c, outcomes, policy)
    live.sort(key=lambda c: (-c.priority, c.due is None, c.due or as_of, c.order))
    ranked = tuple(live)
    chosen, moved = _schedule(live, policy, as_of, dropped)
    return Arbitration(tuple(chosen), tuple(dropped), contradictions, frozenset(moved), ranked)


def _merge(candidates: Sequence[Candidate], dropped: list[Dropped]) -> list[Candidate]:
    """One candidate per action key; actions of other keys written alike become part of the first."""
    by_key: dict[str, Candidate] = {}
    by_text: dict[str, Candidate] = {}
    for c in candidates:
        known = by_key.get(c.action.key) or by_text.get(c.text)
        if known is None:
            by_key[c.action.key] = by_text[c.text] = c
            continue
        if known.action.key != c.action.key:
            dropped.append(Dropped(c, "merged", into=known.text))
        for scheme in c.schemes:
            if scheme not in known.schemes:
                known.schemes.append(scheme)
        known.segments += [s for s in c.segments if s not in known.segments]
        known.notes += [n for n in c.notes if n not in known.notes]
        if c.due is not None and (known.due is None or c.due < known.due):
            known.due = c.due  # the earliest date either scheme gives
    return list(by_key.values())


def _rank(c: Candidate, outcomes: Mapping[str, tuple[str, ...]], policy: Policy) -> None:
    intent = c.action.intent
    factors = [("intent", intent or "", policy.intent_weights.get(intent or "", 1.0))]
    lever = max((policy.scheme_levers.get(s, 1.0) for s in c.schemes), default=1.0)
    if lever != 1.0:
        factors.append(("scheme", "", lever))
    if c.action.key in policy.action_levers:
        factors.append(("action", "", policy.action_levers[c.action.key]))
    for name, weightings in (("value", policy.value), ("propensity", policy.propensity)):
        for weighting in weightings:
            weight = weighting.weight(outcomes, intent)
            if weight is not None:
                factors.append((name, weighting.scheme, weight))
                break
    priority = 1.0
    for _, _, weight in factors:
        priority *= weight
    c.priority, c.factors = priority, tuple(factors)


def _schedule(ranked: list[Candidate], policy: Policy, as_of: dt.date,
              dropped: list[Dropped]) -> tuple[list[Candidate], set[int]]:
    """Take the ranked actions while the front list has room; a dated touch goes on the first day at
    or after its due date where every cap (touches, its channel, its owner) has room left."""
    used: dict[tuple[str, int], int] = {}
    chosen: list[Candidate] = []
    moved: set[int] = set()
    for rank, c in enumerate(ranked, start=1):
        if len(chosen) >= policy.limit:
            dropped.append(Dropped(c, "below_cut", rank=rank))
            continue
        action = c.action
        if not action.touch or c.due is None:
            chosen.append(c)
            continue
        caps = [(name, cap) for name, cap in (
            ("touches", policy.touches),
            (f"channel:{action.channel}", policy.channel_caps.get(action.channel or "")),
            (f"owner:{action.owner}", policy.owner_caps.get(action.owner or ""))) if cap is not None]
        day = _first_free_day(c.due, caps, used, as_of, policy.horizon_days)
        if day is None:
            name, cap = _tightest(caps)
            dropped.append(Dropped(c, "contact_limit", name, rank=rank, cap=cap))
            continue
        for name, cap in caps:
            bucket = (name, (day - as_of).days // cap.per_days)
            used[bucket] = used.get(bucket, 0) + 1
        if day != c.due:
            moved.add(id(c))
            c.due = day
        chosen.append(c)
    return chosen, moved


def _first_free_day(due: dt.date, caps: list[tuple[str, Cap]], used: Mapping[tuple[str, int], int],
                    as_of: dt.date, horizon_days: int) -> dt.date | None:
    day, latest = due, due + dt.timedelta(days=horizon_days)
    while day <= latest:
        for name, cap in caps:
            bucket = (day - as_of).days // cap.per_days
            if used.get((name, bucket), 0) >= cap.max:
                day = as_of + dt.timedelta(days=(bucket + 1) * cap.per_days)  # the next period of this cap
                break
        else:
            return day
    return None


def _tightest(caps: list[tuple[str, Cap]]) -> tuple[str, Cap]:
    return min(caps, key=lambda item: item[1].max / item[1].per_days)
