"""Where kece writes (results on stdout, messages on stderr) and how an error becomes an exit code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from engine.errors import KeceError, RuleLoadError, Say
from engine.messages import t

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
debug = {"on": False}  # set by `kece --debug`, read when a command fails


def file_system_error(exc: OSError) -> Say:
    where = f"{exc.filename}: " if exc.filename else ""
    reason = exc.strerror or str(exc)
    return Say(f"{where}cannot read or write this file: {reason}", f"{where}无法读取或写入该文件:{reason}")


def handles_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Our errors become a message and an exit code; a bug in kece shows a traceback only with --debug."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        lang = kwargs.get("lang", "zh")
        try:
            return command(*args, **kwargs)
        except RuleLoadError as exc:
            err.print(f"[bold red]{t(lang, 'problems', count=len(exc.problems))}[/]")
            for problem in exc.problems:
                err.print(problem.render(lang), markup=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeceError as exc:
            err.print(f"[bold red]{t(lang, 'error')}:[/] {escape(exc.render(lang))}", soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except OSError as exc:
            # The file system refused (a folder where a file goes, no permission, a full disk): the
            # user can fix that, so it is a message and exit 2, not a bug report.
            if debug["on"]:
                raise
            err.print(f"[bold red]{t(lang, 'error')}:[/] {escape(file_system_error(exc).get(lang))}", soft_wrap=True)
            raise typer.Exit(2) from None
        except Exception as exc:
            if debug["on"]:
                raise
            err.print(t(lang, "internal_error", error=f"{type(exc).__name__}: {exc}"), markup=False)
            raise typer.Exit(70) from None

    return wrapper
