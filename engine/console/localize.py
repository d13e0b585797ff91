"""`kece --help` and click's usage errors in the user's language. The English is written beside each
command and option; the Chinese comes from help_zh.py, put in place on the click objects Typer builds
for each run. --help is eager and --lang is an option of each command, so the language is found in
the raw arguments before click parses them (`language_of`)."""

from __future__ import annotations

import re
import sys
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import typer
from rich.text import Text
from typer._click import exceptions as click_errors  # Typer 0.29 (pinned) carries its own click here

from engine.console import help_zh, params
from engine.messages import LANGS

CATALOG = "engine/console/help_zh.py"


def language_of(args: Sequence[str], environ: Mapping[str, str]) -> str:
    """The last `--lang X` or `--lang=X` before `--`, else KECE_LANG, else zh; zh for what kece does not speak."""
    end = list(args).index("--") if "--" in args else len(args)
    found = environ.get("KECE_LANG")
    for at, arg in enumerate(args[:end]):
        if arg == "--lang" and at + 1 < end:
            found = args[at + 1]
        elif arg.startswith("--lang="):
            found = arg.removeprefix("--lang=")
    return found if found in LANGS else "zh"


@dataclass(frozen=True)
class HelpText:
    """One text --help shows: where its Chinese is looked up (a table of help_zh.py and a key), and the
    click command or parameter it belongs to."""

    table: str
    key: str
    target: Any
    shown_as: str  # how a reader finds it in --help: "kece evaluate --duplicates"

    def chinese(self) -> str | None:
        return getattr(help_zh, self.table).get(self.key)


def shared_options() -> dict[str, str]:
    """The English help of each option declared in params.py -> its name there."""
    found = {}
    for name, value in vars(params).items():
        info = next((a for a in typing.get_args(value) if isinstance(a, typer.models.ParameterInfo)), None)
        if info is not None and info.help:
            found[info.help] = name
    return found


def help_texts(group: Any) -> Iterator[HelpText]:
    """Every command of `group` (the group first, as "kece") and every parameter of each."""
    shared = shared_options()
    for name, command in [("kece", group), *group.commands.items()]:
        path = "kece" if name == "kece" else f"kece {name}"
        yield HelpText("COMMANDS", name, command, path)
        for param in command.params:
            shown = max(param.opts, key=len) if param.param_type_name == "option" else param.name
            if param.help in shared:
                yield HelpText("SHARED", shared[param.help], param, f"{path} {shown}")
            else:
                yield HelpText("PARAMS", f"{name} {shown}", param, f"{path} {shown}")


def missing_chinese(group: Any) -> list[str]:
    """What stops `group`'s --help from being all Chinese, each saying which key to add where; and
    the keys of help_zh.py that name nothing (left over after a rename)."""
    problems, used = [], set()
    for text in help_texts(group):
        used.add((text.table, text.key))
        if not text.target.help:
            problems.append(f"{text.shown_as} has no help text: give it help=\"…\" where it is declared "
                            "(cli.py, or engine/console/params.py for a shared option)")
        elif text.chinese() is None:
            problems.append(f'{text.shown_as} has no Chinese help: add "{text.key}": "…" to {text.table} in '
                            f"{CATALOG} (its English: {text.target.help!r})")
    for table in ("COMMANDS", "SHARED", "PARAMS"):
        problems += [f'"{key}" in {table} of {CATALOG} names no command or option: rename or remove it'
                     for key in getattr(help_zh, table) if (table, key) not in used]
    return problems


class ChineseFormatter(typer.Context.formatter_class):  # type: ignore[misc,name-defined]
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, help_zh.USAGE if prefix is None else prefix)


class ChineseContext(typer.Context):
    formatter_class = ChineseFormatter

    def get_help(self) -> str:
        use_typer_words("zh")
        return super().get_help()


def localize(group: Any, lang: str) -> None:
    """Put `group`'s --help in `lang`: the texts, the usage line, the help option (shown as a bare flag)."""
    use_typer_words(lang)
    commands = [group, *group.commands.values()]
    for command in commands:
        command.get_help_option(typer.Context(command)).metavar = ""  # not `--help <bool>`
    if lang != "zh":
        return
    for text in help_texts(group):
        text.target.help = text.chinese() or text.target.help
    for command in commands:
        command.context_class = ChineseContext
        command.options_metavar = help_zh.OPTIONS_METAVAR
        command.get_help_option(typer.Context(command)).help = help_zh.HELP_OPTION
    group.subcommand_metavar = help_zh.SUBCOMMAND_METAVAR


ENGLISH_WORDS: dict[str, Any] = {}  # Typer's own, kept to put back when a process changes language (tests)


def use_typer_words(lang: str) -> None:
    """Typer's headings and error-panel words in `lang`. Typer loads them with its help printer, which
    a run that shows no help never loads; an English run leaves them alone until then."""
    if lang != "zh" and "typer.rich_utils" not in sys.modules:
        return
    from typer import rich_utils

    if not ENGLISH_WORDS:
        ENGLISH_WORDS.update({name: getattr(rich_utils, name) for name in (*help_zh.TYPER_WORDS, "_make_rich_text")})
    chinese = {**help_zh.TYPER_WORDS, "_make_rich_text": folding(ENGLISH_WORDS["_make_rich_text"])}
    for name, value in (chinese if lang == "zh" else ENGLISH_WORDS).items():
        setattr(rich_utils, name, value)


def folding(make_text: Callable[..., Any]) -> Callable[..., Any]:
    """Typer's help texts, folded at the edge of their column: rich breaks lines only at spaces, and a
    Chinese sentence has none, so its tail would be cut to '…'."""

    def make(**kwargs: Any) -> Any:
        text = make_text(**kwargs)
        if isinstance(text, Text):
            text.overflow = "fold"
        return text

    return make


@contextmanager
def usage_errors_in(lang: str) -> Iterator[None]:
    """click's usage errors raised inside, said in `lang`."""
    try:
        yield
    except click_errors.UsageError as exc:
        if lang != "zh" or isinstance(exc, click_errors.NoArgsIsHelpError):
            raise
        use_typer_words(lang)
        said = chinese_usage_error(exc)
        if said is None:
            raise
        raise click_errors.UsageError(said, exc.ctx) from None


def chinese_usage_error(exc: click_errors.UsageError) -> str | None:
    if isinstance(exc, click_errors.NoSuchOption):
        near = "、".join(sorted(exc.possibilities or ()))
        return (help_zh.NO_SUCH_OPTION_NEAR if near else help_zh.NO_SUCH_OPTION).format(name=exc.option_name,
                                                                                        near=near)
    if isinstance(exc, click_errors.BadParameter):  # MissingParameter too
        name = exc.param_hint or (exc.param.get_error_hint() if exc.param is not None else "")
        if isinstance(name, (list, tuple)):
            name = " / ".join(f"'{n}'" for n in name)
        if isinstance(exc, click_errors.MissingParameter):
            argument = exc.param is not None and exc.param.param_type_name == "argument"
            return (help_zh.MISSING_ARGUMENT if argument else help_zh.MISSING_OPTION).format(name=name)
        return help_zh.BAD_VALUE.format(name=name, reason=chinese_sentence(exc.message) or exc.message)
    return chinese_sentence(exc.message)


def chinese_sentence(message: str) -> str | None:
    """A sentence click or Typer says, in Chinese; None for one help_zh.py does not know."""
    for pattern, chinese in help_zh.CLICK_MESSAGES:
        matched = re.fullmatch(pattern, message.strip())
        if matched:
            return chinese.format(**matched.groupdict())
    return None
