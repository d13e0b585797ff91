"""kece explain: every rule and test with the customer's values, the winner and the next better rule."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import app
from engine.explain import explain, failing_tests, needs, render_text, to_json
from engine.loader import load_scheme_text
from tests.conftest import BANK

SCHEME = load_scheme_text(BANK)
B_CUSTOMER = {"assets": 4999999.99, "credit_score": 800, "statements": "partial"}


def per_rule(text: str, key: str, values: dict[str, object]) -> str:
    """BANK with `key: value` added to the rules named in `values`."""
    for rule_id, value in values.items():
        label = f"    label: {{zh: {rule_id}类客户, en: Grade {rule_id}}}\n"
        text = text.replace(label, f"{label}    {key}: {value}\n")
    return text


def verdicts(explanation) -> list[tuple[str, bool, str]]:
    return [(c.rule.id, c.matched, c.verdict) for c in explanation.rules]


def test_first_policy_winner_shadowed_and_next_better():
    e = explain(SCHEME, B_CUSTOMER)
    assert verdicts(e) == [("A", False, "failed"), ("B", True, "won"), ("D", True, "shadowed")]
    assert [(c.test.input, c.actual, c.passed) for c in e.rules[0].when] == [
        ("assets", "4999999.99", False), ("credit_score", "800", True), ("statements", "partial", False)]
    assert e.next_better.rule.id == "A"
    assert [(c.test.input, needs(c.test, SCHEME.inputs[c.test.input].type).en) for c in failing_tests(e.next_better)] \
        == [("assets", "≥ 5000000"), ("statements", "= complete")]


def test_text_in_both_languages():
    zh = "\n".join(render_text(explain(SCHEME, B_CUSTOMER), "zh"))
    en = "\n".join(render_text(explain(SCHEME, B_CUSTOMER), "en"))
    assert "bank_tier (银行客户等级) · hit_policy first: B B类客户" in zh
    assert "✓ B B类客户 — 胜出" in zh and "✓ D D类客户 — 命中但未胜出" in zh
    assert "资产规模(assets) 需要 ≥ 5000000(当前 4999999.99)" in zh
    assert "✓ B Grade B — won" in en and "Assets (assets) needs ≥ 5000000 (now 4999999.99)" in en
    assert "needs" not in zh and "需要" not in en


def test_missing_values_and_an_unmatched_customer():
    scheme = load_scheme_text(BANK.replace("    when: {}\n", "    when: {statements: missing}\n"))
    e = explain(scheme, {"assets": 10.0, "statements": "none"})
    assert e.result.status == "unmatched"
    assert e.rules[1].when[0].actual == "10" and e.rules[0].when[1].actual == "missing"
    assert e.next_better.rule.id == "A"  # the best rule is the one to aim for


def test_unique_conflict_and_priority_order():
    unique = load_scheme_text(BANK.replace("hit_policy: first", "hit_policy: unique"))
    assert [c.verdict for c in explain(unique, B_CUSTOMER).rules] == ["failed", "conflict", "conflict"]
    priority = load_scheme_text(per_rule(BANK.replace("hit_policy: first", "hit_policy: priority"), "priority",
                                         {"A": 1, "B": 1, "D": 5}))
    e = explain(priority, B_CUSTOMER)
    assert verdicts(e) == [("D", True, "won"), ("A", False, "failed"), ("B", True, "shadowed")]
    assert e.next_better is None  # nothing outranks the winner


def test_score_counts_points():
    scheme = load_scheme_text(per_rule(BANK.replace("hit_policy: first", "hit_policy: score"), "points",
                                       {"A": 5, "B": 3, "D": 1})
                              .replace("examples:", "bands:\n  - {id: hi, label: {zh: 高, en: High}, when: \">= 4\"}\n"
                                       "  - {id: lo, label: {zh: 低, en: Low}}\nexamples:")
                              .replace("expect: A", "expect: hi").replace("expect: B", "expect: hi"))
    e = explain(scheme, B_CUSTOMER)
    assert e.result.score == 4.0 and e.result.outcome == ("hi",)
    assert [c.verdict for c in e.rules] == ["failed", "counted", "counted"]
    assert "得分 4" in "\n".join(render_text(e, "zh"))


@pytest.mark.parametrize("record", [{}, {"assets": 5000000.0}, {"assets": 5000000.0, "credit_score": 750,
                                                                 "statements": "complete"}, B_CUSTOMER])
def test_explanation_agrees_with_the_rules(record):
    e = explain(SCHEME, record)
    assert all(c.matched == c.rule.matches(record) for c in e.rules)
    assert [c.rule.id for c in e.rules if c.verdict == "won"] == list(e.result.outcome)


def test_json_for_machines():
    data = json.loads(json.dumps(to_json(explain(SCHEME, B_CUSTOMER), "en")))
    assert data["outcome"] == ["B"] and data["rules"][0]["verdict"] == "failed"
    assert data["next_better"]["needs"][0] == {"input": "assets", "test": ">= 5000000", "actual": "4999999.99",
                                               "passed": False, "needs": "≥ 5000000"}


def test_cli_by_id_in_a_file_and_by_json(rules_dir, tmp_path):
    folder = rules_dir({"bank_tier.yaml": BANK})
    path = tmp_path / "c.csv"
    path.write_text("id,assets,credit_score,statements\nc1,4999999.99,800,partial\nc2,1,1,none\nc2,1,1,none\n",
                    encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["explain", str(path), "--id", "c1", "--rules", str(folder), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Assets (assets) needs ≥ 5000000 (now 4999999.99)" in result.output
    result = runner.invoke(app, ["explain", str(path), "--id", "c9", "--rules", str(folder), "--lang", "en"])
    assert result.exit_code == 2 and "no customer 'c9'" in result.output
    result = runner.invoke(app, ["explain", str(path), "--id", "c2", "--rules", str(folder), "--lang", "en"])
    assert result.exit_code == 2 and "is on several rows" in result.output and "3, 4" in result.output
    result = runner.invoke(app, ["explain", "--customer", json.dumps(B_CUSTOMER), "--rules", str(folder), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)[0]["outcome"] == ["B"]
