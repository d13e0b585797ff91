"""Bounds on what a playbook template may make kece do. Jinja's sandbox stops templates reaching
Python, but not from asking for work: `range(10**9)`, `'a' * 10**10` or a loop inside a loop would
take the memory or the hours of a run. Every range() and every repetition (`*`) of one rendering
draws on one budget, its output on another (engine.limits: KECE_MAX_TEMPLATE_RANGE and
KECE_MAX_TEMPLATE_OUTPUT); going over raises a SecurityError, which engine.plans.playbook reports
with the template's file:line."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator
from contextvars import ContextVar

from jinja2.exceptions import SecurityError

from engine.errors import Say
from engine.limits import limits


class TemplateLimitError(SecurityError):
    """A template asked for more work than the limits allow; `say` is the sentence for the user."""

    def __init__(self, say: Say) -> None:
        super().__init__(say.en)
        self.say = say

_items_left: ContextVar[int | None] = ContextVar("template_items_left", default=None)
MAX_EXPONENT = 1_000  # 10**1000 is already far beyond any number a plan shows


def start_rendering() -> None:
    """A fresh budget for one rendering (a plan or an index)."""
    _items_left.set(limits().template_range)


def _draw(count: int, what: str) -> None:
    left = _items_left.get()
    if left is None:  # rendered outside `render` (a test's own environment): a budget of its own
        left = limits().template_range
    if count > left:
        limit = limits().template_range
        raise TemplateLimitError(Say(f"{what} makes more than the {limit:,} items a template may make for one "
                                     "plan (KECE_MAX_TEMPLATE_RANGE)",
                                     f"{what} 产生的项目超过模板为一份方案可产生的上限 {limit:,}"
                                     "(KECE_MAX_TEMPLATE_RANGE)"))
    _items_left.set(left - count)


def bounded_range(*args: int) -> range:
    items = range(*args)
    _draw(len(items), f"range({', '.join(map(str, args))})")
    return items


def bounded_binop(name: str, left: object, right: object) -> object:
    """`*` and `**` as Python computes them, once the size of the result is known to be bounded."""
    if name == "**":
        if isinstance(right, int | float) and abs(right) > MAX_EXPONENT and not isinstance(left, bool) \
                and isinstance(left, int | float) and abs(left) > 1:
            raise TemplateLimitError(Say(f"the power {left!r} ** {right!r} is too large for a template",
                                         f"幂运算 {left!r} ** {right!r} 对模板来说太大"))
        return operator.pow(left, right)  # type: ignore[call-overload]
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(times, int) and not isinstance(times, bool):
            _draw(len(sequence) * max(times, 0), f"* {times}")
    return operator.mul(left, right)  # type: ignore[operator]


_BLOCK = 256


def bounded_output(chunks: Iterator[str], precise: bool = False, extra: int = 0) -> str:
    """The rendered text, stopped past the output limit. Pieces are joined a block at a time (a plan
    is a few dozen pieces: one join at C speed); `precise` goes piece by piece and stops the template
    inside it, so that the error carries its line (the caller renders again that way on an error)."""
    limit = limits().template_output + extra
    parts, size = [], 0
    if not precise:
        while pieces := list(itertools.islice(chunks, _BLOCK)):  # a list: a block of empty pieces is no end
            block = "".join(pieces)
            size += len(block)
            if size > limit:
                raise _too_long(limit)
            parts.append(block)
        return "".join(parts)
    for part in chunks:
        size += len(part)
        if size > limit:
            # Thrown into the template's generator: the error carries the template's frame and line.
            chunks.throw(_too_long(limit))  # type: ignore[attr-defined]
        parts.append(part)
    return "".join(parts)


def _too_long(limit: int) -> TemplateLimitError:
    return TemplateLimitError(Say(
        f"the template writes more than {limit:,} characters for one plan (KECE_MAX_TEMPLATE_OUTPUT)",
        f"模板为一份方案输出的字符超过上限 {limit:,}(KECE_MAX_TEMPLATE_OUTPUT)"))
