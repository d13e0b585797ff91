"""The policy's choice for one plan (engine/plans/arbitrate.py), shared by every customer whose
results and probed inputs are alike, and put in the reader's words (every word from the message
catalog): the front list's actions with their why, and the appendix of what was not chosen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.plans.arbitrate import Arbitration, Candidate, Dropped, arbitrate
from engine.plans.model import Action, Considered
from engine.plans.playbook import Catalog, format_number
from engine.rules.model import Action as RuleAction
from engine.rules.model import Record, Value
from engine.rules.policy import Policy
from engine.rules.unary import UnaryTest


@dataclass(frozen=True)
class Offer:
    """An action as a scheme's result offers it, before the policy chooses (the same for every
    customer with that result)."""

    action: RuleAction
    text: str
    scheme_id: str
    scheme_title: str
    segment: str  # the segment label that recommends it
    notes: tuple[int, ...]
    order: int
    due: dt.date | None


@dataclass(frozen=True)
class Chosen:
    actions: tuple[Action, ...]
    considered: tuple[Considered, ...]
    contradictions: tuple[str, ...]
    result: Arbitration  # the arbitration itself, for kece explain --actions


def choose(offers: tuple[Offer, ...], offer_probes: tuple[int, ...], policy_probes: tuple[tuple[UnaryTest, ...], ...],
           outcomes: Mapping[str, tuple[str, ...]], cache: dict[tuple[bool, ...], Chosen],
           records: Mapping[str, Record], value_of: Callable[[str], Value], policy: Policy, as_of: dt.date,
           catalog: Catalog) -> Chosen:
    """The policy's choice for this customer, shared (through `cache`) by every customer whose results
    are the same and whose answers to the probes (`when:` of offers and of suppress rules) are too."""
    fits = tuple(offers[i].action.applies(records[offers[i].scheme_id]) for i in offer_probes)
    signature = fits + tuple(all(t.matches(value_of(t.input)) for t in tests) for tests in policy_probes)
    found = cache.get(signature)
    if found is None:
        skipped = {i for i, fit in zip(offer_probes, fits, strict=True) if not fit}
        candidates = [Candidate(o.action, o.text, [o.scheme_id], [(o.scheme_title, o.segment)], list(o.notes),
                                o.order, o.due) for i, o in enumerate(offers) if i not in skipped]
        result = arbitrate(candidates, outcomes, value_of, policy, as_of, catalog.lang)
        found = cache[signature] = present(result, policy, catalog)
    return found


def present(result: Arbitration, policy: Policy, catalog: Catalog) -> Chosen:
    """The policy's choice in the reader's words (every word from the message catalog)."""
    messages, label = catalog.messages, catalog.label
    separator = messages["list_separator"]
    actions = []
    for c in result.chosen:
        a = c.action
        segments = separator.join(f"{segment}{messages['paren_open']}{title}{messages['paren_close']}"
                                  for title, segment in c.segments)
        factors = " × ".join(f"{messages['factors'][name]}{' ' + label('intents', what) if name == 'intent' else ''}"
                             f" {format_number(catalog.lang, weight)}" for name, what, weight in c.factors)
        why = messages["why_action_text"].format(segments=segments, priority=format_number(catalog.lang, c.priority),
                                             factors=factors)
        actions.append(Action(c.text, a.channel, label("channels", a.channel), a.owner, label("owners", a.owner),
                              a.cadence_days, c.due, tuple(c.schemes), tuple(c.notes), a.key, a.intent or "",
                              label("intents", a.intent), c.priority, why, id(c) in result.moved))
    considered = tuple(Considered(d.candidate.text, label("intents", d.candidate.action.intent), d.kind,
                                  drop_reason(d, policy, catalog), tuple(d.candidate.schemes))
                       for d in result.dropped)
    contradictions = tuple(messages["contradiction"].format(a=label("intents", a), b=label("intents", b))
                           for a, b in result.contradictions)
    return Chosen(tuple(actions), considered, contradictions, result)


def drop_reason(d: Dropped, policy: Policy, catalog: Catalog) -> str:
    template = catalog.messages["dropped"][d.kind]
    if d.cap is None:
        where = f"{catalog.messages['paren_open']}{d.where}{catalog.messages['paren_close']}" if d.where else ""
        return template.format(rule=d.rule, where=where, reason=d.reason, into=d.into, rank=d.rank,
                               limit=policy.limit)
    kind, _, what = d.rule.partition(":")  # touches, channel:visit or owner:sales_rep
    shown = catalog.label("channels" if kind == "channel" else "owners", what) if what else ""
    return template.format(cap=catalog.messages["caps"][kind].format(what=shown), max=d.cap.max, per=d.cap.per_days)
