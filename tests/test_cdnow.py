"""CDNOW (69,659 real purchases): kece's features against an independent pandas computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from engine.features.derive import derive_file
from engine.features.featureset import FEATURES_FILE, load_features
from tests.conftest import REPO

CDNOW = REPO / "data" / "cdnow" / "CDNOW_master.txt"
AS_OF = pd.Timestamp("1998-07-01")


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    out = tmp_path_factory.mktemp("cdnow") / "customers.csv"
    features = load_features(REPO / "rules" / FEATURES_FILE)
    run = derive_file(CDNOW, out, features, as_of="1998-07-01")
    table = pd.read_csv(out, dtype={"customer_id": str}, encoding="utf-8-sig").set_index("customer_id")
    return run, table


@pytest.fixture(scope="module")
def raw():
    # Read independently of kece: fixed-width whitespace columns, dates by format.
    frame = pd.read_csv(CDNOW, sep=r"\s+", dtype={"customer_id": str})
    frame["date"] = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d")
    return frame


def test_counts_match_the_published_figures(derived, raw):
    run, table = derived
    assert (run.rows_in, run.rows_used, run.rows_rejected) == (69_659, 69_659, 0)
    assert len(raw) == 69_659 and raw["customer_id"].nunique() == 23_570
    assert run.customers == len(table) == 23_570
    assert (raw["date"].min(), raw["date"].max()) == (pd.Timestamp("1997-01-01"), pd.Timestamp("1998-06-30"))


def test_rfm_monetary_and_recency_scores_equal_pandas_qcut(derived):
    _, table = derived
    m = pd.qcut(table["monetary_total"], 5, labels=[1, 2, 3, 4, 5]).astype(int)
    assert (m == table["m_score"]).all()
    r = 6 - pd.qcut(table["recency_days"], 5, labels=[1, 2, 3, 4, 5]).astype(int)
    assert (r == table["r_score"]).all()


def test_frequency_ties_leave_score_two_empty(derived):
    _, table = derived
    # pd.qcut refuses these edges (duplicates); count edges below each value instead.
    edges = table["frequency"].quantile([0.2, 0.4, 0.6, 0.8]).to_numpy()
    assert edges.tolist() == [1, 1, 2, 4]
    expected = 1 + (table["frequency"].to_numpy()[:, None] > edges[None, :]).sum(axis=1)
    assert (expected == table["f_score"].to_numpy()).all()
    assert table["f_score"].value_counts().sort_index().to_dict() == {1: 11_908, 3: 4_079, 4: 3_658, 5: 3_925}


def test_pyramid_band_sizes_by_sorting(derived):
    """003: the pyramid ranks customers "currently doing business with us" by lifetime value: the active
    (not churned) customers, by yearly margin (CLV is the yearly margin times one factor)."""
    _, table = derived
    active = table[table["recency_days"] <= 180]
    value = active["monetary_total"] * 365 / np.maximum(active["tenure_days"], 365)
    ranked = value.sort_values(ascending=False).to_numpy()
    n = len(ranked)
    sizes, start = [], 0
    for cumulative in (1, 5, 20):
        last = ranked[math.ceil(n * cumulative / 100) - 1]
        end = int((ranked >= last * (1 - 1e-12)).sum())  # customers tied with the last one join the better band
        sizes.append(end - start)
        start = end
    sizes.append(n - start)
    counts = table["pyramid_tier"].value_counts().sort_index()
    assert counts.tolist() == sizes
    assert n == 5_360 and table["pyramid_tier"].isna().sum() == 18_210  # churned customers get no tier
    assert table.loc[table["recency_days"] > 180, "pyramid_tier"].isna().all()


def test_a_few_customers_by_hand(derived, raw):
    _, table = derived
    # Customer 00003: six purchases, 1997-01-02 .. 1998-05-28.
    mine = raw[raw["customer_id"] == "00003"]
    assert len(mine) == 6
    row = table.loc["00003"]
    assert row["frequency"] == 6
    assert row["monetary_total"] == pytest.approx(mine["dollar_value"].sum())
    assert row["recency_days"] == (AS_OF - pd.Timestamp("1998-05-28")).days == 34
    assert row["tenure_days"] == (AS_OF - pd.Timestamp("1997-01-02")).days == 545
    assert row["quantity_total"] == mine["number_of_cds"].sum()
    assert bool(row["churned"]) is False
    # Yearly margin 156.46 × 365 / 545 × 0.3, times Σ (0.6/1.1)^t for t = 0..4.
    factor = sum((0.6 / 1.1) ** t for t in range(5))
    assert row["clv"] == pytest.approx(round(156.46 * 365 / 545 * 0.3 * factor, 2))
    assert row["clv"] == row["clv_lost_for_good"] == row["clv_temporarily_lost"]  # active: both views agree
    for customer in ("00001", "23570"):
        mine = raw[raw["customer_id"] == customer]
        row = table.loc[customer]
        assert row["recency_days"] == (AS_OF - mine["date"].max()).days
        assert row["monetary_avg"] == pytest.approx(mine["dollar_value"].mean())
        assert bool(row["churned"]) is True and row["clv_lost_for_good"] == 0
        # 001 暂时流失型客户: back next year with chance 0.2, then worth an active customer's value, discounted a year.
        active_value = row["monetary_total"] * 365 / max(row["tenure_days"], 365) * 0.3 * factor
        assert row["clv"] == row["clv_temporarily_lost"] == pytest.approx(round(active_value * 0.2 / 1.1, 2), abs=0.01)


def test_spend_periods_equal_a_direct_date_filter(derived, raw):
    _, table = derived
    age = (AS_OF - raw["date"]).dt.days
    last = raw[age < 90].groupby("customer_id")["dollar_value"].sum()
    prev = raw[(age >= 90) & (age < 180)].groupby("customer_id")["dollar_value"].sum()
    assert table["spend_last_period"].reindex(last.index).to_numpy() == pytest.approx(last.to_numpy())
    assert table["spend_prev_period"].reindex(prev.index).to_numpy() == pytest.approx(prev.to_numpy())
    assert int((table["spend_last_period"] > 0).sum()) == len(last)
    both = last.index.intersection(prev.index)
    trend = last[both] / prev[both] - 1
    assert table.loc[both, "spend_trend"].to_numpy() == pytest.approx(trend.to_numpy(), abs=1e-6)
    assert np.isnan(table.loc[table["spend_prev_period"] == 0, "spend_trend"]).all()
