"""The kece command group: what happens before click parses a command line (--debug and --lang
where people put them, the language of --help and of click's usage errors)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer

from engine.console.localize import language_of, localize, usage_errors_in


class KeceGroup(typer.core.TyperGroup):
    """--debug is a group option, but people add it where they add every other option, after the
    command (`kece evaluate x.csv --debug`): it is taken from anywhere before `--`. --lang is an
    option of each command, but people also put it first (`kece --lang en --help`). --help speaks the
    language the command line or KECE_LANG asks for, and so do click's errors (a missing argument,
    an unknown option)."""

    lang = "en"  # until main() reads the command line: the texts as written

    def main(self, args: Sequence[str] | None = None, *rest: Any, **extra: Any) -> Any:
        self.lang = language_of(sys.argv[1:] if args is None else list(args), os.environ)
        localize(self, self.lang)
        return super().main(args, *rest, **extra)

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def]
        end = args.index("--") if "--" in args else len(args)
        if "--debug" in args[:end]:
            args = ["--debug", *(arg for arg in args[:end] if arg != "--debug"), *args[end:]]
        with usage_errors_in(self.lang):
            return super().parse_args(ctx, self.lang_after_command(args))

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        with usage_errors_in(self.lang):
            return super().invoke(ctx)

    def lang_after_command(self, args: list[str]) -> list[str]:
        """`kece --lang en evaluate …` as `kece evaluate --lang en …`. Without a command (`kece --lang en
        --help`), or for one without --lang (schema), it has done its work: main() read it."""
        before, lang, at = [], [], 0
        while at < len(args) and args[at].startswith("-") and args[at] != "--":
            width = 2 if args[at] == "--lang" else 1
            (lang if args[at] == "--lang" or args[at].startswith("--lang=") else before).extend(args[at:at + width])
            at += width
        if not lang:
            return args
        command = self.commands.get(args[at]) if at < len(args) else None
        takes_lang = command is not None and any("--lang" in param.opts for param in command.params)
        return [*before, *args[at:at + 1], *(lang if takes_lang else []), *args[at + 1:]]
