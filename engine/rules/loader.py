"""Load rule files into a Rulebook, reporting every problem of every file at once.

Over 400 lines, and one thing: `_SchemeBuilder` turns one file's spec into a Scheme section by
section (inputs, scope, rules, bands, examples), collecting located problems as it goes; splitting it
would scatter the checks that refer to each other (a rule's tests need the inputs, an example's
expectation the rule ids)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import yaml

from engine.errors import Location, Problem, RuleLoadError, Say
from engine.limits import limits
from engine.rules.actions import CATALOG_FILE, ActionCompiler, load_catalog
from engine.rules.literals import ORDERED_TYPES, LiteralError, did_you_mean, format_value, parse_literal
from engine.rules.model import OUT_OF_SCOPE, Action, Band, Example, Input, Rule, Rulebook, Scheme, Scope, Value
from engine.rules.policy import POLICY_FILE, load_policy
from engine.rules.spec import ActionSpec, RuleSpec, SchemeSpec, SpecReader, Text
from engine.rules.unary import UnaryTest, UnaryTestError, parse_test
from engine.rules.yamlnodes import Raw, compose_text, node_location, read_rule_file

SCHEME_ID = re.compile(r"^[a-z][a-z0-9_]*$")
RULE_ID = re.compile(r"^[A-Za-z\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*$")
ROLE_ID = re.compile(r"^[a-z][a-z0-9_]*$")  # as actions' owners: a key of owners: in playbooks/messages
INPUT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RESERVED_PREFIX = "kece_"
DECLARE_IT = Say("declare it under inputs:", "请先在 inputs: 下声明它")
# Reserved names in a rules folder: derived features, the action catalog and the arbitration policy.
NOT_SCHEMES = ("features.yaml", "features.yml", CATALOG_FILE, POLICY_FILE)


def _quoted(text: str, message: Say) -> Say:
    return Say(f"{text!r}: {message.en}", f"“{text}”:{message.zh}")


def rule_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir()
                  if p.suffix in (".yaml", ".yml") and p.is_file() and p.name not in NOT_SCHEMES)


def display_path(path: Path) -> str:
    """The path as a user would type it: relative to the working folder when inside it."""
    absolute = path.resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(absolute)


def load_rulebook(directory: Path | str) -> Rulebook:
    """Load every *.yaml in `directory`; raises RuleLoadError listing all problems."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RuleLoadError(
            [Problem(Location(str(directory)), "", Say("is not a folder of rule files", "不是规则文件夹"))]
        )
    problems: list[Problem] = []
    schemes: list[Scheme] = []
    files = rule_files(directory)
    if not files:
        problems.append(
            Problem(Location(display_path(directory)), "", Say("contains no .yaml rule files", "中没有 .yaml 规则文件"))
        )
    catalog, catalog_problems = load_catalog(directory, display_path)
    problems.extend(catalog_problems)
    for path in files:
        # Named as the folder lists it: a link's target is never shown.
        text, file_problems = read_rule_file(path, str(Path(display_path(directory)) / path.name), directory)
        if text is not None:
            scheme, file_problems = compile_scheme(text, display_path(path), catalog)
            if scheme is not None:
                schemes.append(scheme)
        problems.extend(file_problems)
    first_seen: dict[str, Scheme] = {}
    for scheme in schemes:
        if scheme.id in first_seen:
            other = first_seen[scheme.id]
            problems.append(
                Problem(
                    scheme.location,
                    "id",
                    Say(
                        f"scheme id '{scheme.id}' is also used by {other.path}",
                        f"方案 id“{scheme.id}”已被 {other.path} 使用",
                    ),
                    Say("give each rule file its own id", "请给每个规则文件不同的 id"),
                )
            )
        first_seen.setdefault(scheme.id, scheme)
    if problems:
        raise RuleLoadError(problems)
    policy, policy_problems = load_policy(directory, display_path, tuple(schemes), catalog)
    if policy_problems:
        raise RuleLoadError(policy_problems)
    return Rulebook(tuple(schemes), directory, catalog, policy)


