"""`kece check`'s analysis: each kind of defect, found exactly, with its location and a customer."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli import app
from engine.analysis.conditions import region_text
from engine.analysis.regions import analyse
from engine.rules.loader import load_scheme_text

HEAD = """id: t
title: {zh: 测试, en: Test}
hit_policy: %s
inputs:
  assets: {type: number, min: 0, required: %s}
  credit_score: {type: integer}
  kind: {type: enum, values: [a, b]}
rules:
"""


def scheme(policy: str, rules: str, required: str = "true", extra: str = ""):
    head = (HEAD % (policy, required)).replace("rules:\n", extra + "rules:\n")
    return load_scheme_text(head + rules, "rules/t.yaml")


def rule(rule_id: str, when: str, more: str = "") -> str:
    return f"  - id: {rule_id}\n    label: {{zh: {rule_id}, en: {rule_id}}}\n    when: {when}\n{more}"


def summary(s) -> list[tuple]:
    return [(f.kind, f.severity, f.rules, [str(loc) for loc in f.locations],
             [region_text(r, "en") for r in f.regions], f.customer_text, f.detail)
            for f in analyse(s).findings]


PARTITION = rule("low", '{assets: "< 1000000"}') + rule("high", '{assets: ">= 1000000"}')


@pytest.mark.parametrize(("policy", "rules", "required"), [
    ("unique", PARTITION, "true"),
    ("first", rule("low", '{assets: "< 1000000"}') + rule("all", "{}"), "false"),  # partly shadowed: fine
    ("unique", rule("low", '{assets: "< 1000000"}') + rule("high", '{assets: ">= 1000000"}')
     + rule("unknown", "{assets: missing}"), "false"),
    ("collect", rule("a", "{kind: a}") + rule("any", "{}"), "true"),
])
def test_clean_schemes_have_no_findings(policy, rules, required):
    assert summary(scheme(policy, rules, required)) == []


def test_overlap_under_unique():
    s = scheme("unique", rule("low", '{assets: "< 1000000"}') + rule("high", '{assets: ">= 500000"}'))
    assert summary(s) == [("overlap", "error", ("low", "high"), ["rules/t.yaml:9:5", "rules/t.yaml:12:5"],
                           ["assets in [500000..1000000)"], "{assets: 500000}", ())]


def test_overlap_in_two_inputs_names_the_region():
    s = scheme("unique", rule("A", '{assets: ">= 5000000", credit_score: ">= 750"}')
               + rule("B", '{assets: "[1000000..5000000]", credit_score: ">= 700"}'))
    (finding,) = [f for f in analyse(s).findings if f.kind == "overlap"]
    assert [region_text(r, "en") for r in finding.regions] == ["assets = 5000000, credit_score >= 750"]
    assert finding.customer_text == "{assets: 5000000, credit_score: 750}"


@pytest.mark.parametrize(("extra", "severity"), [("", "warning"), ("complete: true\n", "error")])
def test_gap_at_a_boundary(extra, severity):
    s = scheme("unique", rule("low", '{assets: "< 1000000"}') + rule("high", '{assets: "> 1000000"}'), extra=extra)
    assert summary(s) == [("gap", severity, (), ["rules/t.yaml:1:1"], ["assets = 1000000"], "{assets: 1000000}", ())]
    assert s.complete == (severity == "error")


def test_gap_at_missing_values_unless_required():
    s = scheme("first", PARTITION, required="false")
    assert summary(s) == [("gap", "warning", (), ["rules/t.yaml:1:1"], ["assets is missing"], "{assets: missing}", ())]


def test_gap_at_an_enum_value():
    s = scheme("first", rule("a", "{kind: a}") + rule("none", "{kind: missing}"))
    assert summary(s) == [("gap", "warning", (), ["rules/t.yaml:1:1"], ["kind = b"], "{kind: b}", ())]


def test_unreachable_rule_names_the_rules_that_shadow_it():
    s = scheme("first", rule("all", "{}") + rule("low", '{assets: "< 1000000"}'))
    assert summary(s) == [("unreachable", "warning", ("low",), ["rules/t.yaml:12:5"], [], "", ("all",))]


def test_unreachable_under_priority():
    s = scheme("priority", rule("low", '{assets: "< 1000000"}', "    priority: 1\n")
               + rule("small", '{assets: "< 10"}', "    priority: 0\n") + rule("high", '{assets: ">= 1000000"}',
                                                                          "    priority: 0\n"))
    assert [(f.kind, f.rules, f.detail) for f in analyse(s).findings] == [("unreachable", ("small",), ("low",))]


@pytest.mark.parametrize(("rules", "expected"), [
    (rule("never", '{assets: ">= 10"}', '    any: [{assets: "< 5"}]\n') + rule("all", "{}"),
     ("contradiction", "error", ("never",), ())),
    (rule("below_min", '{assets: "< 0"}') + rule("all", "{}"), ("contradiction", "error", ("below_min",), ())),
    (rule("branch", '{assets: ">= 10"}', '    any: [{assets: "< 5"}, {kind: a}]\n') + rule("all", "{}"),
     ("contradiction", "warning", ("branch",), ("any[0]",))),
])
def test_contradictions(rules, expected):
    assert [(f.kind, f.severity, f.rules, f.detail) for f in analyse(scheme("first", rules)).findings] == [expected]


def test_check_reports_findings_with_locations_and_exit_code(rules_dir):
    text = HEAD % ("unique", "true") + rule("low", '{assets: "< 1000000"}') + rule("high", '{assets: ">= 500000"}')
    folder = rules_dir({"t.yaml": text})
    result = CliRunner().invoke(app, ["check", "--rules", str(folder), "--lang", "en"])
    assert result.exit_code == 1
    assert ("t.yaml:9:5, " in result.output and "t.yaml:12:5 error [t] rules low, high can both match one customer"
            in result.output)
    assert "    region: assets in [500000..1000000)" in result.output
    assert "    e.g. {assets: 500000}" in result.output
    assert "Analysis: 1 error(s), 0 warning(s)" in result.output


def test_regions_read_in_chinese_with_names_and_labels():
    """A region in Chinese names each input and enum value by its title or label, with the id a rule
    file uses beside it; English keeps the tests as a rule file writes them."""
    text = ("id: t\ntitle: {zh: 测试, en: Test}\nhit_policy: unique\ninputs:\n"
            "  assets: {type: number, min: 0, required: true, title: {zh: 资产规模, en: Assets}}\n"
            "  credit_score: {type: integer, required: true}\n"
            "  kind: {type: enum, values: [a, b, c], required: true,\n"
            "         labels: {a: {zh: 甲类, en: A}, b: {zh: 乙类, en: B}}}\n"
            "rules:\n")
    s = load_scheme_text(text + rule("low", '{assets: "[1000..1000000)", kind: [a, b]}')
                         + rule("high", '{assets: ">= 1000000"}') + rule("c", "{kind: c, credit_score: '> 700'}"),
                         "rules/t.yaml")
    gaps = [f for f in analyse(s).findings if f.kind == "gap"]
    assert [region_text(r, "zh") for f in gaps for r in f.regions] == [
        "资产规模(assets) < 1000,且 kind 为 甲类(a)、乙类(b) 之一",
        "资产规模(assets) < 1000000,且 credit_score <= 700,且 kind 为 c",
    ]
    assert [region_text(r, "en") for f in gaps for r in f.regions] == [
        "assets < 1000, kind in [a, b]",
        "assets < 1000000, credit_score <= 700, kind = c",
    ]
    churned = load_scheme_text("id: t\ntitle: {zh: 测试, en: Test}\nhit_policy: unique\ninputs:\n"
                               "  churned: {type: boolean, required: true, title: {zh: 是否流失, en: Churned}}\n"
                               "rules:\n" + rule("stay", "{churned: false}"), "rules/t.yaml")
    [gap] = analyse(churned).findings
    assert [region_text(r, "zh") for r in gap.regions] == ["是否流失(churned) 为 是(true)"]
