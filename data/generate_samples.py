"""Seeded generator of the bundled sample customers (data/samples/customers.csv).

    python data/generate_samples.py [--seed 7] [--rows 200] [-o data/samples/customers.csv]

One row per customer with an `id` (C0001, ...), a Chinese `name`, a `domain` (bank, dealer,
education, retail or b2b, in fixed shares) and a column for every input of every bundled pack, so
one file exercises them all; a pack scoped to another domain leaves the row's cells empty and
`kece evaluate` reports it as not applicable there.

The three design-card packs (parent_attitude, bank_tier, dealer_class) get hand-built rows: each is
built towards a chosen segment, in fixed shares, so every rule gets customers; values sometimes sit
exactly on a threshold or one step below it; about 3% of their cells are left empty. Every other
pack's cells are copied from one of its own `examples` (chosen at random per row), which are
written to hit every rule, boundaries included; an input shared by several packs takes the first
pack's value. The same seed always gives the same file.

Retail rows get their transaction-derived inputs (recency_days, frequency, monetary_total,
tenure_days, spend_trend, churned, r_score, f_score, m_score, pyramid_tier, clv) from made-up
purchase histories, not from examples, so one customer's figures agree with each other: each
retail customer is built towards a shape (new, loyal high spender, frequent bargain hunter, big
one-off buyer, declining, lapsed, ..., in fixed shares, every shape at least once) and given
dated purchases up to RETAIL_AS_OF; kece's own code then derives the base features and churn flag
(engine.features.transactions.base_features, with rules/features.yaml's parameters), fits a calibration on
these retail customers and applies it (engine.features.calibration.fit / apply), as `kece derive` does. A
"no history" customer has no purchases, so all these cells stay empty, as a derive leaves them.
The retail histories draw from their own random stream, so the other rows do not depend on them.

Deliberately bad rows (so the demo shows the rejects file), one bad cell each, at evenly spaced
rows (with the defaults: C0051, C0101, C0151), each in the domain whose pack reads that cell:
  1. assets = "abc"             not a number
  2. staff_count = "7x0"        not an integer
  3. credit_record = "platinum" not one of the enum's values

Importable without side effects: call generate(rows, seed). It reads the packs' examples with
kece's own loader, so run it with the project's Python (.venv/bin/python).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import random
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from engine.features import calibration as cal
from engine.features.featureset import features_path, load_features
from engine.features.transactions import Transactions, base_features
from engine.io.coerce import empty_rejects
from engine.rules.literals import EPOCH
from engine.rules.loader import load_rulebook
from engine.rules.model import Scheme, Value

PARENT_COLUMNS = ["child_stage", "pressure_level", "weekly_class_hours", "classes_enrolled", "chooses_by"]
BANK_COLUMNS = ["assets", "credit_record", "statements", "risk_assessment"]
DEALER_COLUMNS = ["staff_count", "bids_in_tenders", "annual_projects"]
CARD_COLUMNS = PARENT_COLUMNS + BANK_COLUMNS + DEALER_COLUMNS
RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

MISSING_SHARE = 0.025  # plus the gaps that make dealers "unclassified": about 3% in all
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "samples" / "customers.csv"

# The bad cells, in the order bad rows get them (cycled when more than three are asked for).
BAD_CELLS = [("assets", "abc", "bank"), ("staff_count", "7x0", "dealer"), ("credit_record", "platinum", "bank")]
DOMAIN_SHARES = {"bank": 0.22, "dealer": 0.16, "education": 0.18, "retail": 0.30, "b2b": 0.14}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹"
GIVEN_NAMES = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
               "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "子涵", "浩然", "欣怡", "梓轩", "雨桐",
               "思远", "嘉怡", "建华", "志强", "晓燕", "海燕", "文博", "佳琪"]

# Shares of the segment each row is built towards (missing cells move a few rows elsewhere).
PARENT_SHARES = {"intensive": 0.28, "rational": 0.27, "follower": 0.25, "laissez_faire": 0.20}
BANK_SHARES = {"A": 0.12, "B": 0.25, "C": 0.33, "D": 0.30}
DEALER_SHARES = {"A": 0.18, "B": 0.34, "C": 0.42, "unclassified": 0.06}

RETAIL_AS_OF = dt.date(2026, 11, 26)  # the day the retail histories are derived on (recency counts back from it)
# Retail shapes: (share, tenure days, purchases, days since the last purchase, amount per purchase).
# The recent/lapsed × frequent/infrequent × big/small spenders fill the eight RFM cells; "new" gives
# transaction_behaviour's new customers; "declining" buys much less in the last 90 days than before.
RETAIL_SHAPES: dict[str, tuple[float, tuple[int, int], tuple[int, int], tuple[int, int], tuple[float, float]]] = {
    "new": (0.10, (3, 90), (1, 2), (1, 60), (30, 600)),
    "occasional": (0.08, (120, 700), (1, 2), (20, 170), (50, 900)),
    "big_one_off": (0.07, (10, 400), (1, 2), (3, 60), (4_000, 20_000)),
    "loyal": (0.12, (400, 1_500), (14, 36), (1, 25), (600, 9_000)),
    "bargain_regular": (0.10, (200, 1_000), (9, 24), (1, 30), (20, 160)),
    "declining": (0.08, (300, 1_200), (5, 12), (10, 80), (200, 2_500)),
    "lapsed": (0.14, (190, 900), (1, 3), (181, 700), (30, 500)),
    "lapsed_loyal": (0.07, (600, 1_800), (10, 24), (190, 420), (800, 7_000)),
    "lapsed_bargain": (0.07, (400, 1_200), (9, 18), (120, 400), (20, 150)),
    "lapsed_big_one_off": (0.07, (150, 600), (1, 2), (150, 500), (5_000, 25_000)),
    "no_history": (0.10, (0, 0), (0, 0), (0, 0), (0, 0)),
    "refunded": (0.02, (190, 600), (2, 2), (181, 500), (50, 500)),  # bought once, returned it: no value
}
DECLINE_PERIOD = (95, 175)  # the declining shape's earlier purchases: the 90 days before the last 90

# Thresholds of the bundled rules (rules/*.yaml); boundary values are drawn around these.
STAGE_HOURS = {"kindergarten": 4.0, "primary": 6.0, "junior_high": 8.0}
BANK_A, BANK_B, BANK_C = 5_000_000, 1_000_000, 100_000


def _hours(value: float) -> str:
    return f"{value:g}"


def _money(value: float) -> str:
    return f"{value:.2f}".removesuffix(".00")


def _parent(rng: random.Random, segment: str) -> dict[str, str]:
    stage = rng.choice(list(STAGE_HOURS))
    limit = STAGE_HOURS[stage]
    if segment == "intensive":
        pressure = rng.choice([4, 4, 5])
        hours = limit if rng.random() < 0.2 else limit + rng.randint(0, 16) / 2
        classes = rng.randint(2, 7)
        chooses = rng.choice(["comparison", "comparison", "child_interest", "peers"])
    elif segment == "rational":
        chooses = rng.choice(["child_interest", "child_interest", "comparison"])
        pressure = rng.choice([2, 3, 3, 3, 4])
        hours = rng.randint(2, 24) / 2
        classes = rng.randint(1, 6)
        if pressure == 4:  # light investment, or it would be intensive
            chooses = "child_interest"
            hours = limit - 0.5 if rng.random() < 0.3 else rng.randint(1, int(limit * 2) - 1) / 2
            classes = rng.randint(1, 3)
        elif pressure == 2:  # more than two classes, or it would be laissez-faire
            classes = rng.randint(3, 5)
    elif segment == "follower":
        chooses = rng.choice(["peers", "peers", "peers", "other"])
        pressure = rng.choice([1, 2, 3, 3, 4]) if chooses == "peers" else rng.choice([3, 4])
        hours = rng.randint(2, 20) / 2
        classes = rng.randint(1, 5)
        if pressure == 4:  # light investment, or it would be intensive
            hours = limit - 0.5 if rng.random() < 0.3 else rng.randint(1, int(limit * 2) - 1) / 2
            classes = rng.randint(1, 3)
    else:  # laissez_faire
        pressure = rng.choice([1, 2, 2])
        classes = rng.choice([0, 1, 1, 2, 2])
        hours = rng.randint(0, 8) / 2
        chooses = rng.choice(["child_interest", "child_interest", "other", "comparison"])
    return {"child_stage": stage, "pressure_level": str(pressure), "weekly_class_hours": _hours(hours),
            "classes_enrolled": str(classes), "chooses_by": chooses}


def _assets(rng: random.Random, low: float, high: float, edges: list[float]) -> float:
    if edges and rng.random() < 0.2:
        return rng.choice(edges)
    return round(rng.uniform(low, high), -2)


def _bank(rng: random.Random, segment: str) -> dict[str, str]:
    if segment == "A":
        assets = _assets(rng, BANK_A, 10 * BANK_A, [BANK_A])
        credit, statements, risk = "excellent", "complete", "complete"
    elif segment == "B":
        if rng.random() < 0.2:  # A-sized, but the credit record is only good
            assets, credit = _assets(rng, BANK_A, 4 * BANK_A, [BANK_A]), "good"
        else:
            assets = _assets(rng, BANK_B, BANK_A, [BANK_B, BANK_A - 0.01])
            credit = rng.choice(["excellent", "good"])
        statements, risk = rng.choice(["complete", "good"]), "complete"
    elif segment == "C":
        credit = rng.choice(["excellent", "good", "fair"])
        statements = rng.choice(["complete", "good", "partial"])
        if rng.random() < 0.2:  # large, but the risk assessment is vague
            assets, risk = _assets(rng, BANK_B, 6 * BANK_A, []), "vague"
        else:
            assets = _assets(rng, BANK_C, BANK_B, [BANK_C, BANK_B - 0.01])
            risk = rng.choice(["complete", "vague"])
    else:  # D: small assets, or a weak credit record, statements or risk assessment
        credit = rng.choice(["excellent", "good", "fair", "poor"])
        statements = rng.choice(["complete", "good", "partial", "incomplete"])
        risk = rng.choice(["complete", "vague", "insufficient"])
        if rng.random() < 0.5:
            assets = _assets(rng, 0, BANK_C, [BANK_C - 0.01, 0])
        else:
            assets = _assets(rng, 0, 2 * BANK_A, [])
            weak = rng.choice(["credit", "statements", "risk"])
            credit = "poor" if weak == "credit" else credit
            statements = "incomplete" if weak == "statements" else statements
            risk = "insufficient" if weak == "risk" else risk
    return {"assets": _money(assets), "credit_record": credit, "statements": statements, "risk_assessment": risk}


def _dealer(rng: random.Random, segment: str) -> dict[str, str]:
    if segment == "A":
        staff = 11 if rng.random() < 0.2 else rng.randint(11, 80)
        projects = 20 if rng.random() < 0.2 else rng.randint(20, 120)
        bids = "true"
    elif segment == "B":
        bids = "true"
        if rng.random() < 0.25:  # more than ten staff, but fewer than 20 projects a year
            staff, projects = rng.randint(11, 40), rng.choice([19, rng.randint(0, 19)])
        else:
            staff, projects = rng.choice([3, 10, rng.randint(3, 10), rng.randint(3, 10)]), rng.randint(1, 40)
    elif segment == "C":
        if rng.random() < 0.6:  # the owner alone or a husband-and-wife shop
            staff, bids = rng.choice([1, 2, 2]), rng.choice(["false", "false", "true"])
        else:  # does not bid in tenders, whatever its size
            staff, bids = rng.randint(3, 30), "false"
        projects = rng.randint(0, 30)
    else:  # unclassified: a key fact is missing
        staff, bids, projects = rng.randint(3, 40), "true", rng.randint(0, 60)
        gap = rng.choice(["staff", "bids", "projects"])
        if gap == "projects":
            staff = max(staff, 11)
        return {"staff_count": "" if gap == "staff" else str(staff),
                "bids_in_tenders": "" if gap == "bids" else bids,
                "annual_projects": "" if gap == "projects" else str(projects)}
    return {"staff_count": str(staff), "bids_in_tenders": bids, "annual_projects": str(projects)}


def _purchases(rng: random.Random, shape: str) -> list[tuple[int, float]]:
    """(days before RETAIL_AS_OF, amount) of one customer's purchases; none for "no_history"."""
    _, tenure_range, count_range, recency_range, (low, high) = RETAIL_SHAPES[shape]
    count = rng.randint(*count_range)
    if not count:
        return []
    recency = rng.randint(*recency_range)
    tenure = max(recency, rng.randint(*tenure_range)) if count > 1 else recency
    if shape == "declining":  # most purchases in the period before the last one, one small one since
        ages = [recency] + [rng.randint(max(recency + 1, DECLINE_PERIOD[0]), DECLINE_PERIOD[1])
                            for _ in range(count - 2)] + [max(tenure, DECLINE_PERIOD[1] + 1)]
        amounts = [round(low / 2, 2)] + [round(rng.uniform(low, high), 2) for _ in ages[1:]]
        return list(zip(ages, amounts, strict=True))
    if shape == "refunded":  # a purchase and its full refund: spend 0, lifetime value 0 in either view
        amount = round(rng.uniform(low, high), 2)
        return [(recency, -amount), (tenure, amount)]
    ages = [recency, tenure][:count] + [rng.randint(recency, tenure) for _ in range(count - 2)]
    # Log-uniform amounts: most purchases small, a few large, as in real baskets.
    return [(age, round(math.exp(rng.uniform(math.log(low), math.log(high))), 2)) for age in ages]


