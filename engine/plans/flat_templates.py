"""Flat templates: a playbook template compiled for speed, with the same output as Jinja's own
compilation of it (engine/plans/playbook.py renders it, and on any error renders the template as written to
locate the error).

- Fixed partials are pasted where they are included (`_inline`); a per-scheme override still goes
  through the include.
- The message namespace `msg` of a run is built in: `msg.title` becomes its text (`_FoldMessages`).
- `s.title` on a plan type reads the attribute directly (`FlatCode`), and each run of output is
  yielded once.
"""

from __future__ import annotations

import dataclasses
import inspect
import keyword
from functools import cache
from types import SimpleNamespace
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.visitor import NodeTransformer


def compile_flat(env: jinja2.Environment, name: str, msg: object = None) -> jinja2.Template:
    """Template `name` of `env` (a PlaybookSandbox: the code asks it for `direct_types`), flat:
    partials pasted in and, when `msg` is a message namespace the template only reads, its messages
    built in."""
    source, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    tree = _inline(env, env._parse(source, name, filename), set(env.list_templates()), ())
    if type(msg) is SimpleNamespace and _reads_msg_only(tree):
        tree = _FoldMessages(msg).visit(tree)
    tree.set_environment(env)
    generator = FlatCode(env, name, filename, optimized=env.optimized)
    generator.visit(tree)
    # Globals as a plain dict, not Jinja's ChainMap over the environment's: each render copies them
    # into a new context, and copying a ChainMap cost ~5 µs. They are set before any template is
    # compiled and never change.
    code = env._compile(generator.stream.getvalue(), filename or "<template>")
    return env.template_class.from_code(env, code, dict(env.make_globals(None)), None)


@cache
def always_set(cls: type) -> frozenset[str]:
    """The attributes every instance of `cls` holds as a plain value: the fields a frozen dataclass's
    own __init__ sets, unless a descriptor of the class (property, slot) stands in the way. Reading
    one of them cannot fail, so flat templates read it as `obj.name` (`FlatCode.visit_Getattr`)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.init or not params.frozen or cls.__getattribute__ is not object.__getattribute__:
        return frozenset()
    return frozenset(f.name for f in dataclasses.fields(cls)
                     if f.init and not hasattr(type(inspect.getattr_static(cls, f.name, None)), "__get__"))


class FlatIncludes(CodeGenerator):
    """Compiles `{% include %}` (with context, the default) to one string: the included template is
    rendered and joined where it stands, instead of Jinja's `for event in gen: yield event`, which
    passes every piece of a partial through the including template's generator one by one. The
    output is the same; a plan's sections and action list are most of its pieces."""

    def visit_Include(self, node: nodes.Include, frame: Frame) -> None:
        if not node.with_context or self.environment.is_async:
            return super().visit_Include(node, frame)
        if node.ignore_missing:
            self.writeline("try:")
            self.indent()
        choose = ("select_template" if isinstance(node.template, nodes.Tuple | nodes.List) or
                  (isinstance(node.template, nodes.Const) and isinstance(node.template.value, tuple | list))
                  else "get_template" if isinstance(node.template, nodes.Const) and isinstance(node.template.value, str)
                  else "get_or_select_template")
        self.writeline(f"template = environment.{choose}(", node)
        self.visit(node.template, frame)
        self.write(f", {self.name!r})")
        if node.ignore_missing:
            self.outdent()
            self.writeline("except TemplateNotFound:")
            self.indent()
            self.writeline("pass")
            self.outdent()
            self.writeline("else:")
            self.indent()
        self.simple_write("environment.concat(template.root_render_func(template.new_context(context.get_all(), "
                          f"True, {self.dump_local_context(frame)})))", frame)
        if node.ignore_missing:
            self.outdent()


