"""The one place that builds Jinja environments for playbooks: a sandbox, strict undefined values,
autoescape for HTML, and filters for dates, money and numbers in the reader's language. Every Jinja
error (syntax, undefined variable, sandbox security) leaves here as a `PlaybookError` with
`template:line` (dbt's `catch_jinja` habit), so a business user editing a template never sees a
traceback."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import jinja2
import yaml
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment

from engine.bundled import bundled_dir
from engine.errors import KeceError, Location, Say
from engine.plans.flat_templates import FlatIncludes, always_set, compile_flat
from engine.plans.template_limits import (
    TemplateLimitError,
    bounded_binop,
    bounded_output,
    bounded_range,
    start_rendering,
)
from engine.rules.yamlnodes import YamlTooLarge, bounded_safe_load

Format = Literal["md", "html", "docx"]
FORMATS: tuple[Format, ...] = ("md", "html", "docx")
# Word is made from the Markdown rendering (engine/plans/docx.py), so both read the same templates.
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


@lru_cache(maxsize=4096)  # a file's plans show the same few due dates, each many times
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
    """A value made safe for one line of Markdown (a table cell, a heading): no column or line
    breaks, no terminal control characters, and text only: no HTML, no link a viewer would follow."""
    try:
        return _cell(text)  # most cells (labels, actions, channels) recur in every plan of a file
    except TypeError:  # unhashable: a list or a dict a template passes
        return _cell.__wrapped__(text)


# Customer data is untrusted (README, Safety): `<script>` or `[x](javascript:...)` from a name must
# stay text in every Markdown viewer. `<` and `>` become entities, since Markdown.pl-style viewers do
# not honour `\<`; brackets take backslashes, so no link or image can start; a backslash in data is
# doubled, so that it cannot cancel those. C0 and C1 controls (ESC sequences retitle or rewrite a
# terminal, and Word's XML refuses them) are dropped; whitespace among them was split off already.
_CELL_ESCAPES = str.maketrans({"\\": "\\\\", "|": "\\|", "[": "\\[", "]": "\\]", "<": "&lt;", ">": "&gt;",
                               **{chr(c): None for c in (*range(0x20), *range(0x7F, 0xA0))}})
_CELL_SPECIAL = re.compile(r"[\\|\[\]<>\x00-\x1f\x7f-\x9f]")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")  # `&lt;` in data shows as written, not as `<`


@lru_cache(maxsize=8192, typed=True)  # typed: 1, 1.0 and True show differently
def _cell(text: object) -> str:
    text = " ".join(str(text).split())
    if "&" in text:
        text = _ENTITY.sub("&amp;", text)
    return text.translate(_CELL_ESCAPES) if _CELL_SPECIAL.search(text) else text


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
# plan's frozen dataclasses (registered by engine.plans.compose) and the message namespace. They hold data
# only; anything starting with "_" (where `__class__.__mro__` escapes begin) still goes through
# the full check. The checks are most of the sandbox's cost on a plan of a few hundred lookups.
# `loop` (LoopContext) joins them: its public attributes are all meant for templates.
TEMPLATE_TYPES: set[type] = {SimpleNamespace, LoopContext}


def template_type(cls: type) -> type:
    """Class decorator: a plan type templates read (see TEMPLATE_TYPES)."""
    TEMPLATE_TYPES.add(cls)
    return cls


class PlaybookSandbox(SandboxedEnvironment):
    code_generator_class = FlatIncludes
    intercepted_binops = frozenset({"*", "**"})  # bounded: engine/plans/template_limits.py

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = bounded_range
        self._chosen: dict[tuple, jinja2.Template] = {}
        # (template name, id of the message namespace) -> (flat template, the namespace, kept alive so
        # that its id cannot be reused by another object while the entry exists)
        self._flat: dict[tuple[str, int], tuple[jinja2.Template, object]] = {}

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        return bounded_binop(operator, left, right)

    def direct_types(self, attr: str) -> frozenset[type]:
        """The template types whose instances always hold `attr` (read from compiled flat templates)."""
        return frozenset(cls for cls in TEMPLATE_TYPES if attr in always_set(cls))

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
    # generator and a join per section), then to reading the message catalog and the plan's fields.
    # `flat_template` compiles a template for speed (engine/plans/flat_templates.py); errors are located by
    # rendering again with the template as written (`render`). One entry per template and message
    # namespace `msg` (the same for every plan of a run), which the flat template has built in.
    def flat_template(self, name: str, msg: object = None) -> jinja2.Template:
        key = (name, id(msg))
        entry = self._flat.get(key)
        if entry is None:
            flat = compile_flat(self, name, msg)
            if len(self._flat) >= _FLAT_CACHE:
                del self._flat[next(iter(self._flat))]  # the oldest: a run uses one namespace per language
            entry = self._flat[key] = (flat, msg)  # msg kept alive: its id cannot be reused meanwhile
        return entry[0]


_FLAT_CACHE = 16


class PlaybookLoader(jinja2.FileSystemLoader):
    """Remembers templates that do not exist: `{% include ["schemes/x.md.j2", "partials/..."] %}`
    asks for the missing override on every render, and each miss would be a file-system lookup."""

    def __init__(self, folder: Path) -> None:
        super().__init__(str(folder))
        self.folder = folder
        self.missing: set[str] = set()

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Any]:
        if template in self.missing:
            raise jinja2.TemplateNotFound(template)
        try:
            found = super().get_source(environment, template)
        except jinja2.TemplateNotFound:
            self.missing.add(template)
            raise
        except UnicodeDecodeError as exc:
            raise PlaybookError(Say(f"the template is not UTF-8 text (byte {exc.start}); save it as UTF-8",
                                    f"模板不是 UTF-8 编码的文本(第 {exc.start} 字节);请另存为 UTF-8"),
                                TemplateLocation(str(self.folder / template))) from None
        # A symlink may not bring a file from elsewhere (another team's folder, /etc) into plans.
        if found[1] and not Path(found[1]).resolve().is_relative_to(self.folder.resolve()):
            raise PlaybookError(Say("the template is a link to a file outside the playbooks folder; copy the "
                                    "file into the folder instead", "模板是指向 playbooks 文件夹之外文件的链接;"
                                    "请把文件复制到该文件夹中"), TemplateLocation(str(self.folder / template)))
        return found


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


def render(folder: Path, name: str, fmt: Format, lang: str, per_item: int = 0, **variables: object) -> str:
    """A template rendered with its fixed partials pasted in; on an error, rendered again as written
    (the same variables give the same error) so that the error names the partial's file and line.
    The output limit is one plan's, plus `per_item` characters per entry of a list that grows with
    the file (an index of plans)."""
    env = environment(folder, fmt, lang)
    entries = variables.get("entries")
    extra = per_item * len(entries) if isinstance(entries, list | tuple) else 0
    start_rendering()
    try:
        return bounded_output(env.flat_template(name, variables.get("msg")).generate(**variables), extra=extra)
    except (jinja2.TemplateError, ArithmeticError):
        pass
    start_rendering()
    with catch_jinja(folder, name):
        return bounded_output(env.get_template(name).generate(**variables), precise=True, extra=extra)


@contextmanager
def catch_jinja(folder: Path, template: str | None = None) -> Iterator[None]:
    """Turn Jinja's exceptions into a PlaybookError that names the template file and line."""
    try:
        yield
    except jinja2.TemplateSyntaxError as exc:
        raise PlaybookError(Say(f"template syntax error: {exc.message}", f"模板语法错误:{exc.message}"),
                            _where(folder, exc.name or template, exc.lineno)) from None
    except TemplateLimitError as exc:
        raise PlaybookError(exc.say, _where(folder, *_render_position(exc, template))) from None
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
    except ArithmeticError as exc:  # 1/0, a float overflow: the template's arithmetic, not kece's
        raise PlaybookError(Say(f"the template computes something impossible: {exc}", f"模板中的计算无法进行:{exc}"),
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


def owner_labels(lang: str, folder: Path | None = None) -> dict[str, str]:
    """Owner roles in `lang`, from the playbooks a plan would use (`owners:` of the message catalog)."""
    labels = load_catalog(folder or default_playbooks_dir(), lang).messages.get("owners")
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


@lru_cache(maxsize=8)
def load_catalog(folder: Path, lang: str) -> Catalog:
    path = folder / "messages" / f"{lang}.yaml"
    try:
        data = bounded_safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise PlaybookError(Say(f"the message catalog is not UTF-8 text (byte {exc.start}); save it as UTF-8",
                                f"消息目录不是 UTF-8 编码的文本(第 {exc.start} 字节);请另存为 UTF-8"),
                            Location(str(path))) from None
    except YamlTooLarge as exc:
        raise PlaybookError(exc.message, TemplateLocation(str(path), exc.mark.line + 1 if exc.mark else 0)) from None
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
