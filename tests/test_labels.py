"""Enum value labels: a reader sees 优秀 / excellent where the rule file says `excellent`, and
booleans as 是/否 or yes/no, in explain and plan; `--json` keeps the raw id beside the label."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from engine.analysis.explain import describe_need, explain_scheme, render_text, to_json
from engine.bundled import bundled_dir
from engine.errors import RuleLoadError
from engine.rules.loader import load_rulebook, load_scheme_text
from tests.conftest import BANK, REPO

PLAIN = "  statements:   {type: enum, values: [complete, partial, none]}\n"
LABELLED_INPUTS = """\
  statements:
    type: enum
    values: [complete, partial, none]
    labels:
      complete: {zh: 完整, en: full set}
      partial:  {zh: 部分, en: some}
  audited: {type: boolean, title: {zh: 已审计, en: Audited}}
"""
LABELLED = BANK.replace(PLAIN, LABELLED_INPUTS)
SCHEME = load_scheme_text(LABELLED)
PARTIAL = {"assets": 2000000.0, "credit_score": 700, "statements": "partial"}


def problems_of(text: str) -> list[str]:
    with pytest.raises(RuleLoadError) as info:
        load_scheme_text(text, "rules/x.yaml")
    return [str(p) for p in info.value.problems]


def test_labels_load_and_a_value_without_one_shows_its_id():
    statements, audited = SCHEME.inputs["statements"], SCHEME.inputs["audited"]
    assert [statements.value_label(v, "zh") for v in statements.values] == ["完整", "部分", "none"]
    assert [statements.value_label(v, "en") for v in statements.values] == ["full set", "some", "none"]
    assert [audited.value_label(v, lang) for lang in ("zh", "en") for v in (True, False)] == ["是", "否", "yes", "no"]
    assert (statements.value_label(None, "zh"), statements.value_label(None, "en")) == ("缺失", "missing")
    assert SCHEME.inputs["assets"].value_label(5000000.0, "zh") == "5000000"


def test_plain_value_lists_stay_valid():
    assert load_scheme_text(BANK).inputs["statements"].labels == {}


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("      partial:  {zh: 部分, en: some}", "      partail:  {zh: 部分, en: some}",
     "rules/x.yaml:12:17 inputs.statements.labels.partail: 'partail' is not one of the values of 'statements' "
     "(did you mean 'partial'?)"),
    ("      partial:  {zh: 部分, en: some}", "      later:  {zh: 以后, en: later}",
     "inputs.statements.labels.later: 'later' is not one of the values of 'statements' "
     "(values: complete, partial, none)"),
    ("  audited: {type: boolean,", "  audited: {type: boolean, labels: {true: {zh: 有, en: yes}},",
     "rules/x.yaml:13:12 inputs.audited.labels: labels are only for enum inputs, not boolean "
     "(change type to enum, or remove labels)"),
    ("      partial:  {zh: 部分, en: some}", "      partial:  {zh: 部分}",
     "rules/x.yaml:12:17 inputs.statements.labels.partial: missing required key 'en'"),
    ("      partial:  {zh: 部分, en: some}", "      partial:  部分",
     "rules/x.yaml:12:17 inputs.statements.labels.partial: expected a mapping (key: value), got '部分'"),
])
def test_label_mistakes_are_located(old, new, expected):
    assert old in LABELLED
    found = problems_of(LABELLED.replace(old, new))
    assert any(expected in p for p in found), found


def test_label_mistakes_in_chinese():
    with pytest.raises(RuleLoadError) as info:
        load_scheme_text(LABELLED.replace("partial:  {zh", "partail:  {zh"), "rules/x.yaml")
    assert info.value.problems[0].render("zh") == (
        "rules/x.yaml:12:17 inputs.statements.labels.partail: “partail”不是“statements”的取值(是不是想写“partial”?)")


def test_describe_need_shows_labels_in_declared_order():
    rule_b = SCHEME.rules[1]
    (test,) = [t for t in rule_b.when if t.input == "statements"]
    need = describe_need(test, SCHEME.inputs["statements"])
    assert (need.zh, need.en) == ("完整、部分 之一", "one of full set, some")
    assert describe_need(test).zh == "complete、partial 之一"  # without the declaration: as written


def test_explain_text_shows_labels_and_tests_as_written():
    zh = render_text(explain_scheme(SCHEME, PARTIAL), "zh")
    assert "      ✗ statements:部分(条件:complete)" in zh
    assert "      statements:现为 部分,需要 完整" in zh
    en = render_text(explain_scheme(SCHEME, PARTIAL), "en")
    assert "      ✗ statements: some (rule: complete)" in en
    assert "      statements: now some, needs full set" in en


def test_explain_json_keeps_the_raw_value_beside_the_label():
    data = to_json(explain_scheme(SCHEME, PARTIAL), "zh")
    check = data["rules"][0]["tests"][2]
    assert (check["value"], check["shown"]) == ("partial", "部分")
    assert data["next_better"][0]["needs"][-1]["needs"] == "完整"


def test_boolean_tests_read_yes_and_no():
    scheme = load_scheme_text(LABELLED.replace("statements: complete}", "statements: complete, audited: true}"))
    customer = {**PARTIAL, "statements": "complete", "audited": False}
    zh = render_text(explain_scheme(scheme, customer), "zh")
    assert "      ✗ 已审计:否(条件:true)" in zh
    assert "      已审计:现为 否,需要 是" in zh
    assert "      Audited: now no, needs yes" in render_text(explain_scheme(scheme, customer), "en")


def test_every_bundled_enum_value_has_a_chinese_and_an_english_label():
    rulebook = load_rulebook(bundled_dir("rules"))
    unlabelled = [f"{scheme.id}.{name}: {value}" for scheme in rulebook.schemes
                  for name, decl in scheme.inputs.items() if decl.type == "enum"
                  for value in decl.values or () if value not in decl.labels]
    assert unlabelled == []
    zh = [decl.value_label(v, "zh") for s in rulebook.schemes for decl in s.inputs.values() if decl.type == "enum"
          for v in decl.values or ()]
    assert zh and not [label for label in zh if re.search(r"[A-Za-z]", label)]


@pytest.fixture
def bank_pack(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(REPO / "rules" / "bank_tier.yaml", folder)
    shutil.copy(REPO / "rules" / "actions.yaml", folder)  # the actions bank_tier uses
    return folder


CUSTOMER = {"id": "c1", "assets": 2000000, "credit_record": "good", "statements": "complete",
            "risk_assessment": "complete"}


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_zh_plan_shows_labels_not_ids(bank_pack: Path):
    result = run("plan", "--customer", json.dumps(CUSTOMER), "--rules", bank_pack, "--as-of", "2026-03-02")
    assert result.exit_code == 0, result.output
    # Two inputs share the id `complete`, each with its own label.
    assert "- 财务报表 完整且财务稳定:规则要求 完整且财务稳定、良好 之一" in result.stdout
    assert "- 风险评估流程 流程完备:规则要求 流程完备" in result.stdout
    assert "信用记录:现为 良好,需要 优秀" in result.stdout
    assert not re.search(r"\b(excellent|good|complete|fair|poor)\b", result.stdout)


def test_en_plan_shows_english_labels(bank_pack: Path):
    result = run("plan", "--customer", json.dumps(CUSTOMER), "--rules", bank_pack, "--as-of", "2026-03-02",
                 "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "- Risk-assessment process thorough: the rule asks for thorough" in result.stdout


def test_units_read_in_the_plan_language():
    from engine.rules.loader import load_scheme_text

    scheme = load_scheme_text("""
