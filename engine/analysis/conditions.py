"""How kece check states a region of customers: per input, the tests that hold there. In English as
the tests a rule file holds (`assets in [1000000..5000000)`, ready to paste under `when:`); in
Chinese in words, with each input's and enum value's name beside its id (资产规模(assets) 介于
1000000(含)与 5000000(不含)之间), since a business user reads it rather than pastes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from engine.rules.literals import ORDERED_TYPES, format_value
from engine.rules.model import Input, Value

if TYPE_CHECKING:
    from engine.analysis.regions import Atom

Operator = Literal["=", "<", "<=", ">", ">=", "between", "one_of", "present", "missing"]


@dataclass(frozen=True)
class Part:
    """One test on an input: `between` holds (lo, hi) with `closed` saying which ends are included;
    `one_of` the values, and with `other` any text no test names besides."""

    operator: Operator
    values: tuple[Value, ...] = ()
    closed: tuple[bool, bool] = (True, True)
    other: bool = False


@dataclass(frozen=True)
class Condition:
    """What one input is inside a region: any of `parts`."""

    decl: Input
    parts: tuple[Part, ...]

    def text(self, lang: str) -> str:
        if lang == "en":
            return " or ".join(self._test(part) for part in self.parts)
        name = self.decl.display("zh")
        name = f"{name}({self.decl.name})" if name != self.decl.name else name
        return f"{name} " + " 或 ".join(self._zh(part) for part in self.parts)

    def _test(self, part: Part) -> str:
        name, text = self.decl.name, [self._value(value) for value in part.values]
        if part.operator in ("missing", "present"):
            return f"{name} is {part.operator}"
        if part.operator == "between":
            (lo, hi), (lo_closed, hi_closed) = text, part.closed
            return f"{name} in {'[' if lo_closed else '('}{lo}..{hi}{']' if hi_closed else ')'}"
        if part.operator == "one_of":
            text += ["*"] if part.other else []
            return f"{name} = {text[0]}" if len(text) == 1 else f"{name} in [{', '.join(text)}]"
        return f"{name} {part.operator} {text[0]}"

    def _zh(self, part: Part) -> str:
        shown = [self._value(value, "zh") for value in part.values]
        if part.operator == "missing":
            return "缺失"
        if part.operator == "present":
            return "有值"
        if part.operator == "between":
            (lo, hi), (lo_closed, hi_closed) = shown, part.closed
            return f"介于 {lo}({'含' if lo_closed else '不含'})与 {hi}({'含' if hi_closed else '不含'})之间"
        if part.operator == "one_of":
            shown += ["规则未提到的其他取值"] if part.other else []
            return f"为 {shown[0]}" if len(shown) == 1 else f"为 {'、'.join(shown)} 之一"
        return f"{part.operator} {shown[0]}" if part.operator != "=" else f"为 {shown[0]}"

    def _value(self, value: Value, lang: str = "en") -> str:
        written = format_value(self.decl.type, value)
        if lang == "en" or self.decl.type not in ("enum", "boolean"):
            return written
        label = self.decl.value_label(value, "zh")
        return f"{label}({written})" if label != written else written


def describe_atoms(decl: Input, atoms: list[Atom], chosen: frozenset[int]) -> Condition:
    """A set of one input's atoms as the fewest tests: runs of neighbouring ranges joined."""
    parts: list[Part] = []
    present = sorted(i for i in chosen if not atoms[i].missing)
    if decl.type in ORDERED_TYPES:
        runs: list[list[int]] = []
        for i in present:
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        parts += [_range(decl, atoms[run[0]], atoms[run[-1]]) for run in runs]
    else:
        if present:
            parts.append(Part("one_of", tuple(atoms[i].value for i in present if not atoms[i].other),
                              other=any(atoms[i].other for i in present)))
    if any(atoms[i].missing for i in chosen):
        parts.append(Part("missing"))
    return Condition(decl, tuple(parts))


def _range(decl: Input, first: Atom, last: Atom) -> Part:
    """The test for a run of neighbouring atoms, from the first one's low end to the last one's high end."""
    lo, lo_closed, hi, hi_closed = first.lo, first.point, last.hi, last.point
    from_start = lo is None or (decl.min is not None and lo == decl.min and lo_closed)
    to_end = hi is None or (decl.max is not None and hi == decl.max and hi_closed)
    if lo is not None and lo == hi:
        return Part("=", (lo,))
    if from_start and to_end:
        return Part("present")
    if from_start:
        return Part("<=" if hi_closed else "<", (hi,))
    if to_end:
        return Part(">=" if lo_closed else ">", (lo,))
    return Part("between", (lo, hi), (lo_closed, hi_closed))


def region_text(region: tuple[Condition, ...], lang: str) -> str:
    from engine.messages import t

    if not region:
        return t(lang, "finding.everyone")
    return t(lang, "and").join(condition.text(lang) for condition in region)
