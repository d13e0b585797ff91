"""The progress bar of long runs: rows, rows/s and time left on stderr, only for a person at a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text

from engine.console.streams import err
from engine.messages import t


class RateColumn(ProgressColumn):
    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def render(self, task: Task) -> Text:
        # Rows so far over time so far: chunks arrive 250,000 rows at a time, too seldom for rich's
        # own windowed speed, which reads 0 until the second update.
        rate = task.completed / task.elapsed if task.elapsed else 0
        text = t(self.lang, "rate", rate=f"{rate:,.0f}")
        if rate and task.total and not task.finished:
            left = int((task.total - task.completed) / rate)
            text += f" · {t(self.lang, 'time_left')} {left // 60}:{left % 60:02d}"
        return Text(text)


@contextmanager
def progress_bar(path: Path, quiet: bool, lang: str) -> Iterator[Callable[[int], None] | None]:
    """Yields a callback taking the rows done so far, or None when nobody is watching."""
    if quiet or not err.is_terminal:
        yield None
        return
    total = count_rows(path) if path.suffix.lower() in (".csv", ".txt") else None
    columns = [TextColumn(t(lang, "progress")), BarColumn(), MofNCompleteColumn(), RateColumn(lang)]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("rows", total=total)
        yield lambda rows: bar.update(task, completed=rows)


def count_rows(path: Path) -> int:
    """Lines after the header: the progress bar's total (a quoted line break makes it an estimate)."""
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            lines += block.count(b"\n")
    return max(lines - 1, 0)
