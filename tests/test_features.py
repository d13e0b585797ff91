"""Derived features: the declaration file, transactions to customers, calibration, CLV, the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from engine.errors import RuleLoadError
from engine.features import calibration as cal
from engine.features.derive import CalibratedFeatures, derive_file
from engine.features.featureset import CALIBRATED, FEATURES_FILE, features_path, load_features
from tests.conftest import REPO, SOURCE_MATERIAL

runner = CliRunner()
FEATURES = load_features(REPO / "rules" / FEATURES_FILE, "rules/features.yaml")

# The design contract's feature names.
CONTRACT = {"recency_days", "frequency", "monetary_total", "monetary_avg", "quantity_total", "first_purchase",
            "last_purchase", "tenure_days", "spend_last_period", "spend_prev_period", "spend_trend", "churned",
            "r_score", "f_score", "m_score", "pyramid_tier", "clv", "clv_lost_for_good", "clv_temporarily_lost"}

# Row 2 is the first data row (the header is row 1), as a spreadsheet numbers them.
TRANSACTIONS = """客户编号,日期,金额,数量
a,2024-06-30,100,1
a,2024-05-01,"1,000",2
a,2024年1月15日,¥50,1
b,20240301,200,
b,2023-12-01,300,3
c,2024-02-30,10,1
,2024-06-01,10,1
d,2024-06-10,abc,1
e,2024-07-02,70,1
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_file_declares_the_contract_features():
    assert set(FEATURES.spec.features) == CONTRACT
    assert {FEATURES.name(c) for c in CALIBRATED} == {"r_score", "f_score", "m_score", "pyramid_tier", "clv",
                                                     "clv_lost_for_good", "clv_temporarily_lost"}


def test_bundled_features_quote_passages_that_grep():
    quotes = [f.source for f in FEATURES.spec.features.values() if f.source] + [FEATURES.parameters.clv.source]
    assert len(quotes) >= 8
    if not SOURCE_MATERIAL.is_dir():  # a clone of kece alone: the quotes cannot be checked here
        pytest.skip("the source material is not beside this checkout")
    for source in quotes:
        assert source.quote in (SOURCE_MATERIAL / source.file).read_text(encoding="utf-8"), source


def test_a_rules_folder_without_features_yaml_uses_the_bundled_one(tmp_path):
    assert features_path(tmp_path) == REPO / "rules" / FEATURES_FILE
    (tmp_path / FEATURES_FILE).write_text("x: 1\n", encoding="utf-8")
    assert features_path(tmp_path) == tmp_path / FEATURES_FILE


# Range checks point at the mapping that holds the value (its first line); key and type errors at the value.
@pytest.mark.parametrize(("edit", "expected"), [
    (("compute: days_since_last", "compute: days_since_lst"),
     r"features\.yaml:\d+:\d+ features\.recency_days\.compute: 'days_since_lst' is not one of .*did you mean "
     r"'days_since_last'"),
    (("pyramid_shares: [1, 4, 15, 80]", "pyramid_shares: [1, 4, 15, 70]"),
     r"features\.yaml:\d+:\d+ parameters\.pyramid_shares: must be two or more positive whole percentages that add "
     r"up to 100, not \[1, 4, 15, 70\]"),
    (("retention_rate: 0.6", "retention_rate: 1.6"),
     r"features\.yaml:\d+:\d+ parameters\.clv\.retention_rate: must be between 0 and 1, not 1\.6"),
    (("  trend_period_days: 90", "  trend_period_dys: 90"),
     r"features\.yaml:\d+:3 parameters\.trend_period_dys: unknown key 'trend_period_dys' \(did you mean "
     r"'trend_period_days'\?\)"),
])
def test_errors_in_features_yaml_are_located_and_suggest_a_fix(tmp_path, edit, expected):
    text = (REPO / "rules" / FEATURES_FILE).read_text(encoding="utf-8")
    assert edit[0] in text
    path = write(tmp_path, FEATURES_FILE, text.replace(edit[0], edit[1], 1))
    with pytest.raises(RuleLoadError) as info:
        load_features(path)
    rendered = info.value.render("en")
    assert re.search(expected, rendered), rendered
    line = int(re.search(r"features\.yaml:(\d+):", rendered).group(1))
    edited = text.replace(edit[0], edit[1], 1).splitlines()
    assert edit[1].strip() in "\n".join(edited[line - 1:line + 5])