def _cells(values: dict[str, np.ndarray], index: int, names: dict[str, str]) -> dict[str, str]:
    """One customer's derived features as text cells, as `kece derive` writes them."""
    out = {}
    for computation, name in names.items():
        value = values[computation][index]
        if computation != "churn_flag" and np.isnan(value):
            out[name] = ""  # e.g. no pyramid tier for a churned customer
        elif computation == "churn_flag":
            out[name] = "true" if value else "false"
        elif computation in ("amount_sum", "dwyer_clv"):
            out[name] = _cell(float(value))
        elif computation == "spend_trend":
            out[name] = "" if np.isnan(value) else f"{round(float(value), 6) + 0.0:.6f}".rstrip("0").rstrip(".")
        else:
            out[name] = str(int(value))
    return out


def retail_features(count: int, seed: int) -> list[dict[str, str]]:
    """Derived-feature cells for `count` retail customers, computed by kece from made-up purchases."""
    rng = random.Random(f"retail-{seed}")
    features = load_features(features_path(RULES_DIR))
    wanted = set(columns())
    names = {c: n for c, n in features.names.items() if n in wanted}
    histories = [_purchases(rng, shape) for shape in _segments(rng, {k: v[0] for k, v in RETAIL_SHAPES.items()},
                                                                  count)]
    ids = [f"{n:06d}" for n, history in enumerate(histories) for _ in history]
    as_of = (RETAIL_AS_OF - EPOCH).days
    tx = Transactions(pd.Series(ids, dtype=object), np.array([as_of - age for h in histories for age, _ in h],
                                                             dtype=np.int64),
                      np.array([amount for h in histories for _, amount in h], dtype=np.float64), None,
                      empty_rejects(), len(ids))
    base = base_features(tx, as_of, features)
    base["amount_sum"] = base["amount_sum"].round(2)  # cents, as the CSV shows them
    calibration = cal.fit(base["days_since_last"].to_numpy(), base["transaction_count"].to_numpy(),
                          base["amount_sum"].to_numpy(), features.parameters, input_name="customers.csv",
                          content_sha256="", as_of=RETAIL_AS_OF.isoformat(), transactions=len(ids),
                          tenure_days=base["days_since_first"].to_numpy(dtype=np.float64))
    values = {c: base[c].to_numpy() for c in base.columns}
    values.update(cal.apply(calibration, *(base[c].to_numpy(dtype=np.float64) for c in
                                           ("days_since_last", "transaction_count", "amount_sum", "days_since_first")),
                            churned=base["churn_flag"].to_numpy()))
    position = {int(customer): n for n, customer in enumerate(base.index)}
    empty = dict.fromkeys(names.values(), "")
    return [_cells(values, position[n], names) if n in position else empty for n in range(count)]


