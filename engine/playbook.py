"""The one place that builds Jinja environments for playbooks: a sandbox, strict undefined values,
autoescape for HTML, and filters for dates, money and numbers in the reader's language. Every Jinja
error (syntax, undefined variable, sandbox security) leaves here as a `PlaybookError` with
`template:line` (dbt's `catch_jinja` habit), so a business user editing a template never sees a
traceback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import keyword
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import jinja2
import yaml
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

from engine.bundled import bundled_dir
from engine.errors import KeceError, Location, Say

Format = Literal["md", "html", "docx"]
FORMATS: tuple[Format, ...] = ("md", "html", "docx")
# Word is made from the Markdown rendering (engine/plan_docx.py), so both read the same templates.
TEMPLATE_SUFFIX = {"md": "md", "html": "html", "docx": "md"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, order=True)
class TemplateLocation(Location):
    """template:line; Jinja knows no columns, so none is shown."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class PlaybookError(KeceError):
    """A playbook template or message catalog cannot be used as written."""

    exit_code = 1


def default_playbooks_dir(cwd: Path | None = None) -> Path:
    """./playbooks when the working folder has one (a `kece init` workspace), else the bundled ones."""
    local = (cwd or Path.cwd()) / "playbooks"
    return local if (local / "plan.md.j2").is_file() else bundled_dir("playbooks")


# Filters. Each takes the language as its first argument; `environment` binds it.

def format_number(lang: str, value: object, digits: int = 2) -> str:
    """6,000,000 and 4,999,999.99: grouped thousands, no trailing zeros, in both languages."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _MISSING[lang]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")


def format_money(lang: str, value: object) -> str:
    if value is None or not isinstance(value, int | float) or isinstance(value, bool):
        return format_number(lang, value)
    return f"{format_number(lang, value)} 元" if lang == "zh" else f"CNY {format_number(lang, value)}"


def format_date(lang: str, value: dt.date | None) -> str:
    if value is None:
        return _MISSING[lang]
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def fill(text: str, **values: object) -> str:
    """A catalog sentence with its {placeholders} filled: `msg.every_days | fill(days=30)`.

    Plain replacement rather than str.format, which would reach attributes ('{0.__class__}')."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def cell(text: object) -> str:
    """A value made safe for one Markdown table cell: no column breaks, no line breaks."""
    return " ".join(str(text).split()).replace("|", "\\|")


_MISSING = {"zh": "缺失", "en": "missing"}


def filters(lang: str) -> dict[str, Callable[..., Any]]:
    return {
        "number": lambda value, digits=2: format_number(lang, value, digits),
        "money": lambda value: format_money(lang, value),
        "date": lambda value: format_date(lang, value),
        "fill": fill,
        "cell": cell,
    }


# Types whose public attributes templates may read without the sandbox's per-access checks: the
# plan's frozen dataclasses (registered by engine.plan) and the message namespace. They hold data
# only; anything starting with "_" (where `__class__.__mro__` escapes begin) still goes through
# the full check. The checks are most of the sandbox's cost on a plan of a few hundred lookups.
# `loop` (LoopContext) joins them: its public attributes are all meant for templates.
TEMPLATE_TYPES: set[type] = {SimpleNamespace, LoopContext}


def template_type(cls: type) -> type:
    """Class decorator: a plan type templates read (see TEMPLATE_TYPES)."""
    TEMPLATE_TYPES.add(cls)
    return cls


