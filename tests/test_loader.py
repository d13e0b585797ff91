"""Rule files: what loads, and every mistake reported at once with file:line:col and a suggestion."""

from __future__ import annotations

import pytest

from engine.errors import RuleLoadError
from engine.rules.loader import load_rulebook, load_scheme_text
from tests.conftest import BANK


def problems_of(text: str) -> list[str]:
    with pytest.raises(RuleLoadError) as info:
        load_scheme_text(text, "rules/x.yaml")
    return [str(p) for p in info.value.problems]


def test_bank_example_loads():
    scheme = load_scheme_text(BANK)
    assert scheme.id == "bank_tier"
    assert scheme.rule_ids == ("A", "B", "D")
    assert [e.expect for e in scheme.examples] == [("A",), ("B",)]
    assert scheme.inputs["statements"].values == ("complete", "partial", "none")


def broken(line: str, replacement: str) -> str:
    assert line in BANK, line
    return BANK.replace(line, replacement, 1)


@pytest.mark.parametrize(("text", "expected"), [
    (broken('assets: ">= 5000000"', 'asets: ">= 5000000"'),
     "rules/x.yaml:11:12 rules[0].when.asets: unknown input 'asets' (did you mean 'assets'?)"),
    (broken('credit_score: ">= 750"', 'credit_score: ">= abc"'),
     "rules/x.yaml:11:48 rules[0].when.credit_score: '>= abc': 'abc' is not a whole number"),
    (broken("statements: complete}", "statements: complet}"),
     "rules/x.yaml:11:70 rules[0].when.statements: 'complet': 'complet' is not one of the values "
     "(did you mean 'complete'?)"),
    (broken("hit_policy: first", "hit_policy: frist"),
     "rules/x.yaml:3:13 hit_policy: 'frist' is not one of unique, first, priority, collect, score "
     "(did you mean 'first'?)"),
    (broken("  - id: B\n", "  - id: A\n"),
     "rules/x.yaml:12:5 rules[1].id: rule id 'A' is used twice (first at line 9)"),
    (broken("    expect: A", "    expect: Z"),
     "rules/x.yaml:20:13 examples[0].expect: there is no rule 'Z' (known: A, B, D)"),
    (broken("hit_policy: first", "hit_policy: first\ncolour: red"),
     "rules/x.yaml:4:1 colour: unknown key 'colour'"),
    (broken("label: {zh: B类客户, en: Grade B}", "label: {zh: B类客户, en: Grade B, the second}"),
     "rules[1].label.the second: unknown key 'the second' (a comma inside {...} ends the text; "
     'put the whole text in quotes: en: "a, b")'),
    (broken("hit_policy: first", "hit_policy: first\nhit_policy: unique"),
     "rules/x.yaml:4:1 hit_policy: duplicate key 'hit_policy' (first at line 3)"),
    (broken('"[1000000..5000000)"', '"[5000000..1000000)"'),
     "rules/x.yaml:14:20 rules[1].when.assets: '[5000000..1000000)': the range [5000000..1000000) contains no value"),
    (broken('"[1000000..5000000)"', '"< partial"'), "'< partial': 'partial' is not a number"),
    (broken("statements: [complete, partial]", 'statements: "> complete"'),
     "'>' needs a number or date input; 'statements' is enum"),
    (broken("label: {zh: B类客户, en: Grade B}", "label: {zh: B类客户}"),
     "rules/x.yaml:13:12 rules[1].label: missing required key 'en'"),
    (broken("{type: enum, values: [complete, partial, none]}", "{type: enum}"),
     "inputs.statements: an enum input needs a non-empty list of values"),
    (broken("values: [complete, partial, none]}",
            "values: [complete, partial, none], labels: {compleet: {zh: 完整, en: full}}}"),
     "rules/x.yaml:7:84 inputs.statements.labels.compleet: 'compleet' is not one of the values of 'statements' "
     "(did you mean 'complete'?)"),
    (broken("{type: integer, title: {zh: 信用评分, en: Credit score}}",
            "{type: integer, title: {zh: 信用评分, en: Credit score}, labels: {750: {zh: 好, en: good}}}"),
     "inputs.credit_score.labels: labels are only for enum inputs, not integer"),
    (broken("given: {assets: 5000000,", "given: {assets: lots,"),
     "rules/x.yaml:19:21 examples[0].given.assets: 'lots' is not a number"),
    (broken('assets: ">= 5000000"', "assets: >= 5000000"),
     "rules/x.yaml:11:20 YAML syntax error: found character '>' that cannot start any token (put the test in quotes"),
])
def test_problem_is_located(text: str, expected: str):
    assert any(expected in p for p in problems_of(text)), problems_of(text)


