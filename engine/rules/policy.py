"""The arbitration policy (`policy.yaml` beside the rule files): how the actions of every scheme
that applies to a customer become the few a rep does. Business users edit it like a rule file; it
is read with the same located errors and did-you-mean, and `kece schema --policy` gives its schema.

- conflicts: intents that contradict each other (docs/playbooks.md), and which one a plan keeps;
- suppress: conditions over scheme results and inputs that remove intents, channels or actions;
- contact: at most N touches per period, per customer, channel and owner (due dates are spread);
- ranking: priority = intent weight × scheme and action levers × customer value × propensity;
- limit: how many actions a plan's front list shows (the rest go to its appendix, with reasons).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

from engine.errors import Location, Problem, Say
from engine.rules.actions import INTENTS
from engine.rules.literals import did_you_mean
from engine.rules.model import Action, Input, Scheme, Value
from engine.rules.spec import TEST_SCHEMA, Channel, Intent, SourceRef, SpecReader, Text, doc, json_schema
from engine.rules.unary import UnaryTest, UnaryTestError, parse_test
from engine.rules.yamlnodes import Raw, compose_text, read_rule_file

POLICY_FILE = "policy.yaml"
CHANNELS: tuple[str, ...] = get_args(Channel)
# Pairs of intents that tell a rep opposite things about one customer. A policy must say which
# one wins wherever both can arise; `kece check` finds the regions where it does not.
CONTRADICTIONS: frozenset[frozenset[str]] = frozenset(frozenset(pair) for pair in (
    ("stop_contact", "grow"), ("stop_contact", "retain"), ("stop_contact", "win_back"), ("stop_contact", "nurture"),
    ("win_back", "grow"), ("win_back", "retain"), ("nurture", "retain"),
))


# ---- the file, as written ---------------------------------------------------------------------

@dataclass(frozen=True)
class ConflictSpec:
    id: str
    keep: Intent = field(metadata=doc("The intent a plan keeps when it meets one of drop"))
    drop: tuple[Intent, ...] = field(metadata=doc("Intents whose actions are dropped when keep is present"))
    reason: Text = field(metadata=doc("Why, in words a rep reads"))
    source: SourceRef | None = None
    assumption: Text | None = None
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class SuppressSpec:
    id: str
    when: dict[str, Raw] = field(metadata=doc(
        "Scheme id -> its result (rule ids), or input name -> unary test; all must hold", schema=TEST_SCHEMA))
    reason: Text
    intents: tuple[Intent, ...] = ()
    channels: tuple[Channel, ...] = ()
    actions: tuple[str, ...] = field(default=(), metadata=doc("Action keys: scheme.action_id, or a catalog id"))
    source: SourceRef | None = None
    assumption: Text | None = None
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class CapSpec:
    max: int
    per_days: int
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class ContactSpec:
    touches: CapSpec | None = field(default=None, metadata=doc("All touches of one customer"))
    channels: dict[str, CapSpec] = field(default_factory=dict, metadata=doc("Channel -> its cap"))
    owners: dict[str, CapSpec] = field(default_factory=dict, metadata=doc("Owner role -> its cap"))
    assumption: Text | None = None
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class WeightingSpec:
    scheme: str
    weights: dict[str, float] = field(metadata=doc("The scheme's result (rule or band id) -> weight"))
    intents: tuple[Intent, ...] | None = field(default=None, metadata=doc("Only actions of these intents"))
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class RankingSpec:
    intents: dict[str, float] = field(default_factory=dict, metadata=doc("Intent -> weight (default 1)"))
    schemes: dict[str, float] = field(default_factory=dict, metadata=doc("Scheme id -> lever (default 1)"))
    actions: dict[str, float] = field(default_factory=dict, metadata=doc("Action key -> lever (default 1)"))
    value: tuple[WeightingSpec, ...] = field(default=(), metadata=doc(
        "The customer's value: the first listed scheme with a result gives the weight"))
    propensity: tuple[WeightingSpec, ...] = field(default=(), metadata=doc(
        "The customer's propensity to respond: the first listed scheme with a result gives the weight"))
    assumption: Text | None = None
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class PolicySpec:
    title: Text
    description: Text | None = None
    source: SourceRef | None = None
    limit: int = field(default=5, metadata=doc("Actions on a plan's front list"))
    horizon_days: int = field(default=90, metadata=doc("Actions are scheduled within this many days"))
    conflicts: tuple[ConflictSpec, ...] = ()
    suppress: tuple[SuppressSpec, ...] = ()
    contact: ContactSpec | None = None
    ranking: RankingSpec | None = None
    location: Location = field(default=Location(""), compare=False)


# ---- what it means ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Conflict:
    id: str
    keep: str
    drop: frozenset[str]
    reason: Text
    location: Location


@dataclass(frozen=True)
class Condition:
    """All must hold: each scheme's result passes its test, each input's value passes its test."""

    results: tuple[UnaryTest, ...] = ()  # test.input is a scheme id, its values the scheme's outcome ids
    inputs: tuple[UnaryTest, ...] = ()

    def holds(self, outcomes: Mapping[str, tuple[str, ...]], value: Callable[[str], Value]) -> bool:
        return self.results_hold(outcomes) and all(test.matches(value(test.input)) for test in self.inputs)

    def results_hold(self, outcomes: Mapping[str, tuple[str, ...]]) -> bool:
        """The results part alone; a scheme with no result for the customer reads as missing."""
        for test in self.results:
            found = outcomes.get(test.input, ())
            if not (any(test.matches(o) for o in found) if found else test.matches(None)):
                return False
        return True


@dataclass(frozen=True)
class Suppression:
    id: str
    condition: Condition
    intents: frozenset[str]
    channels: frozenset[str]
    actions: frozenset[str]
    reason: Text
    location: Location

    def removes(self, action: Action) -> bool:
        return action.intent in self.intents or action.channel in self.channels or action.key in self.actions


@dataclass(frozen=True)
class Cap:
    max: int
    per_days: int


@dataclass(frozen=True)
class Weighting:
    scheme: str
    weights: Mapping[str, float]
    intents: frozenset[str] | None = None

    def weight(self, outcomes: Mapping[str, tuple[str, ...]], intent: str | None) -> float | None:
        """The weight for this customer's result, None when the scheme gave none (or it does not apply)."""
        if self.intents is not None and intent not in self.intents:
            return None
        found = [self.weights[o] for o in outcomes.get(self.scheme, ()) if o in self.weights]
        return max(found) if found else None