def compile_scheme(text: str, shown: str, catalog: dict[str, Action] | None = None,
                   ) -> tuple[Scheme | None, list[Problem]]:
    """Read and check one rule file's text; `shown` is the path used in locations."""
    node, problems = compose_text(text, shown)
    if node is None:
        return None, problems
    too_many = _too_many_rules(node, shown)
    if too_many:
        return None, too_many
    reader = SpecReader(shown)
    spec = reader.read(SchemeSpec, node)
    if spec is None:
        return None, reader.problems
    builder = _SchemeBuilder(spec, shown, complete=not reader.problems, catalog=catalog)
    scheme = builder.build()
    all_problems = reader.problems + builder.problems
    return (None if all_problems else scheme), all_problems


def _too_many_rules(node: yaml.Node, shown: str) -> list[Problem]:
    # Checked on the node tree, before the work per rule (typing, analysis) that grows with the count.
    limit = limits().rules_per_file
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode) and len(value.value) > limit:
            return [Problem(node_location(shown, value), "rules", Say(
                f"{len(value.value):,} rules, more than the {limit:,} a file may have (KECE_MAX_RULES)",
                f"共 {len(value.value):,} 条规则,超过单个文件的上限 {limit:,}(KECE_MAX_RULES)"),
                Say("split it into several packs", "请拆分为多个规则文件"))]
    return []


def load_scheme_text(text: str, name: str = "<text>.yaml", catalog: dict[str, Action] | None = None) -> Scheme:
    """Load one scheme from YAML text (tests, the API); raises RuleLoadError."""
    scheme, problems = compile_scheme(text, name, catalog)
    if problems or scheme is None:
        raise RuleLoadError(problems)
    return scheme