def test_every_problem_of_every_file_is_reported_together(rules_dir):
    folder = rules_dir({
        "a.yaml": broken('assets: ">= 5000000"', 'asets: ">= 5000000"'),
        "b.yaml": broken("hit_policy: first", "hit_policy: frist").replace("bank_tier", "other"),
        "c.yaml": BANK,
        "d.yaml": BANK,
    })
    with pytest.raises(RuleLoadError) as info:
        load_rulebook(folder)
    text = str(info.value)
    assert "a.yaml:11:12" in text and "b.yaml:3:13" in text
    assert "scheme id 'bank_tier' is also used by" in text
    assert len(info.value.problems) == 3


def test_yaml_11_booleans_stay_text():
    text = BANK.replace("values: [complete, partial, none]", "values: [yes, no, on, off]").replace(
        "statements: complete}", "statements: no}").replace("[complete, partial]", "[yes, off]").replace(
        "statements: complete}\n", "statements: no}\n").replace("statements: partial}", "statements: off}")
    scheme = load_scheme_text(text)
    assert scheme.inputs["statements"].values == ("yes", "no", "on", "off")
    assert scheme.rules[0].when[2].members == frozenset({"no"})


def test_missing_keyword_that_is_also_a_value_is_ambiguous():
    text = BANK.replace("[complete, partial, none]", "[complete, partial, missing]").replace(
        "statements: complete}", "statements: missing}")
    (problem,) = problems_of(text)
    assert "'missing' is both a value of 'statements' and the keyword for an empty cell" in problem
    assert 'write "= missing" for the value, or "is missing" for an empty cell' in problem


def test_priority_and_score_fields_are_checked_against_the_policy():
    text = BANK.replace("hit_policy: first", "hit_policy: priority")
    assert sum("needs priority: on every rule" in p for p in problems_of(text)) == 3
    text = BANK.replace("hit_policy: first", "hit_policy: score")
    found = problems_of(text)
    assert any("needs bands" in p for p in found) and sum("needs points" in p for p in found) == 3


SCORED = """\
id: likely
title: {zh: 可能性, en: Likelihood}
hit_policy: score
inputs:
  intent: {type: boolean}
rules:
  - id: intent
    label: {zh: 有意向, en: Intent}
    when: {intent: true}
    points: 60
bands:
  - id: high
    label: {zh: 高, en: High}
    when: ">= 50"
    source: {file: 003.txt, quote: 最佳名单}
    strategy:
      - {id: call_in_3_days, intent: grow, zh: 3 天内电话联系, en: Call within 3 days, channel: phone, cadence_days: 3}
  - id: low
    label: {zh: 低, en: Low}
"""


def test_a_band_carries_a_strategy_and_its_mistakes_are_located():
    scheme = load_scheme_text(SCORED)
    high, low = scheme.bands
    assert [(a.en, a.channel, a.cadence_days) for a in high.strategy] == [("Call within 3 days", "phone", 3)]
    assert high.source.quote == "最佳名单" and low.strategy == () and low.source is None
    (problem,) = problems_of(SCORED.replace("channel: phone", "channel: fax"))
    assert problem.startswith("rules/x.yaml:17:") and "bands[0].strategy[0].channel" in problem and "fax" in problem


def test_not_a_folder_and_empty_folder(tmp_path):
    with pytest.raises(RuleLoadError, match="is not a folder"):
        load_rulebook(tmp_path / "nope")
    with pytest.raises(RuleLoadError) as info:
        load_rulebook(tmp_path)
    assert "contains no .yaml rule files" in str(info.value)


