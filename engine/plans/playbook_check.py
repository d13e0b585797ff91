"""`kece check` for playbooks: every template compiles, and every variable a template reads is one a
plan provides: a plan variable, a message of both catalogs, an input or a scheme of the rules."""

from __future__ import annotations

import math
from pathlib import Path

import jinja2
from jinja2 import meta, nodes

from engine.errors import KeceError, Problem, Say
from engine.limits import limits
from engine.messages import LANGS
from engine.plans.playbook import Catalog, TemplateLocation, environment, load_catalog
from engine.plans.template_limits import MAX_EXPONENT
from engine.rules.literals import did_you_mean
from engine.rules.model import Rulebook

# The names a template is rendered with: plan templates get plan and msg (partials also s, the
# section being shown); index templates get entries, as_of and msg.
TOP_LEVEL = frozenset({"plan", "msg", "s", "entries", "as_of"})
REQUIRED = ("plan.md.j2", "plan.html.j2", "index.md.j2", "index.html.j2")


def check_playbooks(folder: Path, rulebook: Rulebook) -> list[Problem]:
    problems: list[Problem] = []
    catalogs = []
    for lang in LANGS:
        try:
            catalogs.append(load_catalog(folder, lang))
        except KeceError as exc:
            problems.append(Problem(exc.location or TemplateLocation(str(folder)), "", exc.message))
    if len(catalogs) == len(LANGS):
        for catalog, other in ((catalogs[0], catalogs[1]), (catalogs[1], catalogs[0])):
            for key in sorted(set(other.messages) - set(catalog.messages)):
                problems.append(Problem(TemplateLocation(str(catalog.path)), key, Say(
                    f"the message is missing here but present in {other.path.name}",
                    f"此处缺少该消息,而 {other.path.name} 中有")))
    messages = set.intersection(*(set(c.messages) for c in catalogs)) if catalogs else set()
    for catalog in catalogs:
        problems += _unlabelled_owners(rulebook, catalog)
    for name in REQUIRED:
        if not (folder / name).is_file():
            problems.append(Problem(TemplateLocation(str(folder / name)), "",
                                    Say("the template is missing", "缺少该模板")))
    env = environment(folder, "md", "zh")
    inputs = {name for scheme in rulebook.schemes for name in scheme.inputs}
    for path in sorted(folder.rglob("*.j2")):
        name = path.relative_to(folder).as_posix()
        override = name.startswith("schemes/") and path.name.split(".")[0]
        if override and override not in rulebook.by_id:
            problems.append(Problem(TemplateLocation(str(path)), "", Say(
                f"overrides scheme '{override}', which the rules do not define",
                f"覆盖的方案“{override}”在规则中不存在")))
        try:
            tree = env.parse(path.read_text(encoding="utf-8"), name)
        except jinja2.TemplateSyntaxError as exc:
            problems.append(Problem(TemplateLocation(str(path), exc.lineno or 0), "", Say(
                f"template syntax error: {exc.message}", f"模板语法错误:{exc.message}")))
            continue
        problems += _unknown_variables(path, tree, messages if catalogs else None, inputs, set(rulebook.by_id))
        problems += _unbounded_work(path, tree)
    return problems


def _unlabelled_owners(rulebook: Rulebook, catalog: Catalog) -> list[Problem]:
    """A segment owner's role that the catalog cannot name: plans and the report would show its id to
    readers, and a misspelt role would go unnoticed."""
    labels = catalog.messages.get("owners")
    known = [str(k) for k in labels] if isinstance(labels, dict) else []
    found: list[Problem] = []
    for scheme in rulebook.schemes:
        items = [(scheme.location, "owner", scheme.owner)]
        items += [(rule.location, f"rules[{rule.index}].owner", rule.owner) for rule in scheme.rules
                  if rule.owner != scheme.owner]
        items += [(band.location, f"bands[{band.index}].owner", band.owner) for band in scheme.bands
                  if band.owner != scheme.owner]
        for location, key, role in items:
            if role is not None and role not in known:
                found.append(Problem(location, key, Say(
                    f"the role '{role}' has no label under owners: in {catalog.path.name}",
                    f"岗位“{role}”在 {catalog.path.name} 的 owners: 下没有名称"),
                    did_you_mean(role, known, Say("roles", "已有的岗位"))))
    return found


