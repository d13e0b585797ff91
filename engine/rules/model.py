"""The compiled, frozen rulebook the backends run: what a rule file means, not how it was written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import Location
from engine.messages import t
from engine.rules.literals import format_value
from engine.rules.spec import HitPolicy, SourceRef, Text
from engine.rules.unary import UnaryTest

if TYPE_CHECKING:
    from engine.rules.policy import Policy

Value = float | int | bool | str | None
Record = Mapping[str, Value]


@dataclass(frozen=True)
class Input:
    name: str
    type: str
    title: Text | None
    unit: str | None
    values: tuple[str, ...] | None
    min: float | int | None
    max: float | int | None
    location: Location
    required: bool = False
    aliases: tuple[str, ...] = ()
    labels: dict[str, Text] = field(default_factory=dict, hash=False)  # enum value -> how readers see it

    def display(self, lang: str = "zh") -> str:
        return self.title.get(lang) if self.title else self.name

    def value_label(self, value: Value, lang: str = "zh") -> str:
        """A typed value as a reader sees it: an enum value's label (its id when it has none), 是/否 or
        yes/no for a boolean, other types as written. Output files keep the raw value."""
        if value is None:
            return t(lang, "value_missing")
        if self.type == "boolean" and isinstance(value, bool):
            return t(lang, "value_yes" if value else "value_no")
        label = self.labels.get(value) if isinstance(value, str) else None
        return label.get(lang) if label is not None else format_value(self.type, value)

    def unit_label(self, lang: str = "zh") -> str | None:
        """The unit in the reader's language: packs write it in either (`days`, `次`); an unknown unit as written."""
        if self.unit is None:
            return None
        names = UNIT_NAMES.get(self.unit.strip().lower())
        return names[lang == "en"] if names else self.unit


# Units packs use, in any spelling, as (zh, en).
UNIT_NAMES = {
    **dict.fromkeys(("day", "days", "天", "日"), ("天", "days")),
    **dict.fromkeys(("h", "hour", "hours", "小时"), ("小时", "hours")),
    **dict.fromkeys(("purchase", "purchases", "次", "times"), ("次", "times")),
    **dict.fromkeys(("岁", "years old", "age"), ("岁", "years")),
    **dict.fromkeys(("year", "years", "年"), ("年", "years")),
    **dict.fromkeys(("month", "months", "月", "个月"), ("个月", "months")),
    **dict.fromkeys(("cny", "rmb", "元"), ("元", "CNY")),
}


# Channels through which nobody reaches the customer: work done inside the company.
INTERNAL_CHANNELS = frozenset({"other"})


@dataclass(frozen=True)
class Action:
    """One strategy line, compiled. `key` is unique in the rulebook: `scheme_id.action_id` for an
    action written in a rule file, the action's id for one declared in actions.yaml."""

    key: str
    id: str
    intent: str | None
    text: Text
    channel: str | None
    cadence_days: int | None
    owner: str | None
    touch: bool
    when: tuple[UnaryTest, ...]
    location: Location
    shared: bool = False  # declared in actions.yaml

    def get(self, lang: str) -> str:
        return self.text.get(lang)

    @property
    def zh(self) -> str:
        return self.text.zh

    @property
    def en(self) -> str:
        return self.text.en

    def applies(self, record: Record) -> bool:
        return all(test.matches(record.get(test.input)) for test in self.when)


@dataclass(frozen=True)
class Rule:
    id: str
    index: int
    label: Text
    when: tuple[UnaryTest, ...]
    any: tuple[tuple[UnaryTest, ...], ...]
    priority: int
    points: float
    strategy: tuple[Action, ...]
    source: SourceRef | None
    assumption: Text | None
    description: Text | None
    location: Location
    owner: str | None = None  # the role responsible for the segment: the rule's `owner`, else the scheme's

    def matches(self, record: Record) -> bool:
        """The reference meaning: every `when` test holds, and one `any` branch if there are any."""
        if not all(test.matches(record.get(test.input)) for test in self.when):
            return False
        return not self.any or any(all(t.matches(record.get(t.input)) for t in branch) for branch in self.any)

    @cached_property
    def tests(self) -> tuple[UnaryTest, ...]:
        """Every test of the rule, `when` and `any` branches alike."""
        return (*self.when, *(test for branch in self.any for test in branch))

    @cached_property
    def inputs(self) -> frozenset[str]:
        return frozenset(test.input for test in self.tests)


