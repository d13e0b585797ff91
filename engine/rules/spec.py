"""The rule-file format as typed dataclasses that mirror the YAML, one per concept.

`SpecReader` turns a YAML node tree into these objects, collecting every problem (unknown and
missing keys, wrong kinds of value) with its location; `json_schema()` derives the editor schema
from the same classes, so the two cannot drift apart. Meaning (tests, types, references) is
checked one layer up, in `loader.py`.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, Union

import yaml

from engine.errors import Location, Problem, Say
from engine.rules.literals import did_you_mean
from engine.rules.yamlnodes import Raw, node_location, raw_from_node, scalar_value

HitPolicy = Literal["unique", "first", "priority", "collect", "score"]
InputType = Literal["number", "integer", "boolean", "enum", "string", "date"]
Channel = Literal["visit", "phone", "wechat", "email", "sms", "event", "gift", "meeting", "other"]
Domain = Literal["bank", "dealer", "education", "retail", "b2b"]
PlanSection = Literal["segment", "talking_points", "contacts"]
Intent = Literal["grow", "retain", "win_back", "nurture", "service", "collect_data", "risk_control", "stop_contact"]

_SCALAR_SCHEMA = {"type": ["string", "number", "boolean", "null"]}
TEST_SCHEMA = {
    "description": 'A unary test: ">= 5000000", "[100..200)", "not in [a, b]", a plain value, '
                   "a list of values, missing or present.",
    "anyOf": [_SCALAR_SCHEMA, {"type": "array", "items": _SCALAR_SCHEMA}],
}
_EXPECT_SCHEMA = {
    "description": "The expected rule id (a list for collect, the band for score, null for no match, "
                   "out_of_scope when the scheme does not apply to the customer).",
    "anyOf": [{"type": ["string", "null"]}, {"type": "array", "items": {"type": "string"}}],
}
_TIERS_SCHEMA = {"anyOf": [{"type": "boolean"}, {"type": "array", "items": {"type": "string"}, "minItems": 2,
                                                "uniqueItems": True}]}


def doc(text: str, **extra: Any) -> dict[str, Any]:
    return {"doc": text, **extra}


@dataclass(frozen=True)
class Text:
    """Wording a business user or rep reads, in Chinese and English."""

    zh: str = field(metadata=doc("Chinese (simplified)"))
    en: str = field(metadata=doc("English"))
    location: Location = field(default=Location(""), compare=False)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class SourceRef:
    file: str = field(metadata=doc("File name in the source material, e.g. 003_86362943ff4354ee.txt"))
    quote: str = field(metadata=doc("A short phrase of that file that grep finds"))
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class InputSpec:
    type: InputType = field(metadata=doc("number, integer, boolean, enum (with values), string or date"))
    title: Text | None = field(default=None, metadata=doc("What the input is called"))
    description: Text | None = None
    unit: str | None = field(default=None, metadata=doc("Unit shown next to values, e.g. CNY"))
    values: tuple[str, ...] | None = field(default=None, metadata=doc("The allowed values of an enum"))
    labels: dict[str, Text] | None = field(default=None, metadata=doc(
        "How readers see each enum value, e.g. {excellent: {zh: 优秀, en: excellent}}; a value without a "
        "label shows as written"))
    min: Raw | None = field(default=None, metadata=doc("Smallest possible value", schema=_SCALAR_SCHEMA))
    max: Raw | None = field(default=None, metadata=doc("Largest possible value", schema=_SCALAR_SCHEMA))
    aliases: tuple[str, ...] = field(default=(), metadata=doc("Other column names that give this input, "
                                                               "e.g. [资产规模, 总资产]"))
    required: bool = field(default=False, metadata=doc("Never empty: an empty cell is rejected, and kece check "
                                                      "does not look for gaps at missing values"))
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class ActionSpec:
    """One thing the rep does for customers of a rule: written here, or `use:` of an action declared
    once in actions.yaml (the same action from two schemes is then one line of a plan)."""

    id: str | None = field(default=None, metadata=doc(
        "Stable id, unique in the file (e.g. monthly_visit); plans, tasks and the policy refer to it"))
    use: str | None = field(default=None, metadata=doc("The id of an action declared in actions.yaml, instead of "
                                                       "writing it here"))
    intent: Intent | None = field(default=None, metadata=doc(
        "What the action is for: grow, retain, win_back, nurture, service, collect_data, risk_control or "
        "stop_contact (docs/playbooks.md); required in segment schemes"))
    zh: str | None = field(default=None, metadata=doc("The action, in Chinese"))
    en: str | None = field(default=None, metadata=doc("The action, in English"))
    channel: Channel | None = field(default=None, metadata=doc("How the rep reaches the customer"))
    cadence_days: int | None = field(default=None, metadata=doc("Due in, or repeat every, this many days"))
    owner: str | None = field(default=None, metadata=doc("The role that does it, e.g. relationship_manager"))
    touch: bool | None = field(default=None, metadata=doc(
        "Counts against the policy's contact limits; default: true unless the channel is other (internal work)"))
    when: dict[str, Raw] | None = field(default=None, metadata=doc(
        "Input name -> unary test: the action applies only to customers passing all of them "
        "(e.g. {credit_record: missing})", schema=TEST_SCHEMA))
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class RuleSpec:
    id: str = field(metadata=doc("Unique in the file; shown in output columns"))
    label: Text = field(metadata=doc("The segment's name"))
    when: dict[str, Raw] | None = field(
        default=None, metadata=doc("Input name -> unary test; all must hold ({} matches everyone)",
                                   schema=TEST_SCHEMA))
    any: tuple[dict[str, Raw], ...] | None = field(
        default=None, metadata=doc("Alternatives: at least one must hold", schema=TEST_SCHEMA))
    priority: int | None = field(default=None, metadata=doc("With hit_policy priority: highest wins"))
    points: float | None = field(default=None, metadata=doc("With hit_policy score: points added"))
    description: Text | None = None
    assumption: Text | None = field(default=None, metadata=doc("What this rule chose that the source does not say"))
    source: SourceRef | None = None
    owner: str | None = field(default=None, metadata=doc(
        "The role responsible for this segment (a role id like an action's owner, e.g. branch_manager); "
        "default: the scheme's owner"))
    strategy: tuple[ActionSpec, ...] = field(default=(), metadata=doc("What the rep does"))
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class BandSpec:
    id: str
    label: Text
    when: Raw | None = field(default=None, metadata=doc("A unary test on the total score; omit to match any score",
                                                        schema=TEST_SCHEMA))
    description: Text | None = None
    assumption: Text | None = field(default=None, metadata=doc("What this band chose that the source does not say"))
    source: SourceRef | None = field(default=None, metadata=doc("Where the band's strategy comes from (default: the "
                                                                "scheme's source)"))
    owner: str | None = field(default=None, metadata=doc(
        "The role responsible for this band's customers (a role id like an action's owner, e.g. branch_manager); "
        "default: the scheme's owner"))
    strategy: tuple[ActionSpec, ...] = field(default=(), metadata=doc(
        "What the rep does for customers in this band, before the actions of the rules that added points"))
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class ExampleSpec:
    given: dict[str, Raw] = field(metadata=doc("Input values of an example customer", schema=_SCALAR_SCHEMA))
    expect: Raw = field(metadata=doc("", schema=_EXPECT_SCHEMA))
    score: float | None = field(default=None, metadata=doc("With hit_policy score: the expected total"))
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class ScopeSpec:
    """Which customers the scheme is about; the others are out of scope (not unmatched)."""

    domain: Domain | None = field(default=None, metadata=doc(
        "The line of business: rows whose domain column (domain, 领域, 客户领域) holds another domain "
        "are out of scope; an empty cell, or no such column, is in scope"))
    when: dict[str, Raw] | None = field(
        default=None, metadata=doc("Input name -> unary test; customers for whom one fails are out of scope",
                                   schema=TEST_SCHEMA))
    description: Text | None = None
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class SchemeSpec:
    id: str = field(metadata=doc("Unique across rule files; names the output column"))
    title: Text
    hit_policy: HitPolicy = field(default="first", metadata=doc("How matching rules combine; default first"))
    inputs: dict[str, InputSpec] = field(default_factory=dict, metadata=doc("Input name -> declaration"))
    rules: tuple[RuleSpec, ...] = ()
    description: Text | None = None
    source: SourceRef | None = None
    bands: tuple[BandSpec, ...] | None = field(default=None, metadata=doc("With hit_policy score: total -> label"))
    examples: tuple[ExampleSpec, ...] = ()
    complete: bool = field(default=False, metadata=doc("Every customer must match a rule: kece check reports "
                                                      "gaps as errors, not warnings"))
    scope: ScopeSpec | None = field(default=None, metadata=doc("Which customers the scheme applies to"))
    tiers: Raw | None = field(default=None, metadata=doc(
        "The rules are tiers: kece explain and action plans show what a customer lacks for the next better one. "
        "true: every rule, best first in evaluation order; false: none; a list of rule ids, best first: only "
        "those are the ladder (a rule left out, such as a drain tier, is never offered as better). Default: true "
        "under first and priority, false otherwise", schema=_TIERS_SCHEMA))
    plan_section: PlanSection = field(default="segment", metadata=doc(
        "Where an action plan puts the result: segment (default), talking_points or contacts"))
    owner: str | None = field(default=None, metadata=doc(
        "The role responsible for every segment of the scheme (its rules, or its bands under score) unless "
        "one says otherwise, e.g. relationship_manager; plans and the report name it"))
    location: Location = field(default=Location(""), compare=False)


class SpecReader:
    """Reads node trees into spec dataclasses, collecting problems instead of stopping at the first."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, node: yaml.Node | Location, key_path: str, message: Say,
                suggestion: Say | None = None) -> None:
        location = node if isinstance(node, Location) else node_location(self.path, node)
        self.problems.append(Problem(location, key_path, message, suggestion))

    def read(self, cls: type, node: yaml.Node, key_path: str = "") -> Any:
        return self._read(cls, node, key_path)

    def _read(self, annotation: Any, node: yaml.Node, key_path: str) -> Any:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin in (Union, types.UnionType):
            inner = [a for a in args if a is not type(None)]
            if isinstance(node, yaml.ScalarNode) and scalar_value(node) is None:
                return None
            return self._read(inner[0], node, key_path)
        if annotation is Raw:
            raw = raw_from_node(self.path, node)
            if raw is None:
                self.problem(node, key_path, Say(f"expected a value or a list of values, got {_kind(node).en}",
                                                 f"这里应是一个值或一组值,实际是{_kind(node).zh}"))
            return raw
        if dataclasses.is_dataclass(annotation):
            return self._read_dataclass(annotation, node, key_path)
        if origin is tuple:
            if not isinstance(node, yaml.SequenceNode):
                self.problem(node, key_path, Say(f"expected a list, got {_kind(node).en}",
                                                 f"这里应是列表,实际是{_kind(node).zh}"))
                return None
            # Keep the items that read well, so later checks still see them; problems are recorded.
            items = [self._read(args[0], item, f"{key_path}[{i}]") for i, item in enumerate(node.value)]
            return tuple(item for item in items if item is not None)
        if origin is dict:
            return self._read_mapping(args[1], node, key_path)
        if origin is Literal:
            value = scalar_value(node) if isinstance(node, yaml.ScalarNode) else None
            if value not in args:
                shown = _kind(node)
                self.problem(node, key_path, Say(f"{shown.en} is not one of {', '.join(args)}",
                                                 f"{shown.zh}不是 {'、'.join(args)} 之一"),
                             did_you_mean(str(value), args))
                return None
            return value
        return self._read_scalar(annotation, node, key_path)

    def _read_scalar(self, annotation: type, node: yaml.Node, key_path: str) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, key_path, Say(f"expected {_NAMES[annotation].en}, got {_kind(node).en}",
                                             f"这里应是{_NAMES[annotation].zh},实际是{_kind(node).zh}"))
            return None
        value = scalar_value(node)
        if annotation is str:
            if value is None:
                self.problem(node, key_path,
                             Say("expected a text, got nothing (null or empty)", "这里应是文字,实际为空"),
                             Say("write the text, or remove the entry", "请填写文字,或删除这一项"))
            return node.value if value is not None else None
        if annotation is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, annotation) and not (annotation is int and isinstance(value, bool)):
            return value
        self.problem(node, key_path, Say(f"{_kind(node).en} is not {_NAMES[annotation].en}",
                                         f"{_kind(node).zh}不是{_NAMES[annotation].zh}"))
        return None

    def _read_mapping(self, value_type: Any, node: yaml.Node, key_path: str) -> dict[str, Any] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, key_path, Say(f"expected a mapping (key: value), got {_kind(node).en}",
                                             f"这里应是映射(键: 值),实际是{_kind(node).zh}"))
            return None
        result: dict[str, Any] = {}
        for key_node, value_node in self._unique_pairs(node, key_path):
            key = key_node.value
            value = self._read(value_type, value_node, f"{key_path}.{key}")
            if isinstance(value, Raw):
                value = dataclasses.replace(value, key_location=node_location(self.path, key_node))
            if value is not None:
                result[key] = value
        return result

    def _read_dataclass(self, cls: type, node: yaml.Node, key_path: str) -> Any:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, key_path, Say(f"expected a mapping (key: value), got {_kind(node).en}",
                                             f"这里应是映射(键: 值),实际是{_kind(node).zh}"))
            return None
        hints = _type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "location"}
        values: dict[str, Any] = {}
        present: set[str] = set()
        failed = False
        for key_node, value_node in self._unique_pairs(node, key_path):
            key = key_node.value
            present.add(key)
            sub_path = f"{key_path}.{key}" if key_path else key
            if key not in fields:
                hint = did_you_mean(key, fields)
                if hint is None and not key.isidentifier() and node.flow_style:
                    # `{zh: 你好, en: a, b}`: a comma inside a text splits it into another key.
                    hint = Say('a comma inside {...} ends the text; put the whole text in quotes: en: "a, b"',
                               '{...} 中的英文逗号会结束文字;请给整段文字加引号:en: "a, b"')
                elif hint is None:
                    hint = did_you_mean(key, fields, Say("allowed keys", "可用的键"))
                self.problem(key_node, sub_path, Say(f"unknown key '{key}'", f"未知的键“{key}”"), hint)
                continue
            value = self._read(hints[key], value_node, sub_path)
            if value is None and not _optional(hints[key]):
                # A field with a default falls back to it so the rest of the file is still checked;
                # the problem is recorded, so the file is rejected all the same.
                has_default = (fields[key].default is not dataclasses.MISSING
                               or fields[key].default_factory is not dataclasses.MISSING)
                failed = failed or not has_default
                continue
            values[key] = value
        for name, spec_field in fields.items():
            required = spec_field.default is dataclasses.MISSING and spec_field.default_factory is dataclasses.MISSING
            if required and name not in present:
                self.problem(node, key_path, Say(f"missing required key '{name}'", f"缺少必填的键“{name}”"))
                failed = True
        if failed:
            return None
        values = {k: v for k, v in values.items() if v is not None or _optional(hints[k])}
        return cls(**values, location=node_location(self.path, node))

    def _unique_pairs(self, node: yaml.MappingNode, key_path: str) -> list[tuple[yaml.Node, yaml.Node]]:
        seen: dict[str, yaml.Node] = {}
        pairs = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, key_path, Say("a key must be a plain name", "键必须是简单的名称"))
                continue
            key = key_node.value
            if key in seen:
                first = node_location(self.path, seen[key])
                self.problem(key_node, f"{key_path}.{key}" if key_path else key,
                             Say(f"duplicate key '{key}' (first at line {first.line})",
                                 f"键“{key}”重复(第一次出现在第 {first.line} 行)"),
                             Say("remove one of them; YAML keeps only the last",
                                 "请删除其中一个;YAML 只会保留最后一个"))
                continue
            seen[key] = key_node
            pairs.append((key_node, value_node))
        return pairs