@cache
def _always_set(cls: type) -> frozenset[str]:
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
    """The code of a flat template (`PlaybookSandbox.flat_template`). No error is reported from it
    (`render` renders the template as written again to locate one), so it is written for speed:

    - `s.title` on a plan type reads the attribute directly when the value's class is one whose
      instances always hold it (`_always_set`); any other value, and any name starting with "_",
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


class PlaybookSandbox(SandboxedEnvironment):
    code_generator_class = FlatIncludes

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._chosen: dict[tuple, jinja2.Template] = {}
        # (template name, id of the message namespace) -> (flat template, the namespace, kept alive so
        # that its id cannot be reused by another object while the entry exists)
        self._flat: dict[tuple[str, int], tuple[jinja2.Template, object]] = {}

    def direct_types(self, attr: str) -> frozenset[type]:
        """The template types whose instances always hold `attr` (read from compiled flat templates)."""
        return frozenset(cls for cls in TEMPLATE_TYPES if attr in _always_set(cls))

    def getitem(self, obj: Any, argument: Any) -> Any:
        # `plan[kind]`, `msg[kind]`: the sandbox would first try obj[kind] and fail with a TypeError.
        # On a template type without __getitem__ a key is an attribute, as in `getattr` below.
        if type(obj) in TEMPLATE_TYPES and type(argument) is str and not argument.startswith("_") \
                and getattr(type(obj), "__getitem__", None) is None:
            try:
                return getattr(obj, argument)
            except AttributeError:
                return self.undefined(obj=obj, name=argument)
        return super().getitem(obj, argument)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) in TEMPLATE_TYPES and not attribute.startswith("_"):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    # `{% include [override, generic] %}` runs once per section of every plan, and compiled templates
    # call select_template / get_template directly; templates never change during a run (auto_reload
    # is off), so each name, or list of names, is resolved once: no loader call, no TemplateNotFound
    # raised per section for the override that does not exist.
    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> jinja2.Template:
        if globals is not None or not isinstance(name, str):
            return super().get_template(name, parent, globals)
        key = (name, parent)
        chosen = self._chosen.get(key)
        if chosen is None:
            chosen = self._chosen[key] = super().get_template(name, parent)
        return chosen

    def select_template(self, names: Any, parent: str | None = None, globals: Any = None) -> jinja2.Template:
        if globals is not None or not isinstance(names, list | tuple):
            return super().select_template(names, parent, globals)
        key = (tuple(names), parent)
        chosen = self._chosen.get(key)
        if chosen is None:
            chosen = self._chosen[key] = super().select_template(names, parent)
        return chosen


    # Inlined rendering: most of a plan's render time went to `{% include %}` (a new context, a
    # generator and a join per section). `flat_template` compiles a template with each include of
    # a fixed partial pasted in (a per-scheme override still goes through the include); errors
    # are located by rendering again with the template as written (`render`).
    #
    # Given the message namespace `msg` that every plan of a run shares, the flat template is also
    # specialised to it: `msg.title` is compiled as the text itself, which Jinja joins with the
    # template text around it (`_FoldMessages`). One entry per template and namespace.
    def flat_template(self, name: str, msg: object = None) -> jinja2.Template:
        key = (name, id(msg))
        entry = self._flat.get(key)
        if entry is None:
            source, filename, _ = self.loader.get_source(self, name)  # type: ignore[union-attr]
            tree = _inline(self, self._parse(source, name, filename), set(self.list_templates()), ())
            if type(msg) is SimpleNamespace and _reads_msg_only(tree):
                tree = _FoldMessages(msg).visit(tree)
            tree.set_environment(self)
            generator = FlatCode(self, name, filename, optimized=self.optimized)
            generator.visit(tree)
            # Globals as a plain dict, not Jinja's ChainMap over the environment's: each render copies
            # them into a new context, and copying a ChainMap cost ~5 µs. They are set before any
            # template is compiled and never change.
            code = self._compile(generator.stream.getvalue(), filename or "<template>")
            flat = self.template_class.from_code(self, code, dict(self.make_globals(None)), None)
            if len(self._flat) >= _FLAT_CACHE:
                del self._flat[next(iter(self._flat))]  # the oldest: a run uses one namespace per language
            entry = self._flat[key] = (flat, msg)
        return entry[0]


_FLAT_CACHE = 16


# What a partial may contain to be pasted where it is included: no assignments, macros, blocks or
# imports, whose scope an include would keep to the partial.
_NOT_INLINED = (nodes.Assign, nodes.AssignBlock, nodes.Macro, nodes.Block, nodes.Extends, nodes.Import,
                nodes.FromImport, nodes.CallBlock, nodes.With, nodes.Scope, nodes.ScopedEvalContextModifier)


def _inline(env: PlaybookSandbox, node: nodes.Node, existing: set[str], seen: tuple[str, ...]) -> nodes.Node:
    for field_name, value in node.iter_fields():
        if isinstance(value, list):
            setattr(node, field_name, [_inline_one(env, item, existing, seen) if isinstance(item, nodes.Node)
                                       else item for item in value])
        elif isinstance(value, nodes.Node):
            setattr(node, field_name, _inline(env, value, existing, seen))
    return node


def _inline_one(env: PlaybookSandbox, node: nodes.Node, existing: set[str], seen: tuple[str, ...]) -> nodes.Node:
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


class PlaybookLoader(jinja2.FileSystemLoader):
    """Remembers templates that do not exist: `{% include ["schemes/x.md.j2", "partials/..."] %}`
    asks for the missing override on every render, and each miss would be a file-system lookup."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder))
        self.missing: set[str] = set()

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        if template in self.missing:
            raise jinja2.TemplateNotFound(template)
        try:
            return super().get_source(environment, template)
        except jinja2.TemplateNotFound:
            self.missing.add(template)
            raise


