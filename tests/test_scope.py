"""Scheme scope (`scope: {domain, when}`) and `plan_section`: loading, evaluation on both backends,
the CLI's counts and options, examples that expect out_of_scope, and kece check's analysis."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli import app
from engine.analysis.conditions import region_text
from engine.analysis.examples import run_examples
from engine.analysis.regions import analyse
from engine.errors import RuleLoadError
from engine.evaluation.batch import evaluate_file
from engine.rules.loader import load_rulebook, load_scheme_text
from tests.conftest import BANK

runner = CliRunner()

# Grades only enterprise and VIP customers of the bank; a gap below 1,000,000 is deliberate for
# retail customers, who are out of scope.
VIP = """
id: vip_grade
title: {zh: 大客户等级, en: Key-account grade}
hit_policy: unique
complete: true
scope:
  domain: bank
  when: {customer_kind: [enterprise, vip]}
plan_section: contacts
inputs:
  assets: {type: number, min: 0}
  customer_kind: {type: enum, values: [retail, enterprise, vip]}
rules:
  - id: top
    label: {zh: 顶级, en: Top}
    when: {assets: ">= 1000000"}
  - id: base
    label: {zh: 基础, en: Base}
    when: {assets: "< 1000000"}
  - id: none
    label: {zh: 无资产, en: No assets}
    when: {assets: missing}
examples:
  - given: {assets: 1000000, customer_kind: vip}
    expect: top
  - given: {assets: 999999, customer_kind: enterprise}
    expect: base
  - given: {customer_kind: vip}
    expect: none
  - given: {assets: 5000000, customer_kind: retail}
    expect: out_of_scope
  - given: {domain: dealer, assets: 5000000, customer_kind: vip}
    expect: out_of_scope
""".lstrip()

DEALER = """
id: dealer_size
title: {zh: 经销商规模, en: Dealer size}
scope: {domain: dealer}
inputs:
  staff_count: {type: integer}
rules:
  - id: big
    label: {zh: 大, en: Big}
    when: {staff_count: ">= 10"}