def _segments(rng: random.Random, shares: dict[str, float], rows: int) -> list[str]:
    """Segments in the given shares (every segment at least once when rows allow), shuffled."""
    counts = {name: max(1, round(share * rows)) if rows >= len(shares) else 0 for name, share in shares.items()}
    names = list(shares)
    pool = [name for name in names for _ in range(counts[name])]
    while len(pool) < rows:
        pool.append(rng.choices(names, weights=list(shares.values()))[0])
    rng.shuffle(pool)
    return pool[:rows]


def bad_row_indexes(rows: int, bad_rows: int) -> list[int]:
    """Where the bad rows go (0-based): evenly spaced, never the same row twice."""
    bad_rows = min(bad_rows, rows)
    return sorted({(k + 1) * rows // (bad_rows + 1) for k in range(bad_rows)} if bad_rows else set())


@cache
def example_schemes() -> tuple[Scheme, ...]:
    """The bundled packs whose sample cells come from their examples: all but the design-card three."""
    card = {"parent_attitude", "bank_tier", "dealer_class"}
    return tuple(s for s in load_rulebook(RULES_DIR).schemes if s.id not in card)


def columns() -> list[str]:
    """id, name, domain, the card packs' inputs, then every other pack's inputs in file order."""
    names = ["id", "name", "domain", *CARD_COLUMNS]
    for scheme in example_schemes():
        names.extend(name for name in scheme.inputs if name not in names)
    return names


def _cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def _from_examples(rng: random.Random, domain: str, row: dict[str, str]) -> None:
    """Fill the inputs of every pack that applies to `domain` from one of its examples."""
    schemes = list(example_schemes())
    rng.shuffle(schemes)  # so no pack always wins the inputs it shares with others
    for scheme in schemes:
        if scheme.scope.domain not in (None, domain):
            continue
        usable = [e for e in scheme.examples if not e.expects_out_of_scope and e.domain in (None, domain)]
        if not usable:
            continue
        example = rng.choice(usable)
        for name, value in example.given.items():
            row.setdefault(name, _cell(value))


def generate(rows: int, seed: int, bad_rows: int = 3) -> list[dict[str, str]]:
    """`rows` customers as text cells keyed by columns(); the same seed gives the same rows."""
    rng = random.Random(seed)
    domains = _segments(rng, DOMAIN_SHARES, rows)
    bad = bad_row_indexes(rows, bad_rows)
    for n, index in enumerate(bad):
        domains[index] = BAD_CELLS[n % len(BAD_CELLS)][2]
    builders = {"education": (PARENT_SHARES, _parent, PARENT_COLUMNS), "bank": (BANK_SHARES, _bank, BANK_COLUMNS),
                "dealer": (DEALER_SHARES, _dealer, DEALER_COLUMNS)}
    segments = {domain: iter(_segments(rng, shares, domains.count(domain)))
                for domain, (shares, _, _) in builders.items()}
    retail = iter(retail_features(domains.count("retail"), seed))
    width = max(4, len(str(rows)))
    names = columns()
    out: list[dict[str, str]] = []
    for index, domain in enumerate(domains):
        row = {"id": f"C{index + 1:0{width}d}", "name": rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
               "domain": domain}
        if domain in builders:
            _, build, card_columns = builders[domain]
            row.update(build(rng, next(segments[domain])))
            for column in card_columns:
                if rng.random() < MISSING_SHARE:
                    row[column] = ""
        if domain == "retail":
            row.update(next(retail))
        _from_examples(rng, domain, row)
        out.append({name: row.get(name, "") for name in names})
    for n, index in enumerate(bad):
        column, value, _ = BAD_CELLS[n % len(BAD_CELLS)]
        out[index][column] = value
    return out


def write_csv(rows: list[dict[str, str]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns(), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write seeded sample customers for the bundled rule packs.")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--rows", type=int, default=200, help="number of customers (default 200)")
    parser.add_argument("--bad-rows", type=int, default=3, help="deliberately bad rows (default 3)")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT,
                        help="CSV file to write (default data/samples/customers.csv)")
    args = parser.parse_args(argv)
    if args.rows < 0 or args.bad_rows < 0:
        parser.error("--rows and --bad-rows must not be negative")
    rows = generate(args.rows, args.seed, args.bad_rows)
    write_csv(rows, args.output)
    print(f"wrote {len(rows)} customers to {args.output}")


if __name__ == "__main__":
    main()
