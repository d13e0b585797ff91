"""Strategy actions: compiling a rule's `strategy:` lines, and the action catalog (`actions.yaml`)
where an action used by several schemes is declared once, so a plan shows it once citing each.

An action in a rule file is keyed `scheme.id`; a catalog action by its own id. Keys are what plans,
task exports and the policy (`policy.yaml`) name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import get_args

from engine.errors import Location, Problem, Say
from engine.rules.literals import did_you_mean
from engine.rules.model import INTERNAL_CHANNELS, Action
from engine.rules.spec import ActionSpec, Intent, SpecReader, Text, doc
from engine.rules.unary import UnaryTest
from engine.rules.yamlnodes import Raw, compose_text, read_rule_file

CATALOG_FILE = "actions.yaml"
INTENTS: tuple[str, ...] = get_args(Intent)
ACTION_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class CatalogSpec:
    """actions.yaml: actions that several rule files `use:`."""

    actions: dict[str, ActionSpec] = field(metadata=doc("Action id -> the action (no id or use: inside)"))
    description: Text | None = None
    location: Location = field(default=Location(""), compare=False)


Conditions = Callable[[dict[str, Raw], str], tuple[UnaryTest, ...]]


class ActionCompiler:
    """Turns ActionSpecs into Actions, collecting located problems; one per rule file or catalog."""

    def __init__(self, problems: list[Problem], catalog: Mapping[str, Action] | None = None) -> None:
        self.problems, self.catalog = problems, catalog or {}
        self.seen: dict[str, Location] = {}

    def problem(self, location: Location, key_path: str, message: Say, suggestion: Say | None = None) -> None:
        self.problems.append(Problem(location, key_path, message, suggestion))

    def compile(self, spec: ActionSpec, prefix: str, key_path: str, conditions: Conditions,
                needs_intent: bool) -> Action | None:
        """One strategy line of a rule file; `prefix` is the scheme id; `conditions` parses `when:`
        against the scheme's inputs. None (with problems recorded) when it cannot be compiled."""
        if spec.use is not None:
            return self._use(spec, key_path, conditions)
        if not self._check_id(spec, key_path):
            return None
        return self._own(spec, f"{prefix}.{spec.id}", spec.id, key_path, conditions, needs_intent)

    def compile_declared(self, action_id: str, spec: ActionSpec, key_path: str) -> Action | None:
        """One action of the catalog: its key is its id, and it names no inputs (no `when:`)."""
        for name in ("id", "use", "when"):
            if getattr(spec, name) is not None:
                self.problem(spec.location, f"{key_path}.{name}",
                             Say(f"a catalog action takes no {name}: (its key is its id)",
                                 f"动作目录中的动作不能写 {name}:(键就是它的 id)"),
                             Say("give when: where a rule uses it", "请在使用它的规则处写 when:")
                             if name == "when" else None)
        if not ACTION_ID.match(action_id):
            self.problem(spec.location, key_path, _bad_id(action_id), _ID_HINT)
            return None
        return self._own(spec, action_id, action_id, key_path, lambda when, key: (), True, shared=True)

    def _check_id(self, spec: ActionSpec, key_path: str) -> bool:
        if spec.id is None:
            self.problem(spec.location, key_path, Say("the action has no id", "该行动缺少 id"),
                         Say("add id: a short name unique in this file, e.g. id: monthly_visit",
                             "请加上 id:本文件内唯一的简短名称,例如 id: monthly_visit"))
            return False
        if not ACTION_ID.match(spec.id):
            self.problem(spec.location, f"{key_path}.id", _bad_id(spec.id), _ID_HINT)
            return False
        first = self.seen.get(spec.id)
        if first is not None:
            self.problem(spec.location, f"{key_path}.id",
                         Say(f"action id '{spec.id}' is also used at line {first.line}",
                             f"行动 id“{spec.id}”已在第 {first.line} 行使用"),
                         Say("give each action of a file its own id", "请给本文件中每个行动不同的 id"))
            return False
        self.seen[spec.id] = spec.location
        return True

    def _own(self, spec: ActionSpec, key: str, action_id: str, key_path: str, conditions: Conditions,
             needs_intent: bool, shared: bool = False) -> Action | None:
        missing = [name for name in ("zh", "en") if getattr(spec, name) is None]
        if missing:
            self.problem(spec.location, key_path,
                         Say(f"the action needs {' and '.join(missing)} (its text)",
                             f"该行动缺少 {'、'.join(missing)}(行动的文字)"),
                         Say("write the action, or use: an action of actions.yaml",
                             "请写出行动内容,或用 use: 引用 actions.yaml 中的行动"))
            return None
        if spec.intent is None and needs_intent:
            self.problem(spec.location, key_path, Say("the action has no intent", "该行动缺少 intent(意图)"),
                         Say(f"add intent: one of {', '.join(INTENTS)}", f"请加上 intent:{'、'.join(INTENTS)} 之一"))
        when = conditions(spec.when, f"{key_path}.when") if spec.when else ()
        touch = spec.touch if spec.touch is not None else spec.channel not in INTERNAL_CHANNELS
        return Action(key, action_id, spec.intent, Text(spec.zh, spec.en), spec.channel,  # type: ignore[arg-type]
                      spec.cadence_days, spec.owner, touch, when, spec.location, shared)

    def _use(self, spec: ActionSpec, key_path: str, conditions: Conditions) -> Action | None:
        extra = [name for name in ("id", "intent", "zh", "en", "channel", "cadence_days", "owner", "touch")
                 if getattr(spec, name) is not None]
        if extra:
            self.problem(spec.location, f"{key_path}.{extra[0]}",
                         Say(f"with use:, the action is as declared in {CATALOG_FILE}; {', '.join(extra)} "
                             "cannot be given here", f"使用 use: 时行动以 {CATALOG_FILE} 中的声明为准,"
                             f"这里不能再写 {'、'.join(extra)}"),
                         Say(f"change it in {CATALOG_FILE}, or write the action here without use:",
                             f"请在 {CATALOG_FILE} 中修改,或去掉 use: 在此写出行动"))
        declared = self.catalog.get(spec.use)  # type: ignore[arg-type]
        if declared is None:
            self.problem(spec.location, f"{key_path}.use",
                         Say(f"no action '{spec.use}' in {CATALOG_FILE}", f"{CATALOG_FILE} 中没有行动“{spec.use}”"),
                         did_you_mean(str(spec.use), self.catalog) or _DECLARE_IT)
            return None
        if spec.when:
            return replace(declared, when=conditions(spec.when, f"{key_path}.when"), location=spec.location)
        return declared


