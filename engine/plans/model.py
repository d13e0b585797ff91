"""What a playbook template reads of a plan: the plan's types (docs/playbooks.md lists every field)
and how a customer's value is shown to the reader. engine/plans/compose.py composes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.plans.playbook import Catalog, format_date, format_money, format_number, template_type
from engine.rules.model import Input, Record, Scheme


@template_type
@dataclass(frozen=True)
class Fact:
    """One input of the customer, as the reader sees it."""

    input: str
    title: str
    value: str


@template_type
@dataclass(frozen=True)
class Reason:
    """One test of a matched rule: `资产规模 6,000,000 元 ≥ 5,000,000`."""

    input: str
    title: str
    value: str
    condition: str  # what the rule asks for, in the reader's language
    test: str  # the test as written in the rule file


@template_type
@dataclass(frozen=True)
class Need:
    input: str
    title: str
    value: str
    needs: str


@template_type
@dataclass(frozen=True)
class NextTier:
    """What the customer lacks for the nearest better rule of a scheme whose rules are tiers (`tiers`)."""

    rule_id: str
    label: str
    needs: tuple[Need, ...]


@template_type
@dataclass(frozen=True)
class Outcome:
    id: str
    label: str
    description: str
    owner: str | None = None  # the role responsible for the segment, e.g. branch_manager
    owner_label: str = ""  # that role in the reader's language; '' when the scheme names no owner


@template_type
@dataclass(frozen=True)
class Point:
    """A talking point or a contact role: a strategy line of a talking_points or contacts scheme."""

    text: str
    notes: tuple[int, ...]


@template_type
@dataclass(frozen=True)
class Section:
    scheme_id: str
    title: str
    kind: str  # segment | talking_points | contacts
    status: str  # matched | unmatched | conflict
    outcomes: tuple[Outcome, ...]
    label: str  # the outcome labels joined; '' when nothing matched
    score: str | None
    reasons: tuple[Reason, ...]
    next_tier: NextTier | None
    points: tuple[Point, ...]
    notes: tuple[int, ...]
    # Who is responsible for the segment (003: every segment has a senior manager responsible for it):
    # the owner labels of the outcomes, joined; '' when nothing matched or no owner is named.
    owner_label: str = ""


@template_type
@dataclass(frozen=True)
class Action:
    """One action of the plan's front list, chosen by the policy (engine/plans/arbitrate.py)."""

    text: str
    channel: str | None
    channel_label: str
    owner: str | None
    owner_label: str
    cadence_days: int | None
    due: dt.date | None
    schemes: tuple[str, ...]
    notes: tuple[int, ...]
    key: str = ""  # scheme.action_id, or the catalog id
    intent: str = ""
    intent_label: str = ""
    priority: float = 1.0
    why: str = ""  # which segments recommend it and what ranked it, in the reader's language
    moved: bool = False  # a contact cap moved the due date later


@template_type
@dataclass(frozen=True)
class Considered:
    """An action a scheme recommends that the plan does not list, and why (the plan's appendix)."""

    text: str
    intent_label: str
    kind: str  # merged | suppressed | overridden | contact_limit | below_cut
    reason: str  # in the reader's language
    schemes: tuple[str, ...]


@template_type
@dataclass(frozen=True)
class Source:
    number: int
    scheme_id: str
    rule_id: str
    label: str
    file: str
    quote: str
    assumption: str


class ShownValues(Mapping[str, str]):
    """Every input of the applied schemes as the reader sees it, found and formatted only when a
    template reads it (most templates read none, and a file's plans would format every input of every row)."""

    def __init__(self, applied: Sequence[tuple[Scheme, Record]], catalog: Catalog) -> None:
        self._applied, self._catalog = applied, catalog
        self._found: dict[str, tuple[Input, object]] | None = None

    def _values(self) -> dict[str, tuple[Input, object]]:
        if self._found is None:
            found: dict[str, tuple[Input, object]] = {}
            for scheme, record in self._applied:
                for name, decl in scheme.inputs.items():
                    found.setdefault(name, (decl, record.get(name)))
            self._found = found
        return self._found

    def __getitem__(self, name: str) -> str:
        decl, value = self._values()[name]
        return show_value(decl, value, self._catalog)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())


@template_type
@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    facts: tuple[Fact, ...]  # the inputs the matched rules tested, in scheme order
    values: Mapping[str, str]  # every input of the applied schemes, by input name


@template_type
@dataclass(frozen=True)
class Plan:
    customer: Customer
    as_of: dt.date
    lang: str
    segments: tuple[Section, ...]
    talking_points: tuple[Section, ...]
    contacts: tuple[Section, ...]
    actions: tuple[Action, ...]
    sources: tuple[Source, ...]
    schemes: Mapping[str, Section] = field(default_factory=dict)  # every section by scheme id
    considered: tuple[Considered, ...] = ()  # what the policy dropped, each with its reason
    contradictions: tuple[str, ...] = ()  # intents that contradict and that no policy rule settles

    @property
    def main_segments(self) -> tuple[str, ...]:
        """The matched segment labels, for an index of plans."""
        return tuple(s.label for s in self.segments if s.label)


def show_value(decl: Input, value: object, catalog: Catalog) -> str:
    """`format_value`, remembered for the few values of an enum or yes/no input and for missing ones."""
    if decl.type in ("enum", "boolean") or value is None:  # few distinct values: shown once each
        # Keyed by the label too: two inputs may share an enum id (complete) but not its label.
        key = ("value", decl.type, value, decl.labels.get(value) if isinstance(value, str) else None)
        return memo(catalog, key, lambda: format_value(decl, value, catalog))
    return format_value(decl, value, catalog)


def format_value(decl: Input, value: object, catalog: Catalog) -> str:
    """A typed value as the reader sees it: an enum value's label, 是/否, money and numbers grouped, units."""
    lang = catalog.lang
    if value is None:
        return str(catalog.messages["missing"])
    if decl.type == "boolean":
        return str(catalog.messages["yes" if value else "no"])
    if decl.type == "date":
        return format_date(lang, dt.date(1970, 1, 1) + dt.timedelta(days=int(value)))  # type: ignore[call-overload]
    if decl.type in ("number", "integer"):
        if decl.unit in ("CNY", "RMB", "元"):
            return format_money(lang, value)
        shown = format_number(lang, value)
        unit = decl.unit_label(lang)
        return f"{shown} {unit}" if unit else shown
    return decl.value_label(value, lang)  # an enum value's label; a string as written


_MEMO: dict[tuple, tuple[object, Any]] = {}


def memo(owner: object, key: tuple, make: Any) -> Any:
    """What depends on one object (a scheme, a catalog) only, made once; `owner` is kept alive with it."""
    full = (id(owner), *key)
    found = _MEMO.get(full)
    if found is None:
        found = _MEMO[full] = (owner, make())
    return found[1]