""".lstrip()

CUSTOMERS = """id,domain,assets,customer_kind
c1,bank,2000000,vip
c2, Bank ,500,enterprise
c3,bank,9000000,retail
c4,dealer,9000000,vip
c5,,3000000,enterprise
c6,BANK,,vip
"""


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def rules(rules_dir) -> Path:
    return rules_dir({"vip_grade.yaml": VIP, "dealer_size.yaml": DEALER, "features.yaml": "not: a scheme\n"})


def write(tmp_path: Path, text: str, name: str = "customers.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_scope_and_plan_section_load_and_features_yaml_is_not_a_scheme(rules):
    rulebook = load_rulebook(rules)
    assert [s.id for s in rulebook.schemes] == ["dealer_size", "vip_grade"]
    vip = rulebook.by_id["vip_grade"]
    assert vip.scope.domain == "bank" and [t.text for t in vip.scope.tests] == ["[enterprise, vip]"]
    assert vip.plan_section == "contacts" and rulebook.by_id["dealer_size"].plan_section == "segment"


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("  domain: bank\n", "  domain: bnak\n",
     "vip.yaml:6:11 scope.domain: 'bnak' is not one of bank, dealer, education, retail, b2b "
     "(did you mean 'bank'?)"),
    ("when: {customer_kind:", "when: {customer_kin:",
     "vip.yaml:7:10 scope.when.customer_kin: unknown input 'customer_kin' (did you mean 'customer_kind'?)"),
    ("when: {customer_kind: [enterprise, vip]}", "when: {customer_kind: [enterprise, vipp]}",
     "vip.yaml:7:25 scope.when.customer_kind:"),
    ("plan_section: contacts", "plan_section: talking",
     "vip.yaml:8:15 plan_section: 'talking' is not one of segment, talking_points, contacts"),
    ("    expect: out_of_scope\n  - given: {domain", "    expect: out_of_scop\n  - given: {domain",
     "expect: there is no rule 'out_of_scop' (did you mean 'out_of_scope'?)"),
])
def test_scope_mistakes_are_located_with_a_suggestion(old, new, expected):
    assert old in VIP
    with pytest.raises(RuleLoadError) as caught:
        load_scheme_text(VIP.replace(old, new), "vip.yaml")
    assert any(expected in problem.render("en") for problem in caught.value.problems), \
        [p.render("en") for p in caught.value.problems]


def test_out_of_scope_examples_need_a_scope():
    text = BANK + "  - given: {assets: 1}\n    expect: out_of_scope\n"
    with pytest.raises(RuleLoadError) as caught:
        load_scheme_text(text, "bank.yaml")
    assert "the scheme has no scope:, so no customer is out of scope" in caught.value.problems[0].render("en")


@pytest.mark.parametrize("backend", ["vectorized", "durable"])
def test_examples_expecting_out_of_scope_run_on_both_backends(backend):
    scheme = load_scheme_text(VIP)
    assert run_examples(scheme, backend) == []
    wrong = load_scheme_text(VIP.replace("customer_kind: retail}\n    expect: out_of_scope",
                                         "customer_kind: retail}\n    expect: top"))
    [failure] = run_examples(wrong, backend)
    assert failure.describe("en") == (f"example {{assets=5000000, customer_kind=retail}} expects top, but the "
                                      f"{backend} backend gives out_of_scope")


@pytest.mark.parametrize("backend", ["vectorized", "durable"])
def test_evaluate_with_a_domain_column(rules, tmp_path, backend):
    out = tmp_path / "out.csv"
    result = run("evaluate", str(write(tmp_path, CUSTOMERS)), "--rules", str(rules), "-o", str(out),
                 "--backend", backend, "--scheme", "vip_grade", "--lang", "en")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(table.columns) == ["id", "vip_grade", "vip_grade.label"]
    # c3 is retail (scope.when), c4 a dealer (domain); c2's " Bank " and c6's BANK are bank; c5 has none.
    assert table.values.tolist() == [["c1", "top", "Top"], ["c2", "base", "Base"], ["c3", "", ""],
                                     ["c4", "", ""], ["c5", "top", "Top"], ["c6", "none", "No assets"]]
    assert "applied to 4 of 6 customers" in result.output
    rows = [line.split("│")[1:-1] for line in result.output.splitlines() if line.count("│") == 5]
    counts = {cells[1].strip() or cells[0].strip(): cells[2].strip() for cells in rows}
    assert counts == {"Top": "2", "Base": "1", "No assets": "1", "unmatched": "0", "not applicable": "2"}
    shares = {cells[1].strip() or cells[0].strip(): cells[3].strip() for cells in rows}  # of the 4 applicable
    assert shares == {"Top": "50.0%", "Base": "25.0%", "No assets": "25.0%", "unmatched": "0.0%",
                      "not applicable": "—"}


def test_evaluate_without_a_domain_column_uses_scope_when_only(rules, tmp_path):
    text = "id,assets,customer_kind\nc1,2000000,vip\nc2,2000000,retail\nc3,10,enterprise\n"
    run_ = evaluate_file(load_rulebook(rules), write(tmp_path, text), tmp_path / "out.csv", schemes=["vip_grade"])
    [summary] = run_.summaries
    assert (summary.applied, summary.total, summary.out_of_scope, summary.unmatched) == (2, 3, 1, 0)
    assert summary.counts == {"top": 1, "base": 1, "none": 0}
    table = pd.read_csv(run_.output, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert table["vip_grade"].tolist() == ["top", "", "base"]


def test_domain_option_keeps_that_domains_schemes_and_those_without_one(rules_dir, tmp_path):
    folder = rules_dir({"vip_grade.yaml": VIP, "dealer_size.yaml": DEALER, "bank_tier.yaml": BANK})
    text = "id,assets,customer_kind,staff_count,credit_score,statements\nc1,2000000,vip,12,800,complete\n"
    out = tmp_path / "out.csv"
    result = run("evaluate", str(write(tmp_path, text)), "--rules", str(folder), "-o", str(out), "--domain", "dealer")
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(out, dtype=str, encoding="utf-8-sig").columns) == [
        "id", "bank_tier", "bank_tier.label", "dealer_size", "dealer_size.label"]
    result = run("evaluate", str(write(tmp_path, text)), "--rules", str(folder), "--domain", "bnak", "--lang", "en")
    assert result.exit_code == 2
    assert "--domain must be one of bank, dealer, education, retail, b2b, not 'bnak' did you mean 'bank'?" \
        in result.output


def test_a_single_customer_of_another_domain_is_not_applicable(rules):
    customer = json.dumps({"domain": "dealer", "assets": 2000000, "customer_kind": "vip", "staff_count": 3})
    result = run("evaluate", "--customer", customer, "--rules", str(rules), "--lang", "en")
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in result.output.splitlines() if line.count("│") == 5}
    assert rows["vip_grade"] == ["", "not applicable", ""]
    assert rows["dealer_size"] == ["", "unmatched", ""]
    result = run("explain", "--customer", customer, "--rules", str(rules), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert ("Scheme vip_grade does not apply to the customer: the customer's domain is dealer; "
            "the scheme is for bank") in result.output
    assert "dealer_size (Dealer size): no rule matches" in result.output
    retail = json.dumps({"assets": 2000000, "customer_kind": "retail"})
    result = run("explain", "--customer", retail, "--rules", str(rules), "--json", "-s", "vip_grade")
    assert json.loads(result.output) == [{"scheme": "vip_grade", "status": "out_of_scope",
                                          "reason": "customer_kind(customer_kind)= retail,不满足适用范围条件 "
                                                    "[enterprise, vip]"}]


def test_report_counts_customers_not_applicable(rules, tmp_path):
    out = tmp_path / "report.html"
    result = run("report", str(write(tmp_path, CUSTOMERS)), "--rules", str(rules), "-o", str(out),
                 "-s", "vip_grade", "--lang", "en")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert '<td>not applicable</td><td class="n">2</td><td class="n">—</td>' in html
    assert "<th>Share of applicable</th>" in html  # of the 4 customers the scheme applies to, not all 6
    assert '<td class="n">1</td><td class="n">25.0%</td>' in html
    assert "applied to 4 of 6 customers" in html


def test_check_finds_no_gap_where_the_scope_excludes_customers(rules_dir):
    assert analyse(load_scheme_text(VIP)).findings == []
    # Without the scope, retail customers would fall in no gap either (rules cover all assets), so
    # narrow a rule: the hole below 1,000 is a gap only for customers in scope.
    narrowed = VIP.replace('"< 1000000"', '"[1000..1000000)"')
    [gap] = analyse(load_scheme_text(narrowed)).findings
    assert gap.kind == "gap" and gap.severity == "error"
    assert [region_text(region, "en") for region in gap.regions] == \
        ["assets < 1000, customer_kind in [enterprise, vip]"]
    # A rule only retail customers could match never matches: they are all out of scope.
    outside = VIP.replace("when: {assets: missing}", "when: {assets: missing, customer_kind: retail}")
    findings = analyse(load_scheme_text(outside)).findings
    assert [(f.kind, f.rules, f.detail) for f in findings] == [("contradiction", ("none",), ("scope",)),
                                                                ("gap", (), ())]
    folder = rules_dir({"vip.yaml": outside})
    result = run("check", "--rules", str(folder), "--lang", "en")
    assert result.exit_code == 1
    assert "rule none could only match customers outside the scheme's scope: it never matches" in result.output


def test_a_chinese_domain_name_reads_as_the_domain(tmp_path):
    from typer.testing import CliRunner

    from cli import app

    source = tmp_path / "c.csv"
    source.write_text("id,领域,contribution_level,risk_level\nK1,银行,high,low\nK2,零售,high,low\nK3,,low,high\n",
                      encoding="utf-8")
    out = tmp_path / "o.csv"
    result = CliRunner().invoke(app, ["evaluate", str(source), "-s", "bank_quadrant", "-o", str(out), "-q",
                                      "--lang", "en"])
    assert result.exit_code == 0, result.output
    rows = [line.split(",")[:2] for line in out.read_text(encoding="utf-8-sig").splitlines()[1:]]
    assert rows == [["K1", "high_end"], ["K2", ""], ["K3", "low_end"]]