id: visits
title: {zh: 到访, en: Visits}
inputs:
  recency_days: {type: integer, unit: days}
  visits: {type: integer, unit: 次}
  area: {type: number, unit: m²}
rules:
  - {id: any, label: {zh: 全部, en: All}, when: {}}
""")
    units = {name: (decl.unit_label("zh"), decl.unit_label("en")) for name, decl in scheme.inputs.items()}
    assert units == {"recency_days": ("天", "days"), "visits": ("次", "times"), "area": ("m²", "m²")}


def test_tiers_decide_whether_a_next_better_rule_is_shown():
    from engine.rules.loader import load_scheme_text

    text = """
id: kinds
title: {zh: 类型, en: Kinds}
hit_policy: %s
%s
inputs:
  x: {type: integer}
rules:
  - {id: high, label: {zh: 高, en: High}, when: {x: ">= 10"}}
  - {id: low, label: {zh: 低, en: Low}, when: {x: "< 10"}}
"""
    assert load_scheme_text(text % ("first", "")).tiered
    assert not load_scheme_text(text % ("first", "tiers: false")).tiered
    assert not load_scheme_text(text % ("unique", "")).tiered
    assert load_scheme_text(text % ("unique", "tiers: true")).tiered


def test_a_file_may_give_an_enum_label_instead_of_its_value(tmp_path):
    from typer.testing import CliRunner

    from cli import app

    source = tmp_path / "buyers.csv"
    source.write_text("id,occupation_kind,marital_status,purchase_purpose,is_relocatee,is_local,payment_method,budget\n"
                      "R1,公司高管,已婚,自住,否,是,按揭,3500000\n"
                      "R2,white-collar,single,investment,no,no,mortgage,800000\n"
                      "R3,飞行员,single,own_use,no,yes,full,100\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["evaluate", str(source), "-s", "real_estate_buyer", "-o", str(out), "-q",
                                      "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "3 rows in: 2 evaluated, 1 rejected" in result.output
    assert out.read_text(encoding="utf-8-sig").splitlines()[1:] == [
        "R1,executive_ample,Executive with ample funds", "R2,investor_non_local,Out-of-town investor"]
    rejects = out.with_name("out.rejects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(rejects) == 2
    assert rejects[1].startswith('4,R3,occupation_kind,飞行员,"not one of the listed values: ')