def test_yaml_tags_are_not_constructed():
    # A safe loader never builds Python objects; a tag is just an unknown value here.
    text = BANK.replace("title: {zh: 银行客户等级, en: Bank customer grade}",
                        "title: !!python/object/apply:os.system [echo hacked]")
    assert any("title" in p for p in problems_of(text))


def test_unquoted_not_equal_is_the_test_not_a_yaml_tag():
    scheme = load_scheme_text(BANK.replace("statements: [complete, partial]", "statements: != complete"))
    (test,) = [t for t in scheme.rules[1].when if t.input == "statements"]
    assert test.text == "!= complete" and test.negated and test.members == frozenset({"complete"})


def test_an_incomplete_label_is_reported_once():
    found = problems_of(broken("label: {zh: B类客户, en: Grade B}", "label: {zh: B类客户}"))
    assert found == ["rules/x.yaml:13:12 rules[1].label: missing required key 'en'"]


@pytest.mark.parametrize(("text", "expected"), [
    (BANK.replace("{type: number, title: {zh: 资产规模, en: Assets}, unit: CNY}",
                  "{type: number, title: {zh: 资产规模, en: Assets}, unit: CNY, min: 0}")
     .replace("given: {assets: 5000000,", "given: {assets: -5,"),
     "rules/x.yaml:19:21 examples[0].given.assets: below the minimum 0 of 'assets'"),
    (BANK.replace("[complete, partial, none]", "[complete, partial, none, null]"),
     "rules/x.yaml:7:64 inputs.statements.values[3]: expected a text, got nothing (null or empty) "
     "(write the text, or remove the entry)"),
])
def test_values_outside_the_declared_domain(text, expected):
    assert expected in problems_of(text)


# 003: 每一细分类别由一位高级经理负责盈亏平衡: a scheme names who owns its segments.
OWNED = BANK.replace("hit_policy: first", "hit_policy: first\nowner: relationship_manager").replace(
    "    label: {zh: A类客户, en: Grade A}", "    label: {zh: A类客户, en: Grade A}\n    owner: branch_manager")


def test_a_rule_names_its_owner_and_the_others_have_the_schemes():
    scheme = load_scheme_text(OWNED)
    assert scheme.owner == "relationship_manager"
    assert [(rule.id, rule.owner) for rule in scheme.rules] == [
        ("A", "branch_manager"), ("B", "relationship_manager"), ("D", "relationship_manager")]
    assert scheme.outcome_owner("A") == "branch_manager"
    assert [rule.owner for rule in load_scheme_text(BANK).rules] == [None, None, None]  # owner is optional


def test_a_band_names_its_owner_or_has_the_schemes():
    text = SCORED.replace("hit_policy: score", "hit_policy: score\nowner: marketing").replace(
        "    when: \">= 50\"", "    when: \">= 50\"\n    owner: sales_manager")
    high, low = load_scheme_text(text).bands
    assert (high.owner, low.owner) == ("sales_manager", "marketing")


@pytest.mark.parametrize(("text", "expected"), [
    (OWNED.replace("    owner: branch_manager", "    ownr: branch_manager"),
     "rules/x.yaml:12:5 rules[0].ownr: unknown key 'ownr' (did you mean 'owner'?)"),
    (OWNED.replace("owner: relationship_manager", "owner: 客户经理"),
     "rules/x.yaml:1:1 owner: '客户经理' is not a role id (write a role id such as branch_manager"),
    (OWNED.replace("    owner: branch_manager", "    owner: Branch Manager"),
     "rules/x.yaml:10:5 rules[0].owner: 'Branch Manager' is not a role id"),
    (OWNED.replace("    owner: branch_manager", "    owner: [branch_manager]"),
     "rules/x.yaml:12:12 rules[0].owner: expected a text, got a list"),
])
def test_owner_mistakes_are_located(text: str, expected: str):
    assert any(p.startswith(expected) for p in problems_of(text)), problems_of(text)


def test_a_score_rule_has_no_owner_its_band_does():
    text = SCORED.replace("    points: 60", "    points: 60\n    owner: sales_rep")
    (problem,) = problems_of(text)
    assert "rules[0].owner" in problem and "put owner: on the band" in problem
