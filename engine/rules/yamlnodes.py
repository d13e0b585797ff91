"""Safe YAML reading that keeps every node's location.

We compose (never construct) with PyYAML's SafeLoader, so no Python object is ever built from a
rule file, and we interpret scalars ourselves with YAML 1.2 core rules: `no`, `on` and `off` stay
strings (YAML 1.1 would turn an enum value `no` into False) and we know whether a value was quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import Location, Problem, Say
from engine.limits import limits

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


class YamlTooLarge(yaml.YAMLError):
    """The text nests too deeply, refers to itself, or expands (through aliases) beyond the limits."""

    def __init__(self, message: Say, mark: yaml.Mark | None) -> None:
        super().__init__(message.en)
        self.message, self.mark = message, mark


class _BoundedComposer(yaml.composer.Composer):
    """PyYAML's composer, stopped at a nesting depth (its recursion would otherwise end in a
    RecursionError around 500 levels)."""

    max_depth = depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        self.depth += 1
        try:
            if self.depth > self.max_depth:
                raise YamlTooLarge(Say(f"nested more than {self.max_depth} levels deep (KECE_MAX_YAML_DEPTH)",
                                       f"嵌套超过 {self.max_depth} 层(KECE_MAX_YAML_DEPTH)"),
                                   self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _PythonLoader(_BoundedComposer, yaml.SafeLoader):
    def __init__(self, stream: str, max_depth: int) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self.max_depth = max_depth


try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml
    CParser = None

if CParser is not None:
    class _FastLoader(_BoundedComposer, yaml.resolver.Resolver, CParser):  # type: ignore[misc]
        """The composer over libyaml's events: libyaml scans and parses five times faster than
        PyYAML's Python scanner, and composing in Python keeps the depth bound (libyaml's own composer
        recurses in C without one) and the same marks."""

        def __init__(self, stream: str, max_depth: int) -> None:
            CParser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.max_depth = max_depth


def _compose(loader_class: type, text: str, max_depth: int) -> yaml.Node | None:
    loader = loader_class(text, max_depth)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def bounded_compose(text: str) -> yaml.Node | None:
    """yaml.compose within the limits: nesting depth, no alias that contains itself, and at most
    `yaml_nodes` nodes once aliases are expanded (a 'billion laughs' file is a few lines of aliases
    that every reader of the tree would expand)."""
    bounds = limits()
    try:
        node = _compose(_FastLoader if CParser is not None else _PythonLoader, text, bounds.yaml_depth)
    except yaml.MarkedYAMLError:
        # PyYAML's messages name the character at fault, libyaml's do not: a file with a mistake
        # is read again, for the message a user can act on.
        node = _compose(_PythonLoader, text, bounds.yaml_depth)
    if node is not None:
        _check_expansion(node, bounds.yaml_nodes)
    return node


def _check_expansion(root: yaml.Node, limit: int) -> None:
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:  # depth is bounded by the loader, so recursion is safe
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise YamlTooLarge(Say("an alias (*name) refers to the list or mapping it is inside of",
                                   "别名(*name)引用了包含它自身的列表或映射"), node.start_mark)
        open_nodes.add(key)
        total = 1 + sum(size(child) for child in _children(node))
        open_nodes.discard(key)
        sizes[key] = total
        return total

    if size(root) > limit:
        # Point at the smallest list or mapping that is over the limit: where the aliases pile up.
        node = root
        while (bigger := next((child for child in _children(node) if sizes[id(child)] > limit), None)) is not None:
            node = bigger
        raise YamlTooLarge(Say(f"expands to more than {limit:,} values once its aliases (*name) are "
                               "expanded (KECE_MAX_YAML_NODES)",
                               f"展开别名(*name)后超过 {limit:,} 个值(KECE_MAX_YAML_NODES)"), node.start_mark)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def bounded_safe_load(text: str) -> object:
    """yaml.safe_load within the same limits as rule files (message catalogs)."""
    node = bounded_compose(text)
    if node is None:
        return None
    return yaml.SafeLoader("").construct_document(node)


def compose_text(text: str, display_path: str) -> tuple[yaml.Node | None, list[Problem]]:
    """Parse YAML text into a node tree; syntax errors become located problems."""
    try:
        node = bounded_compose(text)
    except YamlTooLarge as exc:
        mark = exc.mark
        location = Location(display_path, mark.line + 1, mark.column + 1) if mark else Location(display_path)
        return None, [Problem(location, "", exc.message)]
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


def read_rule_file(path: Path, shown: str, folder: Path) -> tuple[str | None, list[Problem]]:
    """The text of a file of the rules folder (a rule file, actions.yaml, policy.yaml), or None and
    why: it must be inside the folder (a link out of it is never read: its text would show in the
    errors), within the size limit, and UTF-8. `shown` names it in the problem."""
    if not path.resolve().is_relative_to(folder.resolve()):
        return None, [Problem(Location(shown), "", Say("is a link to a file outside the rules folder",
                                                       "是指向规则文件夹之外文件的链接"),
                              Say("copy the file into the folder instead", "请把文件复制到该文件夹中"))]
    limit, size = limits().rule_file_bytes, path.stat().st_size
    if size > limit:
        return None, [Problem(Location(shown), "", Say(
            f"is {size:,} bytes, more than the {limit:,} a rule file may have (KECE_MAX_RULE_FILE_BYTES)",
            f"有 {size:,} 字节,超过规则文件的上限 {limit:,}(KECE_MAX_RULE_FILE_BYTES)"),
            Say("split it into several files", "请拆分为多个文件"))]
    try:
        return path.read_text(encoding="utf-8"), []
    except UnicodeDecodeError as exc:
        return None, [Problem(Location(shown), "", Say(f"is not UTF-8 text ({exc.reason})", "不是 UTF-8 编码的文本"),
                              Say("save the file as UTF-8", "请把文件另存为 UTF-8 编码"))]