@dataclass(frozen=True)
class Policy:
    limit: int = 5
    horizon_days: int = 90
    conflicts: tuple[Conflict, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    touches: Cap | None = None
    channel_caps: Mapping[str, Cap] = field(default_factory=dict)
    owner_caps: Mapping[str, Cap] = field(default_factory=dict)
    intent_weights: Mapping[str, float] = field(default_factory=dict)
    scheme_levers: Mapping[str, float] = field(default_factory=dict)
    action_levers: Mapping[str, float] = field(default_factory=dict)
    value: tuple[Weighting, ...] = ()
    propensity: tuple[Weighting, ...] = ()
    title: Text = Text("默认策略(未找到 policy.yaml)", "Default policy (no policy.yaml)")
    path: str = ""

    def resolves(self, a: str, b: str) -> Conflict | None:
        """The conflict rule that settles intents a and b meeting, if any."""
        return next((c for c in self.conflicts if (c.keep == a and b in c.drop) or (c.keep == b and a in c.drop)),
                    None)


_DEFAULT = Location("")  # the default policy has no file to point at
# Without a policy.yaml, contradictions are still settled, the way the bundled policy does.
DEFAULT_POLICY = Policy(conflicts=(
    Conflict("stop_contact_first", "stop_contact", frozenset({"grow", "retain", "win_back", "nurture"}),
             Text("已决定终止关系或削减投入的客户,不再安排其他跟进",
                  "The relationship is being ended or cut back, so no other follow-up is planned"), _DEFAULT),
    Conflict("win_back_before_grow", "win_back", frozenset({"grow", "retain"}),
             Text("客户已流失或正在流失,先挽回关系", "The customer has lapsed or is lapsing; win them back first"),
             _DEFAULT),
    Conflict("retain_before_nurture", "retain", frozenset({"nurture"}),
             Text("已是需要维系的重要客户,不再按潜在客户培育",
                  "Already a customer worth retaining, not nurtured like a prospect"), _DEFAULT),
))


def schemas() -> dict[str, dict]:
    """The JSON Schemas of every file kind in a rules folder: rule files, the policy, the action catalog."""
    from engine.rules.actions import CatalogSpec

    return {"rules": json_schema(),
            "policy": json_schema(PolicySpec, "kece arbitration policy (policy.yaml)", "policy"),
            "actions": json_schema(CatalogSpec, "kece action catalog (actions.yaml)", "actions")}


def load_policy(directory: Path, shown: Callable[[Path], str], schemes: Sequence[Scheme],
                catalog: Mapping[str, Action]) -> tuple[Policy, list[Problem]]:
    """`directory/policy.yaml` checked against the schemes and actions it names; the default policy
    (front list of 5, no conflicts settled) when there is none."""
    path = directory / POLICY_FILE
    if not path.is_file():
        return DEFAULT_POLICY, []
    where = str(Path(shown(directory)) / path.name)  # the link's name, not where it points
    text, problems = read_rule_file(path, where, directory)
    if text is None:
        return DEFAULT_POLICY, problems
    node, problems = compose_text(text, where)
    if node is None:
        return DEFAULT_POLICY, problems
    reader = SpecReader(where)
    spec = reader.read(PolicySpec, node)
    if spec is None:
        return DEFAULT_POLICY, reader.problems
    builder = _PolicyBuilder(spec, where, schemes, catalog)
    policy = builder.build()
    return policy, reader.problems + builder.problems


class _PolicyBuilder:
    def __init__(self, spec: PolicySpec, path: str, schemes: Sequence[Scheme], catalog: Mapping[str, Action]) -> None:
        self.spec, self.path = spec, path
        self.schemes = {scheme.id: scheme for scheme in schemes}
        self.inputs: dict[str, Input] = {}
        for scheme in schemes:
            for name, decl in scheme.inputs.items():
                self.inputs.setdefault(name, decl)
        self.actions = {action.key for scheme in schemes for item in (*scheme.rules, *scheme.bands)
                        for action in item.strategy} | set(catalog)
        self.owners = {action.owner for scheme in schemes for item in (*scheme.rules, *scheme.bands)
                       for action in item.strategy if action.owner} | {a.owner for a in catalog.values() if a.owner}
        self.problems: list[Problem] = []

    def problem(self, location: Location, key_path: str, message: Say, suggestion: Say | None = None) -> None:
        self.problems.append(Problem(location, key_path, message, suggestion))

    def build(self) -> Policy:
        spec = self.spec
        for name, value in (("limit", spec.limit), ("horizon_days", spec.horizon_days)):
            if value < 1:
                self.problem(spec.location, name, Say(f"{name} must be at least 1", f"{name} 至少为 1"))
        conflicts = tuple(self._conflict(i, c) for i, c in enumerate(spec.conflicts))
        self._unique_ids([(c.id, c.location) for c in spec.conflicts], "conflicts")
        self._unique_ids([(s.id, s.location) for s in spec.suppress], "suppress")
        suppressions = tuple(self._suppression(i, s) for i, s in enumerate(spec.suppress))
        contact = spec.contact or ContactSpec()
        for channel in contact.channels:
            if channel not in CHANNELS:
                self.problem(contact.channels[channel].location, f"contact.channels.{channel}",
                             Say(f"unknown channel '{channel}'", f"未知的渠道“{channel}”"),
                             did_you_mean(channel, CHANNELS, Say("channels", "可用的渠道")))
        for owner in contact.owners:
            if owner not in self.owners:
                self.problem(contact.owners[owner].location, f"contact.owners.{owner}",
                             Say(f"no action has owner '{owner}'", f"没有行动的负责人是“{owner}”"),
                             did_you_mean(owner, sorted(self.owners), Say("owners", "已有的负责人")))
        caps = [(f"contact.{k}", c) for k, c in (("touches", contact.touches),) if c] + \
            [(f"contact.channels.{k}", c) for k, c in contact.channels.items()] + \
            [(f"contact.owners.{k}", c) for k, c in contact.owners.items()]
        for key, cap in caps:
            if cap.max < 1 or cap.per_days < 1:
                self.problem(cap.location, key, Say("max and per_days must be at least 1",
                                                    "max 和 per_days 至少为 1"))
        ranking = spec.ranking or RankingSpec()
        self._known(ranking.intents, INTENTS, "ranking.intents", Say("intent", "意图"), ranking.location)
        self._known(ranking.schemes, self.schemes, "ranking.schemes", Say("scheme", "方案"), ranking.location)
        self._known(ranking.actions, self.actions, "ranking.actions", Say("action", "行动"), ranking.location)
        for key, weights in (("intents", ranking.intents), ("schemes", ranking.schemes), ("actions", ranking.actions)):
            for name, weight in weights.items():
                if weight <= 0:
                    self.problem(ranking.location, f"ranking.{key}.{name}",
                                 Say("a weight must be above 0 (use suppress: to remove actions)",
                                     "权重必须大于 0(要去掉行动请用 suppress:)"))
        return Policy(
            spec.limit, spec.horizon_days, conflicts, suppressions,
            Cap(contact.touches.max, contact.touches.per_days) if contact.touches else None,
            {k: Cap(c.max, c.per_days) for k, c in contact.channels.items()},
            {k: Cap(c.max, c.per_days) for k, c in contact.owners.items()},
            dict(ranking.intents), dict(ranking.schemes), dict(ranking.actions),
            tuple(self._weighting(f"ranking.value[{i}]", w) for i, w in enumerate(ranking.value)),
            tuple(self._weighting(f"ranking.propensity[{i}]", w) for i, w in enumerate(ranking.propensity)),
            spec.title, self.path)

    def _unique_ids(self, items: list[tuple[str, Location]], key: str) -> None:
        seen: dict[str, Location] = {}
        for index, (item_id, location) in enumerate(items):
            if item_id in seen:
                self.problem(location, f"{key}[{index}].id",
                             Say(f"id '{item_id}' is also used at line {seen[item_id].line}",
                                 f"id“{item_id}”已在第 {seen[item_id].line} 行使用"))
            seen.setdefault(item_id, location)

    def _known(self, names: Mapping[str, object], known, key: str, what: Say, location: Location) -> None:
        for name in names:
            if name not in known:
                self.problem(location, f"{key}.{name}", Say(f"unknown {what.en} '{name}'", f"未知的{what.zh}“{name}”"),
                             did_you_mean(name, sorted(known)))

    def _conflict(self, index: int, spec: ConflictSpec) -> Conflict:
        if spec.keep in spec.drop:
            self.problem(spec.location, f"conflicts[{index}].drop",
                         Say(f"'{spec.keep}' is both kept and dropped", f"“{spec.keep}”既保留又去掉"))
        return Conflict(spec.id, spec.keep, frozenset(spec.drop), spec.reason, spec.location)

    def _suppression(self, index: int, spec: SuppressSpec) -> Suppression:
        key = f"suppress[{index}]"
        if not (spec.intents or spec.channels or spec.actions):
            self.problem(spec.location, key, Say("the rule removes nothing", "该规则没有去掉任何行动"),
                         Say("give intents:, channels: or actions:", "请写 intents:、channels: 或 actions:"))
        for action in spec.actions:
            if action not in self.actions:
                self.problem(spec.location, f"{key}.actions",
                             Say(f"unknown action '{action}'", f"未知的行动“{action}”"),
                             did_you_mean(action, sorted(self.actions)))
        if not spec.when:
            self.problem(spec.location, f"{key}.when", Say("the rule has no condition", "该规则没有条件"),
                         Say("name a scheme result or an input test, e.g. when: {value_tier: drain}",
                             "请写方案结果或输入条件,例如 when: {value_tier: drain}"))
        return Suppression(spec.id, self._condition(spec.when, f"{key}.when"), frozenset(spec.intents),
                           frozenset(spec.channels), frozenset(spec.actions), spec.reason, spec.location)

    def _condition(self, when: Mapping[str, Raw], key: str) -> Condition:
        results, inputs = [], []
        for name, raw in when.items():
            where = raw.key_location or raw.location
            scheme = self.schemes.get(name)
            try:
                if scheme is not None:
                    outcomes = tuple(dict.fromkeys((*scheme.rule_ids, *(b.id for b in scheme.bands))))
                    results.append(parse_test(name, "enum", raw, outcomes))
                elif name in self.inputs:
                    decl = self.inputs[name]
                    inputs.append(parse_test(name, decl.type, raw, decl.values))
                else:
                    self.problem(where, f"{key}.{name}",
                                 Say(f"'{name}' is neither a scheme nor an input", f"“{name}”既不是方案也不是输入"),
                                 did_you_mean(name, sorted({*self.schemes, *self.inputs})))
            except UnaryTestError as exc:
                self.problem(raw.location, f"{key}.{name}", Say(f"{raw.text!r}: {exc.message.en}",
                                                                f"“{raw.text}”:{exc.message.zh}"), exc.suggestion)
        return Condition(tuple(results), tuple(inputs))

    def _weighting(self, key: str, spec: WeightingSpec) -> Weighting:
        scheme = self.schemes.get(spec.scheme)
        if scheme is None:
            self.problem(spec.location, f"{key}.scheme", Say(f"unknown scheme '{spec.scheme}'",
                                                             f"未知的方案“{spec.scheme}”"),
                         did_you_mean(spec.scheme, sorted(self.schemes)))
        else:
            outcomes = {*scheme.rule_ids, *(b.id for b in scheme.bands)}
            self._known(spec.weights, outcomes, f"{key}.weights", Say(f"result of {scheme.id}", f"{scheme.id} 的结果"),
                        spec.location)
        return Weighting(spec.scheme, dict(spec.weights), frozenset(spec.intents) if spec.intents is not None else None)
