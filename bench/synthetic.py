"""Seeded synthetic customers for any set of schemes, with values crowded around the rules'
boundaries (exactly on them and one step either side) so every rule and edge gets exercised."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.rules.model import Scheme

MISSING_SHARE = 0.03


def boundaries(schemes: list[Scheme], name: str) -> list[float]:
    points = set()
    for scheme in schemes:
        for rule in scheme.rules:
            for test in rule.tests:
                if test.input == name and test.ordered:
                    for interval in test.intervals:
                        points.update(p for p in (interval.lo, interval.hi) if p is not None)
    return sorted(points) or [0.0, 100.0]


def synthetic_table(schemes: list[Scheme], rows: int, seed: int = 7) -> pd.DataFrame:
    """Customer cells as text, as a CSV would hold them; the first column is `id`."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {"id": np.char.add("C", np.arange(rows).astype(str))}
    declared = {name: decl for scheme in schemes for name, decl in scheme.inputs.items()}
    for name, decl in declared.items():
        if decl.type in ("number", "integer", "date"):
            edges = np.array(boundaries(schemes, name), dtype=np.float64)
            step = 1.0 if decl.type != "number" else 0.01
            near = rng.choice(edges, rows) + rng.choice([-step, 0.0, step], rows)
            lo = decl.min if decl.min is not None else min(edges.min() * 0.5, edges.min() - 10)
            hi = decl.max if decl.max is not None else max(edges.max() * 1.5, edges.max() + 10)
            spread = rng.uniform(lo, hi, rows)
            values = np.where(rng.random(rows) < 0.5, near, spread)
            if decl.min is not None or decl.max is not None:
                values = np.clip(values, decl.min if decl.min is not None else -np.inf,
                                 decl.max if decl.max is not None else np.inf)
            if decl.type == "number":
                text = pd.Series(np.round(values, 2)).astype(str).to_numpy(dtype=object)
            elif decl.type == "integer":
                text = pd.Series(np.round(values).astype(np.int64)).astype(str).to_numpy(dtype=object)
            else:
                days = pd.to_timedelta(np.round(values), unit="D")
                text = (pd.Timestamp("1970-01-01") + days).strftime("%Y-%m-%d").to_numpy(dtype=object)
        elif decl.type == "enum":
            text = rng.choice(np.array(decl.values, dtype=object), rows)
        elif decl.type == "boolean":
            text = rng.choice(np.array(["true", "false"], dtype=object), rows)
        else:
            text = rng.choice(np.array(["甲", "乙", "丙"], dtype=object), rows)
        text = text.astype(object)
        text[rng.random(rows) < MISSING_SHARE] = ""
        columns[name] = text
    return pd.DataFrame(columns)


# Cells as exports write them: money with a currency sign and separators, 万 units, text where a
# number belongs, empty cells; they are read, or rejected with a reason, never dropped.
MESSY_NUMBERS = np.array(["¥6,000,000", "500万", "abc", "", "1,234.5", "１２０", "N/A"], dtype=object)
MESSY_SHARE = 0.05
FOOTER_EVERY = 20_000  # a 合计 row, as a spreadsheet's subtotal
REPEATED_SHARE = 0.002  # rows whose id is another row's


def messy_table(schemes: list[Scheme], rows: int, seed: int = 11) -> pd.DataFrame:
    """`synthetic_table` with the mess of real exports: exported number forms, unreadable cells,
    合计 rows, repeated customer ids (the `id` column)."""
    rng = np.random.default_rng(seed)
    table = synthetic_table(schemes, rows, seed)
    declared = {name: decl for scheme in schemes for name, decl in scheme.inputs.items()}
    for name, decl in declared.items():
        picked = rng.random(rows) < MESSY_SHARE
        if decl.type in ("number", "integer"):
            table.loc[picked, name] = rng.choice(MESSY_NUMBERS, int(picked.sum()))
        elif decl.type in ("enum", "boolean", "date"):
            table.loc[picked, name] = rng.choice(np.array(["abc", "", "无"], dtype=object), int(picked.sum()))
    repeated = np.flatnonzero(rng.random(rows) < REPEATED_SHARE)
    table.loc[repeated, "id"] = table["id"].to_numpy()[rng.integers(0, rows, len(repeated))]
    footers = np.arange(FOOTER_EVERY - 1, rows, FOOTER_EVERY)
    table.loc[footers, "id"] = rng.choice(np.array(["合计", "小计", "Total"], dtype=object), len(footers))
    return table