def _unbounded_work(path: Path, tree: nodes.Template) -> list[Problem]:
    """A range() or a repetition with constant arguments over the limit, or a huge constant power:
    found here rather than when the first plan is rendered (engine/plans/template_limits.py)."""
    limit = limits().template_range
    found: list[Problem] = []
    for node in tree.find_all((nodes.Call, nodes.Mul, nodes.Pow)):
        size: float = 0
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "range":
            args = [_constant(arg) for arg in node.args]
            if args and all(isinstance(a, int | float) and not isinstance(a, bool) for a in args):
                size = math.inf if any(math.isinf(a) for a in args) else _range_size(args)
        elif isinstance(node, nodes.Mul):
            left, right = _constant(node.left), _constant(node.right)
            for sequence, times in ((left, right), (right, left)):
                if isinstance(sequence, str) and isinstance(times, int | float) and not isinstance(times, bool):
                    size = len(sequence) * times
        elif isinstance(node, nodes.Pow) and _constant(node) == math.inf:
            size = math.inf
        if size > limit:
            found.append(Problem(TemplateLocation(str(path), node.lineno), "", Say(
                f"asks for more than the {limit:,} items a template may make for one plan (KECE_MAX_TEMPLATE_RANGE)",
                f"要求的项目超过模板为一份方案可产生的上限 {limit:,}(KECE_MAX_TEMPLATE_RANGE)")))
    return found


def _range_size(args: list) -> float:
    try:
        return len(range(*(int(a) for a in args)))
    except (ValueError, OverflowError):  # a zero step, or more items than a machine word counts
        return math.inf


def _constant(node: nodes.Node) -> object:
    """The value of a constant expression, computed without doing unbounded work: a power with a
    large exponent is infinity; anything that is not a constant is None."""
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.Neg):
        value = _constant(node.node)
        return -value if isinstance(value, int | float) else None
    if isinstance(node, nodes.Pow | nodes.Mul | nodes.Add | nodes.Sub):
        left, right = _constant(node.left), _constant(node.right)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right)):
            return None
        if isinstance(node, nodes.Pow):
            return math.inf if abs(right) > MAX_EXPONENT and abs(left) > 1 else left ** right  # type: ignore
        if isinstance(node, nodes.Mul):
            return left * right  # type: ignore[operator]
        return left + right if isinstance(node, nodes.Add) else left - right  # type: ignore[operator]
    return None


def _unknown_variables(path: Path, tree: nodes.Template, messages: set[str] | None, inputs: set[str],
                       schemes: set[str]) -> list[Problem]:
    found: list[Problem] = []
    undeclared = meta.find_undeclared_variables(tree) - TOP_LEVEL
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name in undeclared:
            undeclared.discard(node.name)  # once per name
            found.append(Problem(TemplateLocation(str(path), node.lineno), node.name, Say(
                "no plan provides this variable (docs/playbooks.md lists them)",
                "行动方案中没有这个变量(可用变量见 docs/playbooks.md)")))
    for node in tree.find_all(nodes.Getattr):
        parent = node.node
        if isinstance(parent, nodes.Name) and parent.name == "msg" and messages is not None \
                and node.attr not in messages:
            found.append(Problem(TemplateLocation(str(path), node.lineno), f"msg.{node.attr}", Say(
                "no such message in playbooks/messages/zh.yaml and en.yaml",
                "playbooks/messages/zh.yaml 和 en.yaml 中没有这条消息")))
        elif isinstance(parent, nodes.Getattr) and parent.attr == "values" and node.attr not in inputs:
            found.append(Problem(TemplateLocation(str(path), node.lineno), f"values.{node.attr}", Say(
                "no scheme has this input", "没有方案提供这个输入")))
        elif isinstance(parent, nodes.Getattr) and parent.attr == "schemes" and node.attr not in schemes:
            found.append(Problem(TemplateLocation(str(path), node.lineno), f"schemes.{node.attr}", Say(
                "the rules define no such scheme", "规则中没有这个方案")))
    return found