@lru_cache(maxsize=32)
def environment(folder: Path, fmt: Format, lang: str) -> PlaybookSandbox:
    """The sandboxed environment for one playbook folder, output format and language.

    Templates are cached and not re-checked on disk (`auto_reload=False`): a run renders one
    template many times, and a stat per render would cost more than the rendering itself."""
    env = PlaybookSandbox(
        loader=PlaybookLoader(folder),
        undefined=jinja2.StrictUndefined,
        autoescape=fmt == "html",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(filters(lang))
    return env


def render(folder: Path, name: str, fmt: Format, lang: str, **variables: object) -> str:
    """A template rendered with its fixed partials pasted in; on an error, rendered again as written
    (the same variables give the same error) so that the error names the partial's file and line."""
    env = environment(folder, fmt, lang)
    try:
        return env.flat_template(name, variables.get("msg")).render(**variables)
    except jinja2.TemplateError:
        pass
    with catch_jinja(folder, name):
        return env.get_template(name).render(**variables)


@contextmanager
def catch_jinja(folder: Path, template: str | None = None) -> Iterator[None]:
    """Turn Jinja's exceptions into a PlaybookError that names the template file and line."""
    try:
        yield
    except jinja2.TemplateSyntaxError as exc:
        raise PlaybookError(Say(f"template syntax error: {exc.message}", f"模板语法错误:{exc.message}"),
                            _where(folder, exc.name or template, exc.lineno)) from None
    except jinja2.exceptions.SecurityError as exc:
        raise PlaybookError(Say(f"the template uses something playbooks may not use ({exc}); templates can "
                                "only read the plan's variables (docs/playbooks.md)",
                                f"模板使用了不允许的写法({exc});模板只能读取行动方案的变量(见 docs/playbooks.md)"),
                            _where(folder, *_render_position(exc, template))) from None
    except jinja2.UndefinedError as exc:
        raise PlaybookError(Say(f"the template uses an unknown variable: {exc.message}; the variables are "
                                "listed in docs/playbooks.md",
                                f"模板使用了不存在的变量:{exc.message};可用的变量见 docs/playbooks.md"),
                            _where(folder, *_render_position(exc, template))) from None
    except jinja2.TemplateNotFound as exc:
        raise PlaybookError(Say(f"no template {exc.name} in {folder}", f"{folder} 中没有模板 {exc.name}"),
                            Location(str(folder))) from None
    except jinja2.TemplateError as exc:
        raise PlaybookError(Say(f"template error: {exc}", f"模板错误:{exc}"),
                            _where(folder, *_render_position(exc, template))) from None


def _render_position(exc: BaseException, template: str | None) -> tuple[str | None, int]:
    # Jinja rewrites a render error's traceback so that each template frame carries the template's
    # file name and line; the innermost one is where the error is.
    name, line = template, 0
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            name, line = filename, tb.tb_lineno
        tb = tb.tb_next
    return name, line


def _where(folder: Path, template: str | None, line: int | None) -> Location:
    return TemplateLocation(str(folder / template) if template else str(folder), line or 0)  # absolute stays


@dataclass(frozen=True)
class Catalog:
    """The words of a plan that do not come from rule packs, from playbooks/messages/<lang>.yaml."""

    lang: str
    messages: Mapping[str, Any]
    path: Path

    @cached_property
    def namespace(self) -> SimpleNamespace:
        """The messages as templates read them: `msg.title`, `msg.channels.visit`. A namespace, not
        a dict, so a key such as `items` or `values` cannot be shadowed by a dict method."""
        return _namespace(self.messages)

    def label(self, group: str, key: str | None) -> str:
        """A channel or owner role in the reader's language; an id the catalog lacks shows as is."""
        if key is None:
            return ""
        return str(self.messages.get(group, {}).get(key, key))


def _namespace(value: Any) -> Any:
    if isinstance(value, dict):
        return SimpleNamespace(**{str(k): _namespace(v) for k, v in value.items()})
    return value


@lru_cache(maxsize=8)
def load_catalog(folder: Path, lang: str) -> Catalog:
    path = folder / "messages" / f"{lang}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlaybookError(Say(f"no message catalog for '{lang}' (playbooks/messages/{lang}.yaml)",
                                f"缺少“{lang}”的消息目录(playbooks/messages/{lang}.yaml)"),
                            Location(str(path))) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PlaybookError(Say(f"the message catalog is not valid YAML: {exc}", f"消息目录不是有效的 YAML:{exc}"),
                            TemplateLocation(str(path), mark.line + 1 if mark else 0)) from None
    if not isinstance(data, dict):
        raise PlaybookError(Say("the message catalog must be a mapping of keys to texts",
                                "消息目录必须是“键: 文字”的映射"), Location(str(path)))
    return Catalog(lang, data, path)
