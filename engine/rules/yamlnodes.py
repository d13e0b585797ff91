"""Safe YAML reading that keeps every node's location.

We compose (never construct) with PyYAML's SafeLoader, so no Python object is ever built from a
rule file, and we interpret scalars ourselves with YAML 1.2 core rules: `no`, `on` and `off` stay
strings (YAML 1.1 would turn an enum value `no` into False) and we know whether a value was quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.errors import Location, Problem, Say

_INT = re.compile(r"^[-+]?[0-9][0-9_]*$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")
_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


@dataclass(frozen=True)
class Raw:
    """A scalar or list as written in a rule file, with where it stands.

    `value` is the YAML 1.2 interpretation (str, int, float, bool, None, or a tuple of Raw for a
    list); `text` is the characters as written; `quoted` tells `"5"` from `5`.
    """

    value: Any
    text: str
    quoted: bool
    location: Location
    key_location: Location | None = field(default=None, compare=False)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, tuple)


def node_location(path: str, node: yaml.Node) -> Location:
    mark = node.start_mark
    return Location(path, mark.line + 1, mark.column + 1)


def scalar_value(node: yaml.ScalarNode) -> Any:
    text = node.value
    if node.style:  # quoted or block scalar: always a string
        return text
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.match(text):
        return int(text.replace("_", ""))
    if _FLOAT.match(text) and any(ch.isdigit() for ch in text):
        return float(text.replace("_", ""))
    return text


def raw_from_node(path: str, node: yaml.Node) -> Raw | None:
    """A Raw for a scalar or a flat list of scalars; None for anything else (a mapping)."""
    location = node_location(path, node)
    if isinstance(node, yaml.ScalarNode):
        if node.tag.startswith("!") and not node.tag.startswith("!!"):
            # YAML reads an unquoted `!= complete` as the local tag `!=` on `complete`; the user
            # meant the test, so put the characters back together.
            text = f"{node.tag} {node.value}".strip()
            return Raw(text, text, False, location)
        return Raw(scalar_value(node), node.value, bool(node.style), location)
    if isinstance(node, yaml.SequenceNode):
        items = [raw_from_node(path, item) for item in node.value]
        if any(item is None or item.is_list for item in items):
            return None
        text = "[" + ", ".join(item.text for item in items if item) + "]"
        return Raw(tuple(items), text, False, location)
    return None


def compose_text(text: str, display_path: str) -> tuple[yaml.Node | None, list[Problem]]:
    """Parse YAML text into a node tree; syntax errors become located problems."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(display_path, mark.line + 1, mark.column + 1) if mark else Location(display_path)
        detail = exc.problem or exc.context
        message = Say(f"YAML syntax error: {detail}", f"YAML 语法错误:{detail}")
        return None, [Problem(location, "", message, _syntax_hint(text, mark))]
    except yaml.YAMLError as exc:
        return None, [Problem(Location(display_path), "", Say(f"YAML error: {exc}", f"YAML 错误:{exc}"))]
    if node is None:
        return None, [Problem(Location(display_path), "", Say("the file is empty", "文件是空的"))]
    return node, []


def _syntax_hint(text: str, mark: yaml.Mark | None) -> Say | None:
    if mark is None:
        return None
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    if "\t" in line:
        return Say("indent with spaces, not tabs", "请用空格缩进,不要用 Tab")
    if re.search(r":\s*[<>!]=?\s", line) or re.search(r":\s*\[[^\]]*\.\.", line):
        return Say('put the test in quotes, e.g. ">= 5000000" or "[100..200)"',
                   '请给条件加引号,例如 ">= 5000000" 或 "[100..200)"')
    return Say("check the indentation and that every ':' is followed by a space",
               "请检查缩进,以及每个“:”后面是否有空格")
