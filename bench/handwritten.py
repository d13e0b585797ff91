"""The three design-card packs written by hand as np.select over typed columns: the yardstick the
vectorized backend is measured against (it must stay within 3x of this). Keep in step with
rules/bank_tier.yaml, rules/dealer_class.yaml and rules/parent_attitude.yaml; the benchmark
checks that both give identical results, so a drift shows up as a mismatch."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.io.coerce import Prepared
from engine.rules.model import Scheme


def _columns(prepared: Prepared, scheme: Scheme) -> dict[str, np.ndarray]:
    """Floats with NaN for numbers; category codes (-1 = missing) for enums and booleans."""
    out = {}
    for name, column in prepared.frame(scheme).items():
        if isinstance(column.dtype, pd.CategoricalDtype):
            out[name] = column.cat.codes.to_numpy()
        else:
            out[name] = column.to_numpy(dtype=np.float64)
    return out


def bank_tier(c: dict[str, np.ndarray]) -> np.ndarray:
    assets, credit, statements, risk = c["assets"], c["credit_record"], c["statements"], c["risk_assessment"]
    # codes: credit excellent 0, good 1, fair 2, poor 3; statements complete 0, good 1, partial 2,
    # incomplete 3; risk complete 0, vague 1, insufficient 2
    a = (assets >= 5_000_000) & (credit == 0) & (statements == 0) & (risk == 0)
    b = (assets >= 1_000_000) & ((credit == 0) | (credit == 1)) & ((statements == 0) | (statements == 1)) & (risk == 0)
    c_ = ((assets >= 100_000) & (credit >= 0) & (credit <= 2) & (statements >= 0) & (statements <= 2)
          & ((risk == 0) | (risk == 1)))
    return np.select([a, b, c_], ["A", "B", "C"], default="D")


def dealer_class(c: dict[str, np.ndarray]) -> np.ndarray:
    staff, bids, projects = c["staff_count"], c["bids_in_tenders"], c["annual_projects"]
    # bids codes: false 0, true 1, missing -1
    a = (bids == 1) & (staff > 10) & (projects >= 20)
    b = (bids == 1) & (staff > 2) & ((staff <= 10) | (projects < 20))
    c_ = (bids == 0) | (staff <= 2)
    staff_missing, bids_missing = np.isnan(staff), bids == -1
    u = ((staff_missing & (bids == 1)) | (staff_missing & bids_missing) | ((staff > 2) & bids_missing)
         | ((staff > 10) & (bids == 1) & np.isnan(projects)))
    count = a.astype(np.int8) + b + c_ + u
    return np.select([count > 1, a, b, c_, u], ["!conflict", "A", "B", "C", "unclassified"], default="")


def parent_attitude(c: dict[str, np.ndarray]) -> np.ndarray:
    stage, pressure, hours, classes, chooses = (c["child_stage"], c["pressure_level"], c["weekly_class_hours"],
                                                c["classes_enrolled"], c["chooses_by"])
    # stage: kindergarten 0, primary 1, junior_high 2; chooses: comparison 0, peers 1, child_interest 2, other 3
    intensive = (pressure >= 4) & ((pressure == 5) | (classes >= 4) | ((stage == 0) & (hours >= 4))
                                   | ((stage == 1) & (hours >= 6)) | ((stage == 2) & (hours >= 8)) | (chooses == 0))
    laissez_faire = (pressure <= 2) & (classes <= 2) & (((chooses != 1) & (chooses >= 0)) | (chooses == -1))
    rational = (chooses == 2) | (chooses == 0)
    return np.select([intensive, laissez_faire, rational], ["intensive", "laissez_faire", "rational"],
                     default="follower")


HANDWRITTEN = {"bank_tier": bank_tier, "dealer_class": dealer_class, "parent_attitude": parent_attitude}


def evaluate(prepared: Prepared, schemes: list[Scheme]) -> dict[str, np.ndarray]:
    return {scheme.id: HANDWRITTEN[scheme.id](_columns(prepared, scheme)) for scheme in schemes}
