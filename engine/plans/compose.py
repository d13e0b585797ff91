"""An action plan for one customer: what every applicable scheme says about them, composed into the
variables a playbook template reads (docs/playbooks.md lists them all).

A plan's "why" is `kece explain`'s, narrowed to what a rep reads: the tests of the matched rule
with the customer's values, and what a tiered scheme's nearest better rule needs (tests/test_plan.py
checks both against `explain_scheme`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.analysis.explain import describe_need
from engine.analysis.ladder import ladder_direction, only_when_missing, points_down
from engine.backends.results import SchemeResult, resolve
from engine.evaluation.evaluate import prepare_customer
from engine.plans.arbitrate import Arbitration
from engine.plans.choice import Chosen, Offer, choose
from engine.plans.model import (
    Customer,
    Fact,
    Need,
    NextTier,
    Outcome,
    Plan,
    Point,
    Reason,
    Section,
    ShownValues,
    Source,
    format_value,
    memo,
    show_value,
)
from engine.plans.playbook import Catalog, format_number
from engine.rules.model import Action as RuleAction
from engine.rules.model import Band, Input, Record, Rule, Rulebook, Scheme, Value
from engine.rules.policy import DEFAULT_POLICY, Policy
from engine.rules.spec import SourceRef
from engine.rules.unary import UnaryTest

SECTIONS = ("segment", "talking_points", "contacts")
NAME_COLUMNS = ("name", "customer_name", "姓名", "客户名称", "名称")


@dataclass(frozen=True)
class _SectionShape:
    """A section without the customer's values: what it says follows from the scheme's result alone."""

    scheme: Scheme
    result: SchemeResult
    head: tuple[str, str, str, str, tuple[Outcome, ...], str, str | None]  # Section's fields before `reasons`
    reason_rules: tuple[Rule, ...]  # the rules whose tests are the reasons
    reason_views: tuple[_TestView, ...] | None  # their tests' views; None when an `any:` branch decides
    points: tuple[Point, ...]
    notes: tuple[int, ...]
    owner_label: str


@dataclass(frozen=True)
class _PlanShape:
    """What a plan says whatever the customer's values: the same for every customer with the same
    results (a file's customers share a few hundred combinations at most)."""

    sections: tuple[_SectionShape, ...]
    offers: tuple[Offer, ...]
    sources: tuple[Source, ...]
    outcomes: dict[str, tuple[str, ...]]  # scheme id -> its result, for the policy's conditions
    # What the policy's choice depends on beyond the results: the `when:` of offers and of suppress
    # rules. A customer's answers to these probes key the shared arbitration.
    offer_probes: tuple[int, ...]  # indices of offers with a `when:`
    policy_probes: tuple[tuple[UnaryTest, ...], ...]
    arbitrations: dict[tuple[bool, ...], Chosen] = field(default_factory=dict, compare=False)


class _ShapeBuilder:
    """Collects footnotes and actions while the sections are laid out, so numbers follow reading order."""

    def __init__(self, as_of: dt.date, catalog: Catalog) -> None:
        self.as_of, self.catalog, self.lang = as_of, catalog, catalog.lang
        self.sources: list[Source] = []
        self.source_index: dict[tuple[str, str], int] = {}
        self.offers: list[Offer] = []

    def note(self, scheme: Scheme, item: Rule | Band) -> tuple[int, ...]:
        key = (scheme.id, item.id)
        if key not in self.source_index:
            ref: SourceRef | None = item.source or scheme.source
            if ref is None:
                return ()
            number = len(self.sources) + 1
            self.sources.append(Source(number, scheme.id, item.id, item.label.get(self.lang), ref.file, ref.quote,
                                       item.assumption.get(self.lang) if item.assumption else ""))
            self.source_index[key] = number
        return (self.source_index[key],)

    def section(self, scheme: Scheme, result: SchemeResult) -> _SectionShape:
        lang = self.lang
        kind = scheme.plan_section
        items = _facts(scheme).items
        outcomes = _outcomes(scheme, result.outcome, self.catalog)
        # A score scheme's reasons are the rules that added points; otherwise the winning rules.
        reason_ids = result.matched if scheme.hit_policy == "score" else result.outcome
        # A score scheme's outcome is a band: the band's own strategy first (if it has one), then the
        # actions of the signals that added points.
        bands = [items[o] for o in result.outcome if isinstance(items.get(o), Band) and items[o].strategy]
        notes: list[int] = []
        points: list[Point] = []
        for item in (*bands, *(items[o] for o in reason_ids if isinstance(items.get(o), Rule))):
            item_notes = self.note(scheme, item)
            notes += item_notes
            for order, action in enumerate(item.strategy):
                if kind == "segment":
                    self.action(scheme, item, action, item_notes, order)
                else:
                    points.append(Point(getattr(action, lang), item_notes))
        score = format_number(lang, result.score) if result.score is not None else None
        head = (scheme.id, scheme.title.get(lang), kind, result.status, outcomes,
                self.catalog.messages["list_separator"].join(o.label for o in outcomes), score)
        reason_rules = tuple(rule for rule in scheme.rules if rule.id in reason_ids)
        views = None if any(rule.any for rule in reason_rules) else \
            tuple(_view(scheme, test, self.catalog) for rule in reason_rules for test in rule.when)
        owners = dict.fromkeys(o.owner_label for o in outcomes if o.owner_label) if result.status == "matched" else {}
        return _SectionShape(scheme, result, head, reason_rules, views, tuple(points), tuple(dict.fromkeys(notes)),
                             self.catalog.messages["list_separator"].join(owners))

    def action(self, scheme: Scheme, item: Rule | Band, action: RuleAction, notes: tuple[int, ...],
               order: int) -> None:
        due = self.as_of + dt.timedelta(days=action.cadence_days) if action.cadence_days is not None else None
        self.offers.append(Offer(action, action.get(self.lang), scheme.id, scheme.title.get(self.lang),
                                  item.label.get(self.lang), notes,
                                  len(self.offers) * 100 + order, due))


_SHAPES: dict[tuple, tuple[Catalog, Policy, _PlanShape]] = {}


def _plan_shape(applied: Sequence[tuple[Scheme, SchemeResult]], as_of: dt.date, catalog: Catalog,
                policy: Policy) -> _PlanShape:
    # Results are memoised per scheme and hits (_SchemeFacts), so their ids name them; the shape keeps
    # them, and the catalog and policy are kept with the entry, so no id in a key can be reused.
    key = (id(catalog), id(policy), as_of, *(id(result) for _, result in applied))
    found = _SHAPES.get(key)
    if found is None:
        if len(_SHAPES) > 50_000:  # a long-lived process with ever new dates or rule files
            _SHAPES.clear()
        builder = _ShapeBuilder(as_of, catalog)
        # Footnotes are numbered as a plan reads: segments, then talking points, then contacts.
        reading = sorted(range(len(applied)), key=lambda i: SECTIONS.index(applied[i][0].plan_section))
        built = {i: builder.section(*applied[i]) for i in reading}
        sections = tuple(built[i] for i in range(len(applied)))
        offers = tuple(builder.offers)
        outcomes = {scheme.id: result.outcome for scheme, result in applied}
        # A suppress rule whose results part cannot hold for this shape never needs its inputs probed.
        probed = tuple(rule.condition.inputs for rule in policy.suppressions
                       if rule.condition.inputs and rule.condition.results_hold(outcomes))
        shape = _PlanShape(sections, offers, tuple(builder.sources), outcomes,
                           tuple(i for i, offer in enumerate(offers) if offer.action.when), probed)
        found = _SHAPES[key] = (catalog, policy, shape)
    return found[2]


class _SchemeFacts:
    """What plans need of a scheme, worked out once per scheme: its rules by id, its ladder of tiers
    for the next better one, and each distinct set of matching rules resolved by the hit policy."""

    def __init__(self, scheme: Scheme) -> None:
        self.scheme = scheme
        self.items: dict[str, Rule | Band] = {item.id: item for item in (*scheme.rules, *scheme.bands)}  # ids differ
        by_id = {rule.id: rule for rule in scheme.rules}
        self.ladder = tuple(by_id[rule_id] for rule_id in scheme.ladder)  # best first
        self.rungs = {rule.id: i for i, rule in enumerate(self.ladder)}
        # A rule only a missing value reaches ("not yet graded") is no tier to climb to.
        self.climbable = frozenset(rule.id for rule in self.ladder if not only_when_missing(rule))
        self.directions: dict[str, int] = {}
        self.results: dict[tuple[int, ...], SchemeResult] = {}

    def result(self, hits: Sequence[int]) -> SchemeResult:
        # Few distinct sets of hits per scheme, and a plan's shape is keyed by the results' ids.
        key = tuple(hits)
        found = self.results.get(key)
        if found is None:
            found = self.results[key] = resolve(self.scheme, hits)
        return found


_FACTS: dict[int, _SchemeFacts] = {}


def _facts(scheme: Scheme) -> _SchemeFacts:
    found = _FACTS.get(id(scheme))  # the facts keep the scheme alive, so its id is not reused
    if found is None:
        found = _FACTS[id(scheme)] = _SchemeFacts(scheme)
    return found


def _outcomes(scheme: Scheme, ids: tuple[str, ...], catalog: Catalog) -> tuple[Outcome, ...]:
    items, lang = _facts(scheme).items, catalog.lang
    return memo(scheme, ("outcomes", ids, lang, catalog.path), lambda: tuple(
        Outcome(o, scheme.outcome_label(o, lang), items[o].description.get(lang) if o in items and
                items[o].description else "", items[o].owner if o in items else None,
                catalog.label("owners", items[o].owner if o in items else None)) for o in ids))


def _section(shape: _SectionShape, record: Record, catalog: Catalog) -> Section:
    scheme = shape.scheme
    if shape.reason_views is not None:
        reasons = tuple([view.reason(record.get(view.test.input)) for view in shape.reason_views])
    else:  # an `any:` rule: the reasons include the branch that holds for this customer
        found = []
        for rule in shape.reason_rules:
            holding = next((b for b in rule.any if all(t.matches(record.get(t.input)) for t in b)), ())
            found += [_view(scheme, test, catalog).reason(record.get(test.input)) for test in (*rule.when, *holding)]
        reasons = tuple(found)
    tiered = scheme.tiered and scheme.plan_section == "segment"  # a talking style or a kind is no tier to climb
    next_tier = _next_tier(scheme, shape.result, record, catalog) if tiered else None
    return Section(*shape.head, reasons, next_tier, shape.points, shape.notes, shape.owner_label)


class _TestView:
    """What a plan shows of one test: the input's title and the condition, the same for every
    customer, and the customer's value. A reason or need with an enum, yes/no or missing value is
    made once per value (few distinct ones); with a number, per customer."""

    def __init__(self, test: UnaryTest, decl: Input, catalog: Catalog) -> None:
        self.test, self.decl, self.catalog = test, decl, catalog
        self.title = decl.display(catalog.lang)
        self.condition = _condition_text(decl, test, catalog)
        self.few = decl.type in ("enum", "boolean")
        self._reasons: dict[object, Reason] = {}
        self._needs: dict[object, Need] = {}

    def reason(self, value: object) -> Reason:
        if not self.few and value is not None:
            return Reason(self.test.input, self.title, format_value(self.decl, value, self.catalog), self.condition,
                          self.test.text)
        found = self._reasons.get(value)
        if found is None:
            found = self._reasons[value] = Reason(self.test.input, self.title, show_value(self.decl, value,
                                                                                         self.catalog),
                                                  self.condition, self.test.text)
        return found

    def need(self, value: object) -> Need:
        if not self.few and value is not None:
            return Need(self.test.input, self.title, format_value(self.decl, value, self.catalog), self.condition)
        found = self._needs.get(value)
        if found is None:
            found = self._needs[value] = Need(self.test.input, self.title, show_value(self.decl, value, self.catalog),
                                              self.condition)
        return found


_VIEWS: dict[tuple[int, int], _TestView] = {}


def _view(scheme: Scheme, test: UnaryTest, catalog: Catalog) -> _TestView:
    # The view keeps the test and the catalog alive, so neither id in the key can be reused.
    key = (id(test), id(catalog))
    found = _VIEWS.get(key)
    if found is None:
        found = _VIEWS[key] = _TestView(test, scheme.inputs[test.input], catalog)
    return found


def _next_tier(scheme: Scheme, result: SchemeResult, record: Record, catalog: Catalog) -> NextTier | None:
    """What explain's `next_better` shows first, computed for the one rule it is about (a plan is
    built per customer of a whole file, so only what the plan shows is worked out)."""
    facts = _facts(scheme)
    if result.status == "matched":
        rung = facts.rungs.get(result.outcome[0])
        if rung is None:
            return None  # off the ladder (a drain tier): no rung to climb from
        # The nearest better tier that is a step up for this customer.
        found = next(((rule, failing) for rule in reversed(facts.ladder[:rung]) if rule.id in facts.climbable
                      and not _down(facts, failing := _failing(rule, record), record)), None)
    else:  # no rule matched: the tier that asks least, the lowest on a tie
        found = min(((rule, failing) for rule in reversed(facts.ladder) if rule.id in facts.climbable
                     and not _down(facts, failing := _failing(rule, record), record)),
                    key=lambda pair: len(pair[1]), default=None)
    if found is None:
        return None
    best, failing = found
    needs = tuple([_view(scheme, test, catalog).need(record.get(test.input)) for test in failing])
    return NextTier(best.id, best.label.get(catalog.lang), needs)


def _down(facts: _SchemeFacts, failing: list[UnaryTest], record: Record) -> bool:
    """Whether a need points down the ladder (explain's points_down; its direction worked out once per input)."""
    for test in failing:
        value = record.get(test.input)
        if value is None or not test.ordered:
            continue
        if test.input not in facts.directions:
            facts.directions[test.input] = ladder_direction(facts.scheme, test.input)
        direction = facts.directions[test.input]
        if direction and points_down(facts.scheme, test, value, direction):
            return True
    return False


def _failing(rule: Rule, record: Record) -> list[UnaryTest]:
    """The tests a customer fails for `rule`; of `any:` branches, the one with fewest failing tests."""
    failing = [test for test in rule.when if not test.matches(record.get(test.input))]
    branches = [[test for test in branch if not test.matches(record.get(test.input))] for branch in rule.any]
    if branches and all(branches):
        failing += min(branches, key=len)
    return failing


def _condition_text(decl: Input, test: UnaryTest, catalog: Catalog) -> str:
    if decl.type == "boolean" and len(test.members) == 1 and not test.negated and not test.accepts_missing:
        return show_value(decl, next(iter(test.members)), catalog)  # 是/否, not true/false
    shown = describe_need(test, decl).get(catalog.lang)
    return _group_digits(shown) if decl.type == "number" else shown


def _group_digits(text: str) -> str:
    """5000000 -> 5,000,000 inside a condition (numbers only: a date's year must stay 2024)."""
    return re.sub(r"\d{4,}", lambda m: f"{int(m.group()):,}", text)


def build_plan(schemes: Sequence[Scheme], records: Mapping[str, Record], customer_id: str, name: str,
               as_of: dt.date, catalog: Catalog, domain: object = None,
               matched: Mapping[str, Sequence[int] | None] | None = None, policy: Policy | None = None) -> Plan:
    """The plan for one customer: `records` holds the customer's typed values per scheme id, and
    `domain` their domain cell. When a backend has evaluated the customer, `matched` holds the indices
    of the rules that match per scheme, None for a scheme out of the customer's scope."""
    return _build(schemes, records, customer_id, name, as_of, catalog, domain, matched, policy or DEFAULT_POLICY)[0]


def _build(schemes: Sequence[Scheme], records: Mapping[str, Record], customer_id: str, name: str, as_of: dt.date,
           catalog: Catalog, domain: object, matched: Mapping[str, Sequence[int] | None] | None,
           policy: Policy) -> tuple[Plan, Chosen]:
    applied: list[tuple[Scheme, SchemeResult]] = []
    applied_records: list[tuple[Scheme, Record]] = []
    for scheme in schemes:
        record = records[scheme.id]
        if matched is None:
            in_scope = not scheme.scope.limited or scheme.scope.applies(record, domain)
            hits = [r.index for r in scheme.rules if r.matches(record)] if in_scope else None
        else:
            hits = matched[scheme.id]
        if hits is None:
            continue  # out of scope: the scheme says nothing about this customer
        applied.append((scheme, _facts(scheme).result(hits)))
        applied_records.append((scheme, record))
    shape = _plan_shape(applied, as_of, catalog, policy)
    sections: dict[str, list[Section]] = {kind: [] for kind in SECTIONS}
    by_scheme: dict[str, Section] = {}
    facts: dict[str, Fact] = {}
    for section_shape, (scheme, record) in zip(shape.sections, applied_records, strict=True):
        section = _section(section_shape, record, catalog)
        sections[section.kind].append(section)
        by_scheme[scheme.id] = section
        for reason in section.reasons:
            if reason.input not in facts:
                facts[reason.input] = Fact(reason.input, reason.title, reason.value)
    customer = Customer(customer_id, name, tuple(facts.values()), ShownValues(applied_records, catalog))

    def value_of(input_name: str) -> Value:
        return next((record.get(input_name) for _, record in applied_records if input_name in record), None)

    chosen = choose(shape.offers, shape.offer_probes, shape.policy_probes, shape.outcomes, shape.arbitrations,
                    records, value_of, policy, as_of, catalog)
    return Plan(customer, as_of, catalog.lang, tuple(sections["segment"]), tuple(sections["talking_points"]),
                tuple(sections["contacts"]), chosen.actions, shape.sources, by_scheme, chosen.considered,
                chosen.contradictions), chosen


def customer_identity(customer: Mapping[str, object], id_column: str | None = None) -> tuple[str, str]:
    """(id, name) of a customer record, under their usual column names."""
    id_keys = (id_column,) if id_column else ("id", "customer_id", "客户编号", "客户ID", "客户id")
    pick = lambda keys: next((str(customer[k]) for k in keys if k and customer.get(k) not in (None, "")), "")  # noqa: E731
    return pick(id_keys), pick(NAME_COLUMNS)


def plan_for_customer(rulebook: Rulebook, customer: Mapping[str, object], as_of: dt.date, catalog: Catalog,
                      schemes: Sequence[str] | None = None, id_column: str | None = None,
                      domain: str | None = None) -> Plan:
    """The plan for one customer given as a mapping (JSON, or a row of a file); `domain` keeps the
    schemes for that domain and those without one (--domain)."""
    return explain_actions(rulebook, customer, as_of, catalog, schemes, id_column, domain).plan


@dataclass(frozen=True)
class ActionTrace:
    """How the policy chose one customer's actions, step by step (kece explain --actions)."""

    plan: Plan
    arbitration: Arbitration
    policy: Policy


def explain_actions(rulebook: Rulebook, customer: Mapping[str, object], as_of: dt.date, catalog: Catalog,
                    schemes: Sequence[str] | None = None, id_column: str | None = None,
                    domain: str | None = None) -> ActionTrace:
    """The plan for one customer with the arbitration that chose its actions."""
    usable, _, prepared, domains = prepare_customer(rulebook, customer, schemes, catalog.lang, domain)
    customer_id, name = customer_identity(customer, id_column)
    records = {scheme.id: prepared.records(scheme)[0] for scheme in usable}
    policy = rulebook.policy or DEFAULT_POLICY
    plan, chosen = _build(usable, records, customer_id, name, as_of, catalog,
                          domains[0] if domains is not None else None, None, policy)
    return ActionTrace(plan, chosen.result, policy)