class FlatCode(FlatIncludes):
    """The code of a flat template (`compile_flat`). No error is reported from it
    (`render` renders the template as written again to locate one), so it is written for speed:

    - `s.title` on a plan type reads the attribute directly when the value's class is one whose
      instances always hold it (`always_set`); any other value, and any name starting with "_",
      goes through the sandbox's `getattr` as before. Per piece of output this was the main cost.
    - The pieces of one output run (`| {{ a }} | {{ b }} |`) are joined by one %-format and
      yielded once, instead of a `yield str(...)` each; `%s` is `str()`, so the text is the same."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.direct_reads: set[str] = set()

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        super().visit_Template(node, frame)
        # Module level, after the render functions: the classes read directly, per attribute name.
        for attr in sorted(self.direct_reads):
            self.writeline(f"direct_{attr} = environment.direct_types({attr!r})")

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        attr = node.attr
        if (self.environment.is_async or attr.startswith("_") or not attr.isascii() or not attr.isidentifier()
                or keyword.iskeyword(attr)):
            return super().visit_Getattr(node, frame)
        self.direct_reads.add(attr)
        # One temporary is enough: the object is evaluated in full before it is assigned and read.
        self.write(f"(_o.{attr} if type(_o := ")
        self.visit(node.node, frame)
        self.write(f") in direct_{attr} else environment.getattr(_o, {attr!r}))")

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        finalize = self._make_finalize()
        if (frame.require_output_check or frame.buffer is not None or frame.eval_ctx.volatile
                or finalize.src is not None or self.environment.is_async):
            return super().visit_Output(node, frame)
        pieces: list[list[str] | nodes.Expr] = []  # constant text (grouped) and expressions, as Jinja folds them
        for child in node.nodes:
            try:
                const = self._output_child_to_const(child, frame, finalize)
            except Exception:  # nodes.Impossible included: evaluated at render time
                pieces.append(child)
                continue
            if pieces and isinstance(pieces[-1], list):
                pieces[-1].append(const)
            else:
                pieces.append([const])
        if len(pieces) < 2:
            return super().visit_Output(node, frame)
        pattern = "".join("".join(piece).replace("%", "%%") if isinstance(piece, list) else "%s" for piece in pieces)
        self.writeline(f"yield {pattern!r} % (", node)
        for piece in pieces:
            if not isinstance(piece, list):
                self.newline(piece)
                self.write("escape(" if frame.eval_ctx.autoescape else "(")
                self.visit(piece, frame)
                self.write("),")
        self.write(")")


# What a partial may contain to be pasted where it is included: no assignments, macros, blocks or
# imports, whose scope an include would keep to the partial.
_NOT_INLINED = (nodes.Assign, nodes.AssignBlock, nodes.Macro, nodes.Block, nodes.Extends, nodes.Import,
                nodes.FromImport, nodes.CallBlock, nodes.With, nodes.Scope, nodes.ScopedEvalContextModifier)


def _inline(env: jinja2.Environment, node: nodes.Node, existing: set[str], seen: tuple[str, ...]) -> nodes.Node:
    for field_name, value in node.iter_fields():
        if isinstance(value, list):
            setattr(node, field_name, [_inline_one(env, item, existing, seen) if isinstance(item, nodes.Node)
                                       else item for item in value])
        elif isinstance(value, nodes.Node):
            setattr(node, field_name, _inline(env, value, existing, seen))
    return node


def _inline_one(env: jinja2.Environment, node: nodes.Node, existing: set[str], seen: tuple[str, ...]) -> nodes.Node:
    if not isinstance(node, nodes.Include) or not node.with_context or node.ignore_missing:
        return _inline(env, node, existing, seen)
    names = node.template.items if isinstance(node.template, nodes.List | nodes.Tuple) else [node.template]
    *choices, last = names
    if not (isinstance(last, nodes.Const) and isinstance(last.value, str)) or last.value in seen or \
            any(isinstance(choice, nodes.Const) for choice in choices):
        return node
    try:
        source, filename, _ = env.loader.get_source(env, last.value)  # type: ignore[union-attr]
        body = env._parse(source, last.value, filename).body
    except jinja2.TemplateError:
        return node  # the include reports it, as written
    if any(found for kind in _NOT_INLINED for found in nodes.Scope(body).find_all(kind)):
        return node
    body = [_inline_one(env, item, existing, (*seen, last.value)) for item in body]
    if not choices:
        return nodes.Scope(body, lineno=node.lineno)  # the partial's loop variables stay its own
    # `["schemes/" ~ id ~ ".md.j2", "partials/..."]`: the override when that template exists.
    overrides = nodes.Const(tuple(sorted(existing)), lineno=node.lineno)
    test: nodes.Expr = nodes.Compare(choices[0], [nodes.Operand("in", overrides)], lineno=node.lineno)
    for choice in choices[1:]:
        test = nodes.Or(test, nodes.Compare(choice, [nodes.Operand("in", overrides)], lineno=node.lineno),
                        lineno=node.lineno)
    return nodes.If(test, [node], [], [nodes.Scope(body, lineno=node.lineno)], lineno=node.lineno)


# What makes `msg` in a template something other than the namespace passed in: an assignment, a
# loop or macro variable, an import under that name; or a parent template (extends) and
# `{% autoescape %}` blocks, whose effect on constant text is not known when compiling.
def _reads_msg_only(tree: nodes.Node) -> bool:
    for node in tree.find_all(nodes.Node):
        if isinstance(node, nodes.Extends | nodes.EvalContextModifier):
            return False
        if isinstance(node, nodes.Name) and node.name == "msg" and node.ctx != "load":
            return False
        if isinstance(node, nodes.NSRef | nodes.Macro) and node.name == "msg":
            return False
        if isinstance(node, nodes.Import) and node.target == "msg":
            return False
        if isinstance(node, nodes.FromImport) and any(
                (name if isinstance(name, str) else name[1]) == "msg" for name in node.names):
            return False
    return True


_NOT_FOLDED = object()


def _message(node: nodes.Node, msg: object) -> object:
    """The value of `msg.a.b` / `msg["a"]` as the sandbox would read it from `msg`, or _NOT_FOLDED:
    not a message read, a name starting with "_", a missing key, or not a plain text/number."""
    path: list[str] = []
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            path.append(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            path.append(node.arg.value)
        else:
            return _NOT_FOLDED
        node = node.node
    if not (isinstance(node, nodes.Name) and node.name == "msg" and node.ctx == "load"):
        return _NOT_FOLDED
    value = msg
    for key in reversed(path):
        if type(value) is not SimpleNamespace or key.startswith("_"):
            return _NOT_FOLDED
        value = getattr(value, key, _NOT_FOLDED)
    return value if value is None or type(value) in (str, int, bool) else _NOT_FOLDED


class _FoldMessages(NodeTransformer):
    """Replaces each message read by its value, a constant: Jinja then writes it into the template
    text at compile time (escaped for HTML), and a filter of it with constant arguments is applied
    once. Nested lists and dates stay reads: a constant list would be a new list per render."""

    def __init__(self, msg: object) -> None:
        self.msg = msg

    def visit_Getattr(self, node: nodes.Getattr | nodes.Getitem) -> nodes.Node:
        value = _message(node, self.msg)
        if value is _NOT_FOLDED:
            return self.generic_visit(node)
        return nodes.Const(value, lineno=node.lineno)

    visit_Getitem = visit_Getattr