_DECLARE_IT = Say(f"declare it under actions: in {CATALOG_FILE} (a rule file copied on its own needs the "
                  f"{CATALOG_FILE} it came with)", f"请在 {CATALOG_FILE} 的 actions: 下声明它"
                  f"(单独复制出来的规则文件需要连同原来的 {CATALOG_FILE} 一起复制)")
_ID_HINT = Say("use lowercase letters, digits and _, starting with a letter", "请用小写英文字母、数字和 _,并以字母开头")


def _bad_id(action_id: str) -> Say:
    return Say(f"'{action_id}' is not a valid action id", f"“{action_id}”不是有效的行动 id")


def load_catalog(directory: Path, shown: Callable[[Path], str]) -> tuple[dict[str, Action], list[Problem]]:
    """The actions declared in `directory/actions.yaml` ({} when there is none), with every problem."""
    path = directory / CATALOG_FILE
    if not path.is_file():
        return {}, []
    where = str(Path(shown(directory)) / path.name)  # the link's name, not where it points
    text, problems = read_rule_file(path, where, directory)
    if text is None:
        return {}, problems
    node, problems = compose_text(text, where)
    if node is None:
        return {}, problems
    reader = SpecReader(where)
    spec = reader.read(CatalogSpec, node)
    problems = list(reader.problems)
    if spec is None:
        return {}, problems
    compiler = ActionCompiler(problems)
    actions = {}
    for action_id, action_spec in spec.actions.items():
        action = compiler.compile_declared(action_id, action_spec, f"actions.{action_id}")
        if action is not None:
            actions[action_id] = action
    return actions, problems