class _SchemeBuilder:
    """Checks what a well-formed spec means and compiles it; collects problems."""

    def __init__(self, spec: SchemeSpec, path: str, complete: bool = True,
                 catalog: dict[str, Action] | None = None) -> None:
        # When parts of the file did not read, references to them would be reported as unknown twice.
        self.spec, self.path, self.complete = spec, path, complete
        self.problems: list[Problem] = []
        self.actions = ActionCompiler(self.problems, catalog)

    def problem(self, location: Location, key_path: str, message: Say, suggestion: Say | None = None) -> None:
        self.problems.append(Problem(location, key_path, message, suggestion))

    def build(self) -> Scheme:
        spec = self.spec
        if not SCHEME_ID.match(spec.id):
            self.problem(
                spec.location,
                "id",
                Say(f"'{spec.id}' is not a valid scheme id", f"“{spec.id}”不是有效的方案 id"),
                Say(
                    "use lowercase letters, digits and _, starting with a letter",
                    "请用小写英文字母、数字和 _,并以字母开头",
                ),
            )
        self.inputs = {name: self._input(name, decl) for name, decl in spec.inputs.items()}
        self.owner = self._owner(spec.owner, spec.location, "owner")
        rules = self._rules()
        bands = self._bands()
        scope = self._scope()
        scheme = Scheme(spec.id, spec.title, spec.hit_policy, self.inputs, rules, bands, (), spec.description,
                        spec.source, self.path, spec.location, spec.complete, scope, spec.plan_section,
                        self._ladder(rules), self.owner)
        # Examples are checked against the compiled rules, then attached.
        examples = tuple(self._example(i, ex, scheme) for i, ex in enumerate(spec.examples))
        return dataclasses.replace(scheme, examples=tuple(e for e in examples if e is not None))

    def _ladder(self, rules: tuple[Rule, ...]) -> tuple[str, ...]:
        """`tiers` as the rule ids of the ladder, best first."""
        raw, policy = self.spec.tiers, self.spec.hit_policy
        order = sorted(rules, key=lambda r: (-r.priority, r.index)) if policy == "priority" else list(rules)
        if raw is None or isinstance(raw.value, bool):
            wanted = raw.value if raw is not None else policy in ("first", "priority")
            return tuple(rule.id for rule in order) if wanted else ()
        if not raw.is_list:
            self.problem(raw.location, "tiers", Say(f"'{raw.text}' is not true, false or a list of rule ids",
                                                    f"“{raw.text}”不是 true、false 或规则 id 的列表"),
                         Say("list the tiers best first: tiers: [diamond, gold, silver]",
                             "请按由好到差列出等级:tiers: [diamond, gold, silver]"))
            return ()
        if policy in ("collect", "score"):
            self.problem(raw.location, "tiers", Say(f"a ladder of tiers needs one result per customer, not "
                                                    f"hit_policy {policy}", f"等级阶梯要求每位客户只有一个结果,"
                                                    f"不能用 hit_policy {policy}"))
            return ()
        position = {rule.id: n for n, rule in enumerate(order)}
        ladder: list[str] = []
        for n, item in enumerate(raw.value):
            key = f"tiers[{n}]"
            if item.value not in position:
                if self.complete:
                    self.problem(item.location, key, Say(f"unknown rule '{item.text}'", f"未知的规则“{item.text}”"),
                                 did_you_mean(str(item.text), list(position)))
            elif item.value in ladder:
                self.problem(item.location, key, Say(f"rule '{item.value}' is listed twice",
                                                     f"规则“{item.value}”重复列出"))
            elif policy != "unique" and ladder and position[item.value] < position[ladder[-1]]:
                # Under first/priority a better tier must be tried first, or a customer who meets it
                # could be held in a worse one, and the ladder would promise what the rules do not give.
                self.problem(item.location, key,
                             Say(f"'{item.value}' is listed below '{ladder[-1]}' but {policy} tries it first",
                                 f"“{item.value}”排在“{ladder[-1]}”之下,但按 {policy} 它先被判定"),
                             Say("list the tiers in the order the rules are tried, best first",
                                 "请按规则的判定顺序、由好到差列出等级"))
            else:
                ladder.append(item.value)
        if len(raw.value) < 2:
            self.problem(raw.location, "tiers", Say("a ladder needs at least two tiers", "等级阶梯至少要有两级"),
                         Say("or write tiers: false", "或写 tiers: false"))
        return tuple(ladder)

    def _input(self, name: str, decl) -> Input:
        key = f"inputs.{name}"
        if not INPUT_NAME.match(name) or name.startswith(RESERVED_PREFIX):
            self.problem(
                decl.location,
                key,
                Say(f"'{name}' is not a valid input name", f"“{name}”不是有效的输入名"),
                Say(
                    "use letters, digits and _, starting with a letter (not kece_)",
                    "请用英文字母、数字和 _,以字母开头(不能以 kece_ 开头)",
                ),
            )
        values = decl.values
        if decl.type == "enum":
            if not values:
                self.problem(
                    decl.location,
                    key,
                    Say("an enum input needs a non-empty list of values", "enum 输入需要非空的取值列表"),
                    Say("add values: [a, b, c]", "请添加 values: [a, b, c]"),
                )
            elif len(set(values)) != len(values):
                self.problem(decl.location, f"{key}.values", Say("a value is listed twice", "有取值重复列出"))
        elif values is not None:
            self.problem(
                decl.location,
                f"{key}.values",
                Say(
                    f"values are only for enum inputs, not {decl.type}", f"values 只用于 enum 输入,不能用于 {decl.type}"
                ),
                Say("change type to enum, or remove values", "请把 type 改为 enum,或删除 values"),
            )
        labels = self._labels(name, decl)
        bounds = []
        for which, raw in (("min", decl.min), ("max", decl.max)):
            if raw is None:
                bounds.append(None)
                continue
            if decl.type not in ORDERED_TYPES:
                self.problem(
                    raw.location,
                    f"{key}.{which}",
                    Say(
                        f"{which} is only for number, integer and date inputs",
                        f"{which} 只用于 number、integer 和 date 输入",
                    ),
                )
                bounds.append(None)
                continue
            bounds.append(self._literal(decl.type, raw, f"{key}.{which}", None))
        lo, hi = bounds
        if lo is not None and hi is not None and lo > hi:
            self.problem(decl.location, key, Say("min is larger than max", "min 大于 max"))
        return Input(name, decl.type, decl.title, decl.unit, values, lo, hi, decl.location, decl.required, decl.aliases,
                     labels)

    def _labels(self, name: str, decl) -> dict[str, Text]:
        """The labels of an enum's values; a label for a value that is not declared is a typo."""
        key = f"inputs.{name}.labels"
        if not decl.labels:
            return {}
        if decl.type != "enum":
            self.problem(
                decl.location,
                key,
                Say(f"labels are only for enum inputs, not {decl.type}",
                    f"labels 只用于 enum 输入,不能用于 {decl.type}"),
                Say("change type to enum, or remove labels", "请把 type 改为 enum,或删除 labels"),
            )
            return {}
        values = decl.values or ()
        for value, label in decl.labels.items():
            if value not in values:
                self.problem(
                    label.location,
                    f"{key}.{value}",
                    Say(f"'{value}' is not one of the values of '{name}'", f"“{value}”不是“{name}”的取值"),
                    did_you_mean(value, values, Say("values", "取值")),
                )
        return {value: label for value, label in decl.labels.items() if value in values}

    def _rules(self) -> tuple[Rule, ...]:
        seen: dict[str, RuleSpec] = {}
        rules = []
        if not self.spec.rules:
            self.problem(self.spec.location, "rules", Say("the scheme has no rules", "方案中没有规则"))
        for index, rule in enumerate(self.spec.rules):
            key = f"rules[{index}]"
            if not RULE_ID.match(rule.id):
                self.problem(
                    rule.location,
                    f"{key}.id",
                    Say(f"'{rule.id}' is not a valid rule id", f"“{rule.id}”不是有效的规则 id"),
                    Say("use letters, digits and _, starting with a letter", "请用字母、数字和 _,并以字母开头"),
                )
            if rule.id in seen:
                first = seen[rule.id].location.line
                self.problem(
                    rule.location,
                    f"{key}.id",
                    Say(
                        f"rule id '{rule.id}' is used twice (first at line {first})",
                        f"规则 id“{rule.id}”重复(第一次在第 {first} 行)",
                    ),
                )
            seen.setdefault(rule.id, rule)
            if rule.id == OUT_OF_SCOPE:
                self.problem(
                    rule.location,
                    f"{key}.id",
                    Say(f"'{OUT_OF_SCOPE}' is reserved for customers a scheme does not apply to",
                        f"“{OUT_OF_SCOPE}”保留给方案不适用的客户"),
                    Say("choose another rule id", "请换一个规则 id"),
                )
            if self.complete:
                self._policy_field(rule, key, "priority", rule.priority, "priority", "priority: 10")
                self._policy_field(rule, key, "points", rule.points, "score", "points: 10")
            when = self._conditions(rule.when or {}, f"{key}.when")
            branches = []
            for b, branch in enumerate(rule.any or ()):
                if not branch:
                    self.problem(
                        rule.location,
                        f"{key}.any[{b}]",
                        Say("an any: branch is empty (it would match everyone)", "any: 中有空分支(它会命中所有客户)"),
                        Say("remove the branch, or drop any:", "请删除该分支,或去掉 any:"),
                    )
                branches.append(self._conditions(branch, f"{key}.any[{b}]"))
            if rule.any is not None and not rule.any:
                self.problem(
                    rule.location,
                    f"{key}.any",
                    Say("any: is an empty list", "any: 是空列表"),
                    Say("remove it", "请删除它"),
                )
            rules.append(
                Rule(
                    rule.id,
                    index,
                    rule.label,
                    when,
                    tuple(branches),
                    rule.priority or 0,
                    rule.points or 0.0,
                    self._strategy(rule.strategy, f"{key}.strategy"),
                    rule.source,
                    rule.assumption,
                    rule.description,
                    rule.location,
                    self._segment_owner(rule.owner, rule.location, f"{key}.owner"),
                )
            )
            if rule.owner is not None and self.spec.hit_policy == "score":
                self.problem(rule.location, f"{key}.owner",
                             Say("under hit_policy score a rule adds points; the segment is the band",
                                 "hit_policy score 下规则只加分,细分类别是分档"),
                             Say("put owner: on the band instead", "请把 owner: 写在分档上"))
        return tuple(rules)

    def _owner(self, role: str | None, location: Location, key: str) -> str | None:
        if role is not None and not ROLE_ID.match(role):
            self.problem(location, key, Say(f"'{role}' is not a role id", f"“{role}”不是岗位 id"),
                         Say("write a role id such as branch_manager; its label in each language lives in "
                             "playbooks/messages under owners:",
                             "请写岗位 id,例如 branch_manager;各语言的名称在 playbooks/messages 的 owners: 下"))
            return None
        return role

    def _segment_owner(self, role: str | None, location: Location, key: str) -> str | None:
        return self._owner(role, location, key) if role is not None else self.owner

    def _scope(self) -> Scope:
        spec = self.spec.scope
        if spec is None:
            return Scope()
        tests = self._conditions(spec.when or {}, "scope.when")
        return Scope(spec.domain, tests, spec.description, spec.location)

    def _policy_field(self, rule: RuleSpec, key: str, name: str, value: object, policy: str, example: str) -> None:
        """`priority:` belongs to hit_policy priority and `points:` to score: required there, useless elsewhere."""
        current = self.spec.hit_policy
        if current == policy and value is None:
            self.problem(
                rule.location,
                key,
                Say(
                    f"hit_policy {policy} needs {name}: on every rule", f"hit_policy {policy} 要求每条规则都有 {name}:"
                ),
                Say(f"add {example}", f"请添加 {example}"),
            )
        elif current != policy and value is not None:
            self.problem(
                rule.location,
                f"{key}.{name}",
                Say(f"{name} is ignored under hit_policy {current}", f"hit_policy {current} 下 {name} 不起作用"),
                Say(f"remove it, or set hit_policy: {policy}", f"请删除它,或设置 hit_policy: {policy}"),
            )

    def _conditions(self, when: dict[str, Raw], key: str) -> tuple[UnaryTest, ...]:
        tests = []
        for name, raw in when.items():
            where = raw.key_location or raw.location
            decl = self.inputs.get(name)
            if decl is None:
                self.problem(
                    where,
                    f"{key}.{name}",
                    Say(f"unknown input '{name}'", f"未知的输入“{name}”"),
                    did_you_mean(name, self.inputs) or DECLARE_IT,
                )
                continue
            try:
                tests.append(parse_test(name, decl.type, raw, decl.values))
            except UnaryTestError as exc:
                self.problem(raw.location, f"{key}.{name}", _quoted(raw.text, exc.message), exc.suggestion)
        return tuple(tests)

    def _strategy(self, specs: tuple[ActionSpec, ...], key: str) -> tuple[Action, ...]:
        # Talking points and contact roles are not arbitrated, so they need no intent. When part of the
        # file did not read (a misspelt intent, say), that was reported; a missing intent would repeat it.
        needs_intent = self.spec.plan_section == "segment" and self.complete
        compiled = (self.actions.compile(spec, self.spec.id, f"{key}[{i}]", self._conditions, needs_intent)
                    for i, spec in enumerate(specs))
        return tuple(action for action in compiled if action is not None)

    def _bands(self) -> tuple[Band, ...]:
        bands = self.spec.bands
        if not self.complete:
            return ()
        if self.spec.hit_policy != "score":
            if bands is not None:
                self.problem(
                    self.spec.location,
                    "bands",
                    Say("bands are only used with hit_policy score", "bands 只用于 hit_policy score"),
                )
            return ()
        if not bands:
            self.problem(
                self.spec.location,
                "bands",
                Say(
                    "hit_policy score needs bands: to turn the total into a label",
                    "hit_policy score 需要 bands: 把总分转换为标签",
                ),
                Say(
                    'add bands: [{id: high, label: {zh: 高, en: High}, when: ">= 50"}, ...]',
                    '请添加 bands: [{id: high, label: {zh: 高, en: High}, when: ">= 50"}, ...]',
                ),
            )
            return ()
        rule_ids = {rule.id for rule in self.spec.rules}
        result, seen = [], set()
        for index, band in enumerate(bands):
            key = f"bands[{index}]"
            if band.id in seen or band.id in rule_ids:
                self.problem(
                    band.location,
                    f"{key}.id",
                    Say(f"'{band.id}' is already used by a band or rule", f"“{band.id}”已被其他分档或规则使用"),
                )
            seen.add(band.id)
            test = None
            if band.when is not None:
                try:
                    test = parse_test("score", "number", band.when, None)
                except UnaryTestError as exc:
                    self.problem(
                        band.when.location, f"{key}.when", _quoted(band.when.text, exc.message), exc.suggestion
                    )
            result.append(Band(band.id, index, band.label, test, band.location,
                               self._strategy(band.strategy, f"{key}.strategy"), band.source,
                               band.assumption, band.description,
                               self._segment_owner(band.owner, band.location, f"{key}.owner")))
        return tuple(result)

    def _example(self, index: int, example, scheme: Scheme) -> Example | None:
        key = f"examples[{index}]"
        given: dict[str, Value] = {}
        domain = None
        for name, raw in example.given.items():
            decl = self.inputs.get(name)
            if name == "domain" and decl is None:
                # The customer's domain cell: not an input, but it decides the scope.
                if raw.is_list:
                    self.problem(raw.location, f"{key}.given.domain",
                                 Say("an example value must be a single value", "示例的值必须是单个值"))
                else:
                    domain = raw.text if raw.value is not None else None
                continue
            if decl is None:
                self.problem(
                    raw.key_location or raw.location,
                    f"{key}.given.{name}",
                    Say(f"unknown input '{name}'", f"未知的输入“{name}”"),
                    did_you_mean(name, self.inputs) or DECLARE_IT,
                )
                continue
            if raw.value is None:
                if decl.required:
                    self.problem(
                        raw.location,
                        f"{key}.given.{name}",
                        Say(f"'{name}' is required, so it cannot be empty", f"“{name}”是必填输入,不能为空"),
                    )
                given[name] = None
            elif raw.is_list:
                self.problem(
                    raw.location,
                    f"{key}.given.{name}",
                    Say("an example value must be a single value", "示例的值必须是单个值"),
                )
            else:
                value = self._literal(decl.type, raw, f"{key}.given.{name}", decl.values)
                if value is not None and decl.min is not None and value < decl.min:
                    bound = format_value(decl.type, decl.min)
                    self.problem(
                        raw.location,
                        f"{key}.given.{name}",
                        Say(f"below the minimum {bound} of '{name}'", f"小于“{name}”的最小值 {bound}"),
                    )
                elif value is not None and decl.max is not None and value > decl.max:
                    bound = format_value(decl.type, decl.max)
                    self.problem(
                        raw.location,
                        f"{key}.given.{name}",
                        Say(f"above the maximum {bound} of '{name}'", f"大于“{name}”的最大值 {bound}"),
                    )
                given[name] = value
        expect_raw = example.expect
        if expect_raw.value is None:
            expect: tuple[str, ...] = ()
        elif expect_raw.is_list:
            expect = tuple(item.text for item in expect_raw.value)
        else:
            expect = (expect_raw.text,)
        if len(expect) > 1 and scheme.hit_policy != "collect":
            self.problem(
                expect_raw.location,
                f"{key}.expect",
                Say(
                    f"a list of rules is only expected under hit_policy collect, not {scheme.hit_policy}",
                    f"只有 hit_policy collect 才能期望多条规则,{scheme.hit_policy} 不行",
                ),
            )
        known = [band.id for band in scheme.bands] if scheme.hit_policy == "score" else list(scheme.rule_ids)
        known = list(dict.fromkeys(known))
        if expect == (OUT_OF_SCOPE,):
            if not scheme.scope.limited:
                self.problem(
                    expect_raw.location,
                    f"{key}.expect",
                    Say("the scheme has no scope:, so no customer is out of scope",
                        "方案没有 scope:,不会有客户不适用"),
                    Say("add scope: {domain: ...} or scope: {when: ...}",
                        "请添加 scope: {domain: ...} 或 scope: {when: ...}"),
                )
            return Example(given, expect, example.score, expect_raw.location, domain)
        for outcome in expect:
            if outcome not in known and self.complete:
                what = Say("band", "分档") if scheme.hit_policy == "score" else Say("rule", "规则")
                self.problem(
                    expect_raw.location,
                    f"{key}.expect",
                    Say(f"there is no {what.en} '{outcome}'", f"没有{what.zh}“{outcome}”"),
                    did_you_mean(outcome, [*known, OUT_OF_SCOPE] if scheme.scope.limited else known,
                                 Say("known", "已有")),
                )
        if example.score is not None and scheme.hit_policy != "score":
            self.problem(
                example.location,
                f"{key}.score",
                Say("score is only expected under hit_policy score", "只有 hit_policy score 才能期望 score"),
            )
        return Example(given, expect, example.score, expect_raw.location, domain)

    def _literal(self, input_type: str, raw: Raw, key: str, values):
        value = parse_literal(input_type, raw.text, values)
        if isinstance(value, LiteralError):
            self.problem(raw.location, key, value.message, value.suggestion)
            return None
        return value
