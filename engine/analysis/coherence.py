"""Can any customer receive contradicting advice? `kece check`'s proof over every scheme at once.

Two intents contradict (engine.rules.policy.CONTRADICTIONS: stop_contact and a touch to grow, win
back and grow, ...). A policy settles a pair with a `conflicts:` rule, for every customer at once;
a pair no rule settles is a contradiction wherever one scheme's result offers the one intent and
another's (or the same scheme's) offers the other, unless a `suppress:` rule removes one of them
there. Those regions are found as `regions.analyse` finds overlaps: the inputs of both schemes (and
of the `when:` of their actions and of the suppress rules) are cut into atoms, one customer per
cell is evaluated with the vectorized engine, and the cells where both intents survive are reported
as regions with one concrete customer. Contact caps need no proof: the plan enforces them (a touch
that does not fit moves later or is listed as not chosen).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine.analysis.conditions import describe_atoms
from engine.analysis.regions import MAX_REGIONS, Finding, atoms_for, cover_with_boxes, grid_cells, typed_column
from engine.backends.vectorized import ColumnView, SchemeColumns, all_tests_mask, evaluate_frame
from engine.rules.literals import format_value
from engine.rules.model import Action, Band, Input, Rule, Rulebook, Scheme
from engine.rules.policy import CONTRADICTIONS, DEFAULT_POLICY, Policy, Suppression
from engine.rules.unary import UnaryTest


@dataclass(frozen=True)
class Coherence:
    findings: list[Finding]
    settled: int  # contradicting pairs of intents that a conflicts: rule orders
    policy: str  # the policy's file, or '' for the default
    sampled: bool = False
    stopped: tuple[tuple[str, str], ...] = ()  # intent pairs with more findings than were reported


@dataclass(frozen=True)
class _Offer:
    scheme: Scheme
    item: Rule | Band
    action: Action


def analyse_coherence(rulebook: Rulebook) -> Coherence:
    policy = rulebook.policy or DEFAULT_POLICY
    open_pairs = coherence_pairs(policy)
    offers: dict[str, list[_Offer]] = {}
    for scheme in rulebook.schemes:
        if scheme.plan_section != "segment":
            continue  # talking points and contacts are not actions
        for item in (*scheme.rules, *scheme.bands):
            for action in item.strategy:
                offers.setdefault(action.intent or "", []).append(_Offer(scheme, item, action))
    findings: list[Finding] = []
    sampled, stopped = False, []
    for a, b in open_pairs:
        schemes_a = list({o.scheme.id: o.scheme for o in offers.get(a, [])}.values())
        schemes_b = list({o.scheme.id: o.scheme for o in offers.get(b, [])}.values())
        found = 0
        for first, second in ((x, y) for x in schemes_a for y in schemes_b):
            if found == FINDINGS_PER_PAIR:
                stopped.append((a, b))  # one conflicts: rule settles them all; the first few show why
                break
            finding, was_sampled = _pair(first, second, a, b, offers, policy)
            sampled = sampled or was_sampled
            if finding is not None:
                findings.append(finding)
                found += 1
    return Coherence(findings, len(CONTRADICTIONS) - len(open_pairs), policy.path, sampled, tuple(stopped))


def _pair(first: Scheme, second: Scheme, a: str, b: str, offers: dict[str, list[_Offer]],
          policy: Policy) -> tuple[Finding | None, bool]:
    schemes = [first] if first is second else [first, second]
    ids = {s.id for s in schemes}
    offers_a = [o for o in offers[a] if o.scheme is first]
    offers_b = [o for o in offers[b] if o.scheme is second]
    # Suppress rules that can remove one of these offers; those naming other schemes' results may or
    # may not hold, so they are not counted on (a region they would cover is still reported).
    rules = [r for r in policy.suppressions if {t.input for t in r.condition.results} <= ids
             and any(r.removes(o.action) for o in (*offers_a, *offers_b))]
    tests: dict[str, list[UnaryTest]] = {}
    decls: dict[str, Input] = {}
    for scheme in schemes:
        for rule in scheme.rules:
            for test in rule.tests:
                tests.setdefault(test.input, []).append(test)
        for test in scheme.scope.tests:
            tests.setdefault(test.input, []).append(test)
        for name, decl in scheme.inputs.items():
            decls.setdefault(name, decl)
    for test in [t for o in (*offers_a, *offers_b) for t in o.action.when] + \
            [t for r in rules for t in r.condition.inputs]:
        if test.input in decls:
            tests.setdefault(test.input, []).append(test)
    names = sorted(tests)
    inputs = [decls[n] for n in names]
    atoms = [atoms_for(d, tests[d.name]) for d in inputs]
    cells, sampled = grid_cells([len(x) for x in atoms]) if names else (np.zeros((1, 0), dtype=np.int64), False)
    columns = {d.name: typed_column(d, x, cells[:, k]) for k, (d, x) in enumerate(zip(inputs, atoms, strict=True))}
    view, n = ColumnView(columns), len(cells)
    evaluated = {s.id: _evaluated(s, columns, view, n) for s in schemes}
    outcome = {s.id: _outcome_masks(s, evaluated[s.id]) for s in schemes}

    def surviving(candidates: list[_Offer]) -> list[tuple[_Offer, np.ndarray]]:
        found = []
        for offer in candidates:
            mask = outcome[offer.scheme.id][offer.item.id] & all_tests_mask(offer.action.when, view, n)
            for rule in rules:
                if rule.removes(offer.action):
                    mask &= ~_holds(rule, outcome, view, n)
            found.append((offer, mask))
        return found

    live_a, live_b = surviving(offers_a), surviving(offers_b)
    both = np.zeros(n, dtype=bool)
    for _, mask_a in live_a:
        for _, mask_b in live_b:
            both |= mask_a & mask_b
    if not both.any():
        return None, sampled
    cell = int(np.flatnonzero(both)[0])
    offer_a = next(o for o, m in live_a if m[cell])
    offer_b = next(o for o, m in live_b if m[cell])
    customer = {d.name: atoms[k][int(cells[cell][k])].representative for k, d in enumerate(inputs)}
    # Inputs on which the contradiction does not depend are left out of the regions (on an exact
    # grid that is checked per input), so the regions name only what matters; few boxes are grown.
    keep = list(range(len(inputs))) if sampled else _relevant_axes(both, [len(x) for x in atoms])
    chosen = {tuple(c) for c in cells[both][:, keep].tolist()} if keep else {()}
    boxes = cover_with_boxes(chosen, [len(atoms[k]) for k in keep], limit=_BOX_LIMIT)
    more = len(boxes) - MAX_REGIONS if len(boxes) < _BOX_LIMIT else _BOX_LIMIT - MAX_REGIONS
    regions = tuple(tuple(describe_atoms(inputs[k], atoms[k], box[j]) for j, k in enumerate(keep)
                          if len(box[j]) < len(atoms[k])) for box in boxes[:MAX_REGIONS])
    _verify(offer_a, offer_b, customer)
    text = "{" + ", ".join(f"{d.name}: {format_value(d.type, customer[d.name])}" for d in inputs) + "}"
    rule_names = (f"{offer_a.scheme.id}.{offer_a.item.id}", f"{offer_b.scheme.id}.{offer_b.item.id}")
    finding = Finding("incoherent", "error", f"{first.id}+{second.id}" if first is not second else first.id,
                      rule_names, (offer_a.action.location, offer_b.action.location), regions,
                      max(0, more), customer, text, (a, b))
    return finding, sampled


# A pair of intents that meets in many pairs of schemes is reported for the first few.
FINDINGS_PER_PAIR = 5
# Regions are grown one at a time; a contradiction spread over many is reported by its first few.
_BOX_LIMIT = 50


def _relevant_axes(mask: np.ndarray, sizes: list[int]) -> list[int]:
    """The inputs whose atom changes whether a cell is in `mask` (cells in grid order)."""
    grid = mask.reshape(sizes)
    return [k for k in range(len(sizes)) if not np.array_equal(grid.any(axis=k), grid.all(axis=k))]


def _evaluated(scheme: Scheme, columns: Mapping, view: ColumnView, n: int) -> SchemeColumns:
    inside = all_tests_mask(scheme.scope.tests, view, n)
    return evaluate_frame(scheme, columns, n).restricted(inside)


def _outcome_masks(scheme: Scheme, evaluated: SchemeColumns) -> dict[str, np.ndarray]:
    """Per rule or band id: the cells where it is part of what the plan shows (its actions are offered)."""
    winner = evaluated.winner
    masks: dict[str, np.ndarray] = {}
    if scheme.hit_policy == "score":
        for band in scheme.bands:
            masks[band.id] = winner == band.index
        for rule in scheme.rules:  # a signal's actions come with any band
            masks[rule.id] = evaluated.rule_masks[rule.index] & (winner >= 0)
    elif scheme.hit_policy == "collect":
        for rule in scheme.rules:
            masks[rule.id] = evaluated.rule_masks[rule.index] & (winner >= 0)
    else:
        for rule in scheme.rules:
            masks[rule.id] = winner == rule.index
    return masks


def _holds(rule: Suppression, outcome: dict[str, dict[str, np.ndarray]], view: ColumnView, n: int) -> np.ndarray:
    mask = all_tests_mask(rule.condition.inputs, view, n) if rule.condition.inputs else np.ones(n, dtype=bool)
    for test in rule.condition.results:
        ids = outcome[test.input]
        any_result = np.zeros(n, dtype=bool)
        for item_id, item_mask in ids.items():
            if test.matches(item_id):
                any_result |= item_mask
        if test.matches(None):
            nothing = ~np.logical_or.reduce(list(ids.values())) if ids else np.ones(n, dtype=bool)
            any_result |= nothing
        mask &= any_result
    return mask


def _verify(offer_a: _Offer, offer_b: _Offer, customer: dict) -> None:
    """The example customer, re-checked with the reference meaning: a finding must be true."""
    for offer in (offer_a, offer_b):
        scheme = offer.scheme
        assert scheme.scope.applies(customer), (scheme.id, customer)
        assert offer.action.applies(customer), (offer.action.key, customer)
        if isinstance(offer.item, Rule):
            assert offer.item.matches(customer), (scheme.id, offer.item.id, customer)


def coherence_pairs(policy: Policy) -> list[tuple[str, str]]:
    """The contradicting pairs of intents the policy leaves open."""
    return sorted(tuple(sorted(pair)) for pair in CONTRADICTIONS if policy.resolves(*sorted(pair)) is None)