@dataclass(frozen=True)
class Band:
    id: str
    index: int
    label: Text
    test: UnaryTest | None
    location: Location
    strategy: tuple[Action, ...] = ()
    source: SourceRef | None = None
    assumption: Text | None = None
    description: Text | None = None
    owner: str | None = None  # the band's `owner`, else the scheme's

    def matches(self, score: float) -> bool:
        return self.test is None or self.test.matches(score)


@dataclass(frozen=True)
class Example:
    given: dict[str, Value]
    expect: tuple[str, ...]  # (OUT_OF_SCOPE,) when the scheme must not apply to the customer
    score: float | None
    location: Location
    domain: str | None = None  # the customer's domain cell, when the example gives one

    @property
    def expects_out_of_scope(self) -> bool:
        return self.expect == (OUT_OF_SCOPE,)


OUT_OF_SCOPE = "out_of_scope"
# The domain column of a customer file or record, under any of its names.
DOMAIN_COLUMNS = ("domain", "领域", "客户领域")


def normalise_domain(cell: object) -> str:
    """A domain cell as compared: trimmed, case-folded; '' for empty."""
    return "" if cell is None else str(cell).strip().lower()


@dataclass(frozen=True)
class Scope:
    """Which customers a scheme is about. No domain and no tests: everyone."""

    domain: str | None = None
    tests: tuple[UnaryTest, ...] = ()
    description: Text | None = None
    location: Location = Location("")

    def applies(self, record: Record, domain: object = None) -> bool:
        """The reference meaning: the domain cell is empty or this scheme's, and every test holds."""
        cell = normalise_domain(domain)
        if self.domain is not None and cell and cell != self.domain:
            return False
        return all(test.matches(record.get(test.input)) for test in self.tests)

    @property
    def limited(self) -> bool:
        return self.domain is not None or bool(self.tests)


@dataclass(frozen=True)
class Scheme:
    id: str
    title: Text
    hit_policy: HitPolicy
    inputs: dict[str, Input]
    rules: tuple[Rule, ...]
    bands: tuple[Band, ...]
    examples: tuple[Example, ...]
    description: Text | None
    source: SourceRef | None
    path: str
    location: Location
    complete: bool = False
    scope: Scope = Scope()
    plan_section: str = "segment"
    ladder: tuple[str, ...] = ()  # the rule ids that are tiers, best first (`tiers`); () when none are
    owner: str | None = None  # the default owner of its segments; each rule and band carries its own

    @property
    def tiered(self) -> bool:
        """Explain and plans show the next better tier of the ladder."""
        return bool(self.ladder)

    @cached_property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules)

    def outcome_label(self, outcome_id: str, lang: str = "zh") -> str:
        for item in (*self.rules, *self.bands):
            if item.id == outcome_id:
                return item.label.get(lang)
        raise KeyError(outcome_id)

    def outcome_owner(self, outcome_id: str) -> str | None:
        """The role responsible for a rule's or band's customers (None when the scheme names none)."""
        for item in (*self.rules, *self.bands):
            if item.id == outcome_id:
                return item.owner
        raise KeyError(outcome_id)


@dataclass(frozen=True)
class Rulebook:
    schemes: tuple[Scheme, ...]
    directory: Path | None = None
    catalog: Mapping[str, Action] = field(default_factory=dict)  # actions.yaml: actions several schemes use
    policy: Policy | None = None  # policy.yaml; None: the default policy (engine.rules.policy.DEFAULT_POLICY)
    by_id: dict[str, Scheme] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {scheme.id: scheme for scheme in self.schemes})

    def select(self, ids: list[str] | tuple[str, ...] | None) -> tuple[Scheme, ...]:
        return self.schemes if not ids else tuple(self.by_id[i] for i in ids)
