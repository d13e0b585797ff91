"""How much work a rule file, a playbook template or a workbook may ask of kece. Rule files and
templates are written by people and shared between teams: without bounds one file (a YAML alias bomb,
a loop over range(10**9), a zipped workbook that expands a thousandfold) could take a machine's memory
or hours. Each bound is generous for real packs and can
be raised with an environment variable (README, "Safety")."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from engine.errors import Say, UsageError


@dataclass(frozen=True)
class Limits:
    rule_file_bytes: int = 1_000_000  # KECE_MAX_RULE_FILE_BYTES; the largest bundled pack is 25 kB
    rules_per_file: int = 1_000  # KECE_MAX_RULES; the bundled packs have at most 11
    yaml_depth: int = 50  # KECE_MAX_YAML_DEPTH: nesting of mappings and lists
    yaml_nodes: int = 200_000  # KECE_MAX_YAML_NODES: nodes once aliases (*name) are expanded
    analysis_work: int = 30_000_000  # KECE_MAX_ANALYSIS_WORK: cells x tests `kece check` evaluates per scheme
    template_range: int = 10_000  # KECE_MAX_TEMPLATE_RANGE: items of one range() in a playbook
    template_output: int = 5_000_000  # KECE_MAX_TEMPLATE_OUTPUT: characters of one rendered plan or string
    # KECE_MAX_WORKBOOK_BYTES: what an Excel input may expand to (its parts unzipped; an .xls as it is).
    # A sheet is read whole; 100,000 rows of 13 columns expand to 70 MB, Excel's most rows to ~750 MB.
    workbook_bytes: int = 2_000_000_000


ENV_NAMES = {
    "rule_file_bytes": "KECE_MAX_RULE_FILE_BYTES",
    "rules_per_file": "KECE_MAX_RULES",
    "yaml_depth": "KECE_MAX_YAML_DEPTH",
    "yaml_nodes": "KECE_MAX_YAML_NODES",
    "analysis_work": "KECE_MAX_ANALYSIS_WORK",
    "template_range": "KECE_MAX_TEMPLATE_RANGE",
    "template_output": "KECE_MAX_TEMPLATE_OUTPUT",
    "workbook_bytes": "KECE_MAX_WORKBOOK_BYTES",
}


def limits() -> Limits:
    """The defaults, with any KECE_MAX_* variable set in the environment; read on each call so that a
    test or a long-lived caller sees a change (the same settings give the same object, made once)."""
    key = tuple(os.environ.get(name) for name in ENV_NAMES.values())
    found = _MADE.get(key)
    if found is None:
        found = _MADE[key] = _limits()
    return found


_MADE: dict[tuple[str | None, ...], Limits] = {}


def _limits() -> Limits:
    values = {}
    for item in fields(Limits):
        name = ENV_NAMES[item.name]
        text = os.environ.get(name)
        if text is None:
            continue
        try:
            value = int(text.replace("_", ""))
            if value <= 0:
                raise ValueError
        except ValueError:
            raise UsageError(Say(f"{name} must be a positive whole number, not '{text}'",
                                 f"{name} 必须是正整数,不能是“{text}”")) from None
        values[item.name] = value
    return Limits(**values)
