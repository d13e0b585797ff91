"""The exception tree. Every error a user can cause carries where it happened."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Location:
    """A place in a user's file: 1-based line and column; 0 means 'the whole file'."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.path
        return f"{self.path}:{self.line}:{self.column}"

    def with_path(self, path: str | Path) -> Location:
        return Location(str(path), self.line, self.column)


@dataclass(frozen=True)
class Say:
    """A sentence for a user, in English and Chinese; kece shows the one `--lang` asks for."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def say(text: str | Say, lang: str) -> str:
    return text.get(lang) if isinstance(text, Say) else text


@dataclass(frozen=True)
class Problem:
    """One finding in a user's file: where, which key, what is wrong, and how to fix it."""

    location: Location
    key_path: str
    message: str | Say
    suggestion: str | Say | None = None

    def render(self, lang: str = "en") -> str:
        key = f" {self.key_path}:" if self.key_path else ""
        hint = ""
        if self.suggestion:
            hint = f" ({say(self.suggestion, lang)})" if lang == "en" else f"({say(self.suggestion, lang)})"
        return f"{self.location}{key} {say(self.message, lang)}{hint}"

    def __str__(self) -> str:
        return self.render("en")


class KeceError(Exception):
    """Base of every error kece reports to a user without a traceback."""

    exit_code = 1

    def __init__(self, message: str | Say, location: Location | None = None) -> None:
        super().__init__(say(message, "en"))
        self.message = message
        self.location = location

    def render(self, lang: str = "en") -> str:
        text = say(self.message, lang)
        return f"{self.location}: {text}" if self.location else text

    def __str__(self) -> str:
        return self.render("en")


class RuleLoadError(KeceError):
    """One or more rule files are invalid; `problems` holds every finding, in file order."""

    exit_code = 1

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.location, p.key_path))
        count = len(self.problems)
        super().__init__(Say(f"{count} problem{'s' if count != 1 else ''} in the rule files",
                             f"规则文件中有 {count} 个问题"))

    def render(self, lang: str = "en") -> str:
        return "\n".join([say(self.message, lang), *(p.render(lang) for p in self.problems)])


class UsageError(KeceError):
    """The command line asks for something that cannot be done (a missing column, a bad option)."""

    exit_code = 2


class InputFileError(KeceError):
    """A customer file cannot be read at all (as opposed to single bad rows, which are rejected)."""

    exit_code = 2