_NAMES = {str: Say("a text", "文字"), int: Say("a whole number", "整数"), float: Say("a number", "数字"),
          bool: Say("true or false", "true 或 false")}


def _optional(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """A spec class's field types, resolved once (resolving strings of annotations is slow)."""
    return typing.get_type_hints(cls)


def _kind(node: yaml.Node) -> Say:
    if isinstance(node, yaml.MappingNode):
        return Say("a mapping", "映射")
    if isinstance(node, yaml.SequenceNode):
        return Say("a list", "列表")
    return Say(f"'{node.value}'", f"“{node.value}”")


# ---- JSON Schema, derived from the classes above -------------------------------------------------

def json_schema(root: type | None = None, title: str = "kece rule file (one segmentation scheme)",
                name: str = "rules") -> dict[str, Any]:
    """The JSON Schema of a rule file (or of `root`, another file kind), for editors. Draft-07, the
    draft VS Code's YAML extension (yaml-language-server) supports best."""
    defs: dict[str, Any] = {}
    schema = _schema_for(root or SchemeSpec, defs)
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": f"https://kece.dev/schemas/{name}.schema.json",
        "title": title,
        **schema,
        "definitions": defs,
    }


def _schema_for(annotation: Any, defs: dict[str, Any], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    meta = meta or {}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        return _schema_for(next(a for a in args if a is not type(None)), defs, meta)
    if "schema" in meta:
        override = meta["schema"]
        if origin is dict:
            return {"type": "object", "additionalProperties": override}
        if origin is tuple:
            return {"type": "array", "items": {"type": "object", "additionalProperties": override}}
        return dict(override)
    if dataclasses.is_dataclass(annotation):
        name = annotation.__name__
        if name not in defs:
            defs[name] = {}
            hints = typing.get_type_hints(annotation)
            props, required = {}, []
            for f in dataclasses.fields(annotation):
                if f.name == "location":
                    continue
                prop = _schema_for(hints[f.name], defs, dict(f.metadata))
                if f.metadata.get("doc"):
                    prop["description"] = f.metadata["doc"]
                props[f.name] = prop
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    required.append(f.name)
            defs[name] = {"type": "object", "properties": props, "required": required,
                          "additionalProperties": False}
            if annotation.__doc__ and not annotation.__doc__.startswith(name + "("):
                defs[name]["description"] = annotation.__doc__.strip().splitlines()[0]
        return {"$ref": f"#/definitions/{name}"} if annotation is not SchemeSpec else dict(defs[name])
    if origin is tuple:
        return {"type": "array", "items": _schema_for(args[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema_for(args[1], defs)}
    if origin is Literal:
        return {"enum": list(args)}
    return {str: {"type": "string"}, int: {"type": "integer"}, float: {"type": "number"},
            bool: {"type": "boolean"}}[annotation]