def test_derive_reads_chinese_headers_and_exported_values_and_rejects_bad_rows(tmp_path):
    path = write(tmp_path, "tx.csv", TRANSACTIONS)
    run = derive_file(path, tmp_path / "out.csv", FEATURES, as_of="2024-06-30", lang="en")
    assert (run.rows_in, run.rows_used, run.rows_rejected, run.customers) == (9, 5, 4, 2)
    rejects = pd.read_csv(run.rejects_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert rejects[["row", "column", "reason"]].values.tolist() == [
        ["7", "日期", "not a date (YYYY-MM-DD)"],
        ["8", "客户编号", "no customer id"],
        ["9", "金额", "not a number"],
        ["10", "日期", "after the as-of date 2024-06-30"],
    ]
    out = pd.read_csv(run.output, dtype=str, keep_default_na=False, encoding="utf-8-sig").set_index("customer_id")
    a, b = out.loc["a"], out.loc["b"]
    assert (a.recency_days, a.frequency, a.monetary_total, a.quantity_total) == ("0", "3", "1150.0", "4.0")
    assert (a.first_purchase, a.last_purchase, a.tenure_days) == ("2024-01-15", "2024-06-30", "167")
    # last 90 days: (2024-04-01, 2024-06-30] holds 100 + 1000; the 90 before hold 50.
    assert (a.spend_last_period, a.spend_prev_period, a.spend_trend) == ("1100.0", "50.0", "21.0")
    assert (b.recency_days, b.churned, b.spend_trend, b.monetary_avg) == ("121", "false", "-1.0", "250.0")
    assert a.calibration == b.calibration == run.calibration.id


def test_a_whitespace_text_line_with_the_wrong_number_of_fields_is_rejected_not_fatal(tmp_path):
    path = write(tmp_path, "tx.txt", "customer_id date number_of_cds dollar_value\n"
                                     "1 19970101 1 11.77\n\n2 19970102 2 3 4 5\n3 19970103 1 9\n")
    run = derive_file(path, tmp_path / "out.csv", FEATURES, as_of="1997-02-01", lang="en")
    assert (run.rows_in, run.rows_used, run.rows_rejected, run.customers) == (3, 2, 1, 2)
    rejects = pd.read_csv(run.rejects_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert rejects.values.tolist() == [["4", "2", "", "2 19970102 2 3 4 5", "6 fields where the header has 4"]]


def test_without_as_of_the_last_transaction_date_is_used_and_the_cli_says_so(tmp_path):
    path = write(tmp_path, "tx.csv", TRANSACTIONS)
    result = runner.invoke(app, ["derive", str(path), "-o", str(tmp_path / "c.csv"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "No --as-of given: the as-of date is the last transaction date in the file, 2024-07-02" in result.output
    assert "9 transactions: 6 used, 3 rejected; 3 customers" in result.output
    assert "No --calibration given: cut-points fitted on this file" in result.output
    zh = runner.invoke(app, ["derive", str(path), "-o", str(tmp_path / "z.csv")])
    assert "未给出 --as-of:以文件中最后一笔交易的日期 2024-07-02 为基准日" in zh.output


def test_a_file_that_is_not_transactions_is_a_usage_error(tmp_path):
    path = write(tmp_path, "c.csv", "id,assets\n1,5\n")
    result = runner.invoke(app, ["derive", str(path), "--lang", "en"])
    assert result.exit_code == 2
    assert "is not a transactions file: no column for date" in result.output


def test_scores_at_cut_points_fall_in_the_lower_bin():
    cuts = (10.0, 20.0, 20.0, 40.0)
    values = np.array([5, 10, 10.5, 20, 20.01, 40, 41, np.nan])
    assert cal.score_higher_better(values, cuts)[:-1].tolist() == [1, 1, 2, 2, 4, 4, 5]
    # Recency: fewer days score higher; a value on a cut-point gets the better (lower-bin) score.
    assert cal.score_lower_better(values, cuts)[:-1].tolist() == [5, 5, 4, 4, 2, 2, 1]
    assert np.isnan(cal.score_higher_better(values, cuts)[-1])
    tiers = cal.pyramid_tier(np.array([1000, 500, 499.99, 100, 99, 0.0]), (500.0, 200.0, 100.0))
    assert tiers.tolist() == [1, 1, 2, 3, 4, 4]


def test_pyramid_thresholds_take_the_last_customer_inside_each_share():
    spend = np.arange(1, 201, dtype=float)  # 200 customers: top 1 % = 2, top 5 % = 10, top 20 % = 40
    assert cal.pyramid_cuts(spend, (1, 4, 15, 80)) == (199.0, 191.0, 161.0)
    assert cal.pyramid_cuts(np.array([5.0, 3.0]), (1, 4, 15, 80)) == (5.0, 5.0, 5.0)


def test_dwyer_worked_example_in_the_docs_matches_hand_computed_numbers():
    # docs/features.md: spend 1,200 over 730 days, margin 30 %, retention 60 %, discount 10 %, 5 years.
    params = FEATURES.parameters.clv
    margin = 1200 / 2 * 0.3  # 180 a year
    by_hand = [180.0, 98.181818, 53.553719, 29.211119, 15.933338]  # 180 × (0.6/1.1)^t, t = 0..4
    assert [margin * (0.6 / 1.1) ** t for t in range(5)] == pytest.approx(by_hand, abs=1e-6)
    value = cal.dwyer_clv(np.array([1200.0]), np.array([730.0]), np.array([False]), params)[0]
    assert value == pytest.approx(376.88, abs=0.005)
    assert cal.dwyer_clv(np.array([1200.0]), np.array([730.0]), np.array([True]), params)[0] == 0
    # 001 暂时流失型客户: churned, back next year with chance 0.2, then 376.88, discounted a year: 68.52.
    temporarily = cal.dwyer_clv_temporarily_lost(np.array([1200.0, 1200.0]), np.array([730.0, 730.0]),
                                                 np.array([True, False]), params)
    assert temporarily == pytest.approx([376.8806 * 0.2 / 1.1, 376.8806], abs=0.005)
    assert round(float(temporarily[0]), 2) == 68.52
    # Under a year of tenure counts as one year: 300 spent in 30 days is 300 a year, not 3,650.
    assert cal.yearly_margin(np.array([300.0]), np.array([30.0]), 0.3)[0] == pytest.approx(90.0)
    docs = (REPO / "docs" / "features.md").read_text(encoding="utf-8")
    for number in ("180", "98.18", "53.55", "29.21", "15.93", "376.88", "68.52"):
        assert number in docs


def test_calibration_round_trips_and_is_applied_with_its_stored_cut_points_only(tmp_path):
    path = write(tmp_path, "tx.csv", TRANSACTIONS)
    result = runner.invoke(app, ["calibrate", str(path), "-o", str(tmp_path / "cal.yaml"), "--as-of", "2024-06-30",
                                 "--lang", "en"])
    assert result.exit_code == 0, result.output
    loaded = cal.load(tmp_path / "cal.yaml")
    assert loaded.as_of == "2024-06-30" and loaded.customers == 2 and loaded.transactions == 5
    assert loaded.id == cal.calibration_id(loaded) and f"Calibration {loaded.id}" in result.output
    assert loaded.content_sha256 == cal.file_sha256(path)
    hook = CalibratedFeatures(FEATURES, loaded)
    record = hook.apply_record({"recency_days": 0, "frequency": 3, "monetary_total": 1150})
    assert (record["r_score"], record["f_score"], record["m_score"], record["pyramid_tier"]) == (5, 5, 5, 1)
    assert record["calibration"] == loaded.id
    far = hook.apply_record({"recency_days": 9999, "frequency": 1, "monetary_total": 1})
    assert (far["r_score"], far["f_score"], far["m_score"], far["clv_lost_for_good"]) == (1, 1, 1, 0)
    # Churned: outside the pyramid of active customers (003), and worth its chance of coming back (001).
    assert "pyramid_tier" not in far and loaded.pyramid.population == "active" and loaded.pyramid.basis == "clv"
    assert far["clv"] == far["clv_temporarily_lost"] == pytest.approx(1 * 0.3 * cal.clv_factor(loaded.parameters.clv)
                                                                      * 0.2 / 1.1, abs=0.005)


def test_a_broken_calibration_file_is_reported_with_its_line(tmp_path):
    path = write(tmp_path, "tx.csv", TRANSACTIONS)
    runner.invoke(app, ["calibrate", str(path), "-o", str(tmp_path / "cal.yaml")])
    text = (tmp_path / "cal.yaml").read_text(encoding="utf-8")
    broken = re.sub(r"frequency: \[[^\]]*\]", "frequency: [3.0, 1.0]", text)
    (tmp_path / "cal.yaml").write_text(broken, encoding="utf-8")
    result = runner.invoke(app, ["derive", str(path), "--calibration", str(tmp_path / "cal.yaml"), "--lang", "en",
                                 "-o", str(tmp_path / "c.csv")])
    assert result.exit_code == 1
    assert re.search(r"cal\.yaml:\d+:\d+ rfm\.frequency: needs 4 cut-points in ascending order", result.output)


def test_evaluate_with_a_calibration_scores_one_customer_and_files(tmp_path, rules_dir):
    rules = rules_dir({"rfm_demo.yaml": RFM_DEMO})
    tx = write(tmp_path, "tx.csv", TRANSACTIONS)
    assert runner.invoke(app, ["calibrate", str(tx), "-o", str(tmp_path / "cal.yaml")]).exit_code == 0
    one = runner.invoke(app, ["evaluate", "--rules", str(rules), "--customer",
                              '{"recency_days": 0, "frequency": 3, "monetary_total": 1150}',
                              "--calibration", str(tmp_path / "cal.yaml"), "--lang", "en"])
    assert one.exit_code == 0, one.output
    assert re.search(r"rfm_demo\s+│\s+best", one.output)
    customers = write(tmp_path, "customers.csv", "id,recency_days,frequency,monetary_total\nx,0,3,1150\ny,400,1,5\n")
    result = runner.invoke(app, ["evaluate", str(customers), "--rules", str(rules), "-o", str(tmp_path / "r.csv"),
                                 "--calibration", str(tmp_path / "cal.yaml"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    loaded = cal.load(tmp_path / "cal.yaml")
    assert f"Calibration {loaded.id}" in result.output
    out = pd.read_csv(tmp_path / "r.csv", dtype=str, encoding="utf-8-sig")
    assert out[["id", "rfm_demo", "calibration"]].values.tolist() == [["x", "best", loaded.id],
                                                                      ["y", "other", loaded.id]]



def test_plans_with_a_calibration_show_the_calibrated_segment(tmp_path, rules_dir):
    rules = rules_dir({"rfm_demo.yaml": RFM_DEMO})
    tx = write(tmp_path, "tx.csv", TRANSACTIONS)
    assert runner.invoke(app, ["calibrate", str(tx), "-o", str(tmp_path / "cal.yaml")]).exit_code == 0
    customers = write(tmp_path, "customers.csv", "id,recency_days,frequency,monetary_total\nx,0,3,1150\ny,400,1,5\n")
    result = runner.invoke(app, ["plan", str(customers), "--all", "--rules", str(rules), "-o", str(tmp_path / "plans"),
                                 "--calibration", str(tmp_path / "cal.yaml"), "--as-of", "2026-03-02", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "2 rows in: 2 plans written, 0 rejected" in result.output
    assert "### Demo: **Best**" in (tmp_path / "plans" / "x.md").read_text(encoding="utf-8")
    assert "### Demo: **Other**" in (tmp_path / "plans" / "y.md").read_text(encoding="utf-8")
    one = runner.invoke(app, ["plan", str(customers), "--id", "x", "--rules", str(rules), "--calibration",
                              str(tmp_path / "cal.yaml"), "--as-of", "2026-03-02", "--lang", "en"])
    assert one.exit_code == 0, one.output
    assert "### Demo: **Best**" in one.output
    # Without the calibration the file lacks r_score and m_score: no scheme can be used.
    bare = runner.invoke(app, ["plan", str(customers), "--all", "--rules", str(rules), "-o", str(tmp_path / "p2"),
                               "--lang", "en"])
    assert bare.exit_code == 2 and "lacks inputs" in bare.output

RFM_DEMO = """
id: rfm_demo
title: {zh: 演示, en: Demo}
inputs:
  r_score: {type: integer}
  m_score: {type: integer}
rules:
  - id: best
    label: {zh: 最好, en: Best}
    when: {r_score: 5, m_score: 5}
  - id: other
    label: {zh: 其他, en: Other}
    when: {}
examples:
  - given: {r_score: 5, m_score: 5}
    expect: best
"""


def test_explain_and_report_take_a_calibration_as_evaluate_does(tmp_path, rules_dir):
    rules = rules_dir({"rfm_demo.yaml": RFM_DEMO})
    tx = write(tmp_path, "tx.csv", TRANSACTIONS)
    assert runner.invoke(app, ["calibrate", str(tx), "-o", str(tmp_path / "cal.yaml")]).exit_code == 0
    customers = write(tmp_path, "customers.csv", "id,recency_days,frequency,monetary_total\nx,0,3,1150\ny,400,1,5\n")
    calibration = ["--calibration", str(tmp_path / "cal.yaml"), "--lang", "en"]
    explained = runner.invoke(app, ["explain", str(customers), "--id", "x", "--rules", str(rules), "--json",
                                    *calibration])
    assert explained.exit_code == 0, explained.output
    assert json.loads(explained.stdout)[0]["outcome"][0]["id"] == "best"
    one = runner.invoke(app, ["explain", "--customer", '{"recency_days": 400, "frequency": 1, "monetary_total": 5}',
                              "--rules", str(rules), "--json", *calibration])
    assert one.exit_code == 0 and json.loads(one.stdout)[0]["outcome"][0]["id"] == "other"
    result = runner.invoke(app, ["report", str(customers), "--rules", str(rules), "-o", str(tmp_path / "r.html"),
                                 *calibration])
    assert result.exit_code == 0, result.output
    assert "2 rows in: 2 evaluated, 0 rejected" in result.output
    assert "best · Best" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_calibrate_writes_into_kece_out_by_default(tmp_path, monkeypatch):
    tx = write(tmp_path, "tx.csv", TRANSACTIONS)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["calibrate", str(tx), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "kece-out" / "calibration.yaml").is_file() and not (tmp_path / "calibration.yaml").exists()
