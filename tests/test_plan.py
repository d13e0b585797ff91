"""kece plan: golden plans (zh/en, md/html) for the three design-card packs plus a talking-points
scheme, Word read back, and the plan's content rules (merged actions, due dates, next tier).

Regenerate the golden files after an intended change: KECE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_plan.py
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from engine.analysis.explain import explain_scheme
from engine.io.coerce import prepare, table_from_records
from engine.plans.compose import plan_for_customer
from engine.plans.playbook import load_catalog
from engine.rules.loader import load_rulebook
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "golden" / "plans"
UPDATE = os.environ.get("KECE_UPDATE_GOLDEN") == "1"
AS_OF = "2026-03-02"
PLAYBOOKS = REPO / "playbooks"

TALK_STYLE = """
id: talk_style
title: {zh: 沟通风格, en: Talking style}
source: {file: 001_53575a88e6d975b1.txt, quote: 不同类型客户应对方法}
hit_policy: first
plan_section: talking_points
inputs:
  talkativeness: {type: integer, title: {zh: 健谈程度, en: Talkativeness}, min: 1, max: 5}
rules:
  - id: talkative
    label: {zh: 口若悬河型, en: Talkative}
    source: {file: 001_53575a88e6d975b1.txt, quote: "口若悬河型客户特点:一开口就滔滔不绝"}
    when: {talkativeness: ">= 4"}
    assumption:
      zh: 001 只描述口若悬河型的特点,没有给出应对方法;这条打法是本测试夹具自己拟定的。
      en: 001 describes the talkative type's traits only and gives no tactic; this tactic is the test fixture's own.
    strategy:
      - {id: listen, zh: "耐心倾听,适时把话题拉回产品", en: Listen patiently and steer the talk back to the product}
  - id: quiet
    label: {zh: 沉默寡言型, en: Reticent}
    when: {talkativeness: "<= 2"}
    strategy:
      - {id: open_questions, zh: 多用开放式提问引导客户表达, en: Ask open questions to draw the customer out}
examples:
  - given: {talkativeness: 4}
    expect: talkative
  - given: {talkativeness: 2}
    expect: quiet
"""

CUSTOMERS = """\
id,name,assets,credit_record,statements,risk_assessment,staff_count,bids_in_tenders,annual_projects,child_stage,pressure_level,weekly_class_hours,classes_enrolled,chooses_by,talkativeness
G001,王芳,6000000,excellent,complete,complete,12,true,25,primary,3,4,2,comparison,5
G002,李雷,4999999.99,excellent,complete,complete,5,true,8,junior_high,5,9,5,peers,1
G003,张伟,80000,,partial,vague,,false,,kindergarten,2,1,1,child_interest,3
"""


@pytest.fixture
def plan_rules(tmp_path: Path) -> Path:
    """The three design-card packs and a small talking-points scheme: goldens do not churn when
    new packs are bundled."""
    folder = tmp_path / "plan-rules"
    folder.mkdir()
    for name in ("bank_tier", "dealer_class", "parent_attitude", "actions"):
        shutil.copy(REPO / "rules" / f"{name}.yaml", folder)
    (folder / "talk_style.yaml").write_text(TALK_STYLE.lstrip(), encoding="utf-8")
    return folder


@pytest.fixture
def customers(tmp_path: Path) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_golden_plans(plan_rules: Path, customers: Path, tmp_path: Path, lang: str, fmt: str) -> None:
    out = tmp_path / "plans"
    result = run("plan", customers, "--all", "-o", out, "--as-of", AS_OF, "--format", fmt, "--lang", lang,
                 "--rules", plan_rules, "--playbooks", PLAYBOOKS, "--quiet")
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in out.iterdir() if p.suffix == f".{fmt}")
    assert written == [f"G001.{fmt}", f"G002.{fmt}", f"G003.{fmt}", f"index.{fmt}"]
    for name in written:
        golden = GOLDEN / f"{Path(name).stem}.{lang}.{fmt}"
        actual = (out / name).read_text(encoding="utf-8")
        if UPDATE:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(actual, encoding="utf-8")
        assert actual == golden.read_text(encoding="utf-8"), f"{name} differs from {golden}"


def test_one_scheme_override_among_generic_sections(plan_rules: Path, customers: Path, tmp_path: Path) -> None:
    # The generic partial is pasted into plan.md.j2 when compiled (engine.plans.playbook.flat_template);
    # an override must still win for its scheme, and only there.
    playbooks = tmp_path / "playbooks"
    shutil.copytree(PLAYBOOKS, playbooks)
    (playbooks / "schemes" / "dealer_class.md.j2").write_text("### OVERRIDE {{ s.label }}\n", encoding="utf-8")
    out = tmp_path / "plans"
    result = run("plan", customers, "--all", "-o", out, "--as-of", AS_OF, "--lang", "en", "--rules", plan_rules,
                 "--playbooks", playbooks, "--quiet")
    assert result.exit_code == 0, result.output
    headings = [line for line in (out / "G001.md").read_text(encoding="utf-8").splitlines() if line.startswith("### ")]
    assert headings == ["### Bank customer grade: **Grade A**[^1]", "### OVERRIDE Class A (regional key partner)",
                        '### Parent education attitude: **Intensive parent**[^3]',
                        "### Considered, not chosen", "### Talking style: **Talkative**[^4]"]


def test_plan_content_zh(plan_rules: Path, customers: Path) -> None:
    result = run("plan", customers, "--id", "G002", "--as-of", AS_OF, "--rules", plan_rules,
                 "--playbooks", PLAYBOOKS)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "截至 2026年3月2日" in text
    assert "### 银行客户等级:**B类客户**" in text
    assert "- 资产规模 4,999,999.99 元:规则要求 ≥ 1,000,000" in text  # why, with the customer's value
    assert "升级到“A类客户”还需要" in text and "需要 ≥ 5,000,000" in text  # what the next tier needs
    assert "## 沟通要点" in text and "沉默寡言型" in text and "多用开放式提问引导客户表达" in text
    # Due dates count from --as-of: a 30-day action of grade B is due on 1 April.
    assert "| 客户经理每月电话回访,每季度上门拜访一次[^1] | 2026年4月1日,之后每 30 天一次 | 电话 | 客户经理 |" in text
    assert "[^1]: 003_86362943ff4354ee.txt:“B类客户银行中的第二类客户”" in text


def test_zh_plan_has_no_english_chrome(plan_rules: Path, customers: Path) -> None:
    zh = run("plan", customers, "--id", "G001", "--as-of", AS_OF, "--rules", plan_rules,
             "--playbooks", PLAYBOOKS).stdout
    english = load_catalog(PLAYBOOKS, "en").messages
    leaked = [v for k, v in english.items() if isinstance(v, str) and len(v) > 3 and v in zh and k != "html_lang"]
    assert leaked == []
    assert "Grade A" not in zh and "Relationship manager" not in zh
    en = run("plan", customers, "--id", "G001", "--as-of", AS_OF, "--rules", plan_rules, "--playbooks", PLAYBOOKS,
             "--lang", "en").stdout
    body = en.split("## Sources")[0]  # the sources quote the Chinese originals, on purpose
    chinese = load_catalog(PLAYBOOKS, "zh").messages
    assert [v for k, v in chinese.items() if isinstance(v, str) and len(v) > 1 and v in body] == []
    assert "A类客户" not in body and "客户经理" not in body and "“A类客户是银行最重要的客户群体”" in en


def test_next_tier_agrees_with_explain(plan_rules: Path) -> None:
    rulebook = load_rulebook(plan_rules)
    catalog = load_catalog(PLAYBOOKS, "en")
    for values in ({"assets": 4999999.99, "credit_record": "excellent", "statements": "complete",
                    "risk_assessment": "complete"},
                   {"assets": 50000, "credit_record": "poor", "statements": "incomplete", "risk_assessment": "vague"},
                   {"staff_count": 12, "bids_in_tenders": True, "annual_projects": 5}):
        plan = plan_for_customer(rulebook, values, dt.date(2026, 3, 2), catalog)
        for section in plan.segments:
            scheme = rulebook.by_id[section.scheme_id]
            record = prepare(table_from_records([values]), [scheme], None).records(scheme)[0]
            explained = explain_scheme(scheme, record)
            first = explained.next_better[0] if explained.next_better else None
            assert (section.next_tier.rule_id if section.next_tier else None) == (first.rule_id if first else None)
            if first:
                assert [n.input for n in section.next_tier.needs] == [n.check.input for n in first.needs]


def test_duplicate_actions_appear_once_with_the_earliest_due_date(plan_rules: Path) -> None:
    text = (plan_rules / "bank_tier.yaml").read_text(encoding="utf-8")
    action = "每季度约见一次,做资产配置与授信方案的综合回顾,提供定制化产品和优惠定价"
    (plan_rules / "vip.yaml").write_text(textwrap.dedent(f"""
        id: vip
        title: {{zh: 贵宾, en: VIP}}
        hit_policy: first
        inputs:
          assets: {{type: number}}
        rules:
          - id: vip
            label: {{zh: 贵宾客户, en: VIP customer}}
            when: {{assets: ">= 5000000"}}
            strategy:
              - {{id: quarterly_review, intent: retain, zh: "{action}", en: Quarterly review, channel: meeting,
                 cadence_days: 10}}
        """), encoding="utf-8")
    assert action in text
    plan = plan_for_customer(load_rulebook(plan_rules), {"assets": 6000000, "credit_record": "excellent",
                                                         "statements": "complete", "risk_assessment": "complete"},
                             dt.date(2026, 3, 2), load_catalog(PLAYBOOKS, "zh"))
    merged = [a for a in plan.actions if a.text == action]
    assert len(merged) == 1
    assert merged[0].due == dt.date(2026, 3, 12) and merged[0].schemes == ("bank_tier", "vip")
    assert [a.due for a in plan.actions if a.due] == sorted(a.due for a in plan.actions if a.due)


def test_customers_with_the_same_segments_keep_their_own_values_and_dates(plan_rules: Path) -> None:
    # Plans of customers with the same results share their segment texts and actions (made once per
    # combination); what they say of the customer, and the due dates, must still be each one's own.
    rulebook = load_rulebook(plan_rules)
    catalog = load_catalog(PLAYBOOKS, "zh")
    base = {"assets": 6000000, "credit_record": "excellent", "statements": "complete", "risk_assessment": "complete"}
    first = plan_for_customer(rulebook, base, dt.date(2026, 3, 2), catalog, ["bank_tier"])
    second = plan_for_customer(rulebook, {**base, "assets": 7500000}, dt.date(2026, 3, 2), catalog, ["bank_tier"])
    later = plan_for_customer(rulebook, base, dt.date(2026, 4, 1), catalog, ["bank_tier"])
    assert first.segments[0].label == second.segments[0].label == later.segments[0].label
    assert [r.value for r in first.segments[0].reasons][0] == "6,000,000 元"
    assert [r.value for r in second.segments[0].reasons][0] == "7,500,000 元"
    assert first.customer.facts[0].value == "6,000,000 元" and second.customer.facts[0].value == "7,500,000 元"
    assert second.customer.values["assets"] == "7,500,000 元"
    assert first.actions == second.actions
    shift = dt.timedelta(days=30)
    assert [a.due + shift for a in first.actions if a.due] == [a.due for a in later.actions if a.due]


def test_a_score_scheme_brings_its_bands_actions_and_those_of_the_signals_that_added_points() -> None:
    rulebook = load_rulebook(REPO / "rules")
    plan = plan_for_customer(rulebook, {"purchase_intent": "clear", "able_to_pay": False, "frequency": 0,
                                       "recency_days": None},
                             dt.date(2026, 3, 2), load_catalog(PLAYBOOKS, "en"), ["purchase_likelihood"])
    (section,) = plan.segments
    assert (section.label, section.score) == ("Medium likelihood", "40")
    scheme = rulebook.by_id["purchase_likelihood"]
    signal = next(rule for rule in scheme.rules if rule.id == "intent_clear")
    band = next(band for band in scheme.bands if band.id == "medium")
    # The band's own strategy and the signal's, nearest due date first, each with its own footnote.
    expected = sorted((*band.strategy, *signal.strategy), key=lambda action: action.cadence_days)
    assert [a.text for a in plan.actions] == [action.en for action in expected]
    assert [a.due for a in plan.actions] == [dt.date(2026, 3, 2) + dt.timedelta(days=action.cadence_days)
                                             for action in expected]
    assert [(s.rule_id, s.quote) for s in plan.sources] == [("medium", band.source.quote),
                                                             ("intent_clear", signal.source.quote)]


def test_word_plan_reads_back(plan_rules: Path, tmp_path: Path) -> None:
    from docx import Document

    target = tmp_path / "plan.docx"
    customer = '{"id": "W1", "name": "赵敏", "assets": 6000000, "credit_record": "excellent", ' \
               '"statements": "complete", "risk_assessment": "complete"}'
    result = run("plan", "--customer", customer, "--format", "docx", "-o", target, "--as-of", AS_OF,
                 "--rules", plan_rules, "--playbooks", PLAYBOOKS)
    assert result.exit_code == 0, result.output
    document = Document(io.BytesIO(target.read_bytes()))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "客户行动方案:赵敏"
    assert [(round(s.page_width.mm), round(s.page_height.mm)) for s in document.sections] == [(210, 297)]  # A4
    assert "截至 2026年3月2日" in paragraphs
    assert "银行客户等级:A类客户[1]" in paragraphs
    cells = [[c.text for c in row.cells] for table in document.tables for row in table.rows]
    assert ["客户编号", "W1"] in cells
    assert ["1", "指派专属客户经理,每月上门拜访一次,了解资金安排与融资需求,提供财富管理方案和优惠定价[1]",
            "2026年4月1日,之后每 30 天一次",
            "上门拜访", "客户经理"] in [row[:5] for row in cells]


def test_html_escapes_customer_fields(plan_rules: Path, tmp_path: Path) -> None:
    target = tmp_path / "x.html"
    customer = '{"id": "X<1>", "name": "<script>alert(1)</script>", "assets": 10, "credit_record": null, ' \
        '"statements": null, "risk_assessment": null}'
    result = run("plan", "--customer", customer, "-f", "html", "-o", target, "--as-of", AS_OF,
                 "--rules", plan_rules, "--playbooks", PLAYBOOKS)
    assert result.exit_code == 0, result.output
    page = target.read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "X&lt;1&gt;" in page


@pytest.mark.parametrize(("customer", "lang", "title"), [
    ('"id": "W7"', "zh", "# 客户行动方案:W7"),  # no name: the id
    ('"name": "赵敏"', "zh", "# 客户行动方案:赵敏"),
    ('"id": ""', "zh", "# 客户行动方案:无编号、无名称的客户"),  # never an empty title
    ('"id": null', "en", "# Customer action plan: customer without an ID or name"),
])
def test_a_plan_title_names_the_customer_whatever_it_gives(plan_rules: Path, customer: str, lang: str,
                                                           title: str) -> None:
    result = run("plan", "--customer", "{" + customer + ', "assets": 10, "credit_record": null, "statements": null, '
                 '"risk_assessment": null}', "--as-of", AS_OF, "--rules", plan_rules, "--playbooks", PLAYBOOKS,
                 "--lang", lang)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == title


def test_all_reports_count_and_rejects(plan_rules: Path, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name,assets,credit_record,statements,risk_assessment\nA1,甲,100,poor,partial,vague\n"
                    "A2,乙,lots,good,good,complete\nA3,丙,,,,\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run("plan", path, "--all", "-o", out, "--as-of", AS_OF, "--rules", plan_rules, "--playbooks", PLAYBOOKS,
                 "-s", "bank_tier", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "3 rows in: 2 plans written, 1 rejected" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["A1.md", "A3.md", "c.rejects.csv", "index.md", "tasks.csv",
                                                     "tasks.ics"]
    rejects = (out / "c.rejects.csv").read_text(encoding="utf-8-sig")
    assert rejects.splitlines()[1].startswith("3,A2,assets,lots,")
    index = (out / "index.md").read_text(encoding="utf-8")
    assert "| A1 | 甲 | Grade D | [A1.md](<A1.md>) |" in index


def test_usage_errors(plan_rules: Path, customers: Path) -> None:
    assert run("plan", customers, "--rules", plan_rules).exit_code == 2  # neither --id nor --all
    bad = run("plan", customers, "--id", "G001", "--as-of", "2026-13-01", "--rules", plan_rules)
    assert bad.exit_code == 2 and "--as-of" in bad.output
    assert run("plan", customers, "--id", "G001", "-f", "pdf", "--rules", plan_rules).exit_code == 2


@pytest.mark.parametrize(("domain", "schemes"), [
    ("education", ["parent_attitude", "talk_style"]),
    ("bank", ["bank_tier", "talk_style"]),
    ("", ["bank_tier", "parent_attitude", "talk_style"]),  # no domain given: every scheme applies
])
def test_out_of_scope_schemes_stay_out_of_the_plan(plan_rules: Path, domain: str, schemes: list[str]) -> None:
    customer = {"id": "S1", "domain": domain, "pressure_level": 5, "classes_enrolled": 5, "child_stage": "primary",
                "weekly_class_hours": 9, "chooses_by": "comparison", "assets": 10, "talkativeness": 5,
                "credit_record": None, "statements": None, "risk_assessment": None}
    plan = plan_for_customer(load_rulebook(plan_rules), customer, dt.date(2026, 3, 2), load_catalog(PLAYBOOKS, "en"))
    assert sorted(plan.schemes) == schemes  # talk_style has no domain: it applies to everyone


def test_all_follows_the_domain_column_and_the_domain_option(plan_rules: Path, tmp_path: Path) -> None:
    source = tmp_path / "mixed.csv"
    source.write_text("id,domain,assets,credit_record,statements,risk_assessment,pressure_level,classes_enrolled,"
                      "child_stage,weekly_class_hours,chooses_by,talkativeness\n"
                      "B1,银行,6000000,excellent,complete,complete,,,,,,5\n"
                      "E1,education,,,,,5,5,primary,9,comparison,1\n", encoding="utf-8")

    def titles(folder: Path, customer: str) -> list[str]:
        text = (folder / f"{customer}.md").read_text(encoding="utf-8")
        return [line.split(":")[0][4:] for line in text.splitlines() if line.startswith("### ")]

    result = run("plan", source, "--all", "--rules", plan_rules, "-o", tmp_path / "all", "--as-of", AS_OF,
                 "--lang", "en", "-s", "bank_tier", "-s", "parent_attitude", "-s", "talk_style")
    assert result.exit_code == 0, result.output
    assert titles(tmp_path / "all", "B1") == ["Bank customer grade", "Talking style"]
    assert titles(tmp_path / "all", "E1") == ["Parent education attitude", "Talking style"]
    result = run("plan", source, "--all", "--rules", plan_rules, "-o", tmp_path / "edu", "--as-of", AS_OF,
                 "--lang", "en", "--domain", "education")
    assert result.exit_code == 0, result.output
    assert "2 rows in: 2 plans written, 0 rejected" in result.output
    assert titles(tmp_path / "edu", "B1") == ["Talking style"]
    assert titles(tmp_path / "edu", "E1") == ["Parent education attitude", "Talking style"]
    one = run("plan", source, "--id", "E1", "--rules", plan_rules, "--as-of", AS_OF, "--lang", "en", "--domain", "bank")
    assert one.exit_code == 0, one.output
    assert "### Parent education attitude" not in one.output and "### Talking style" in one.output


def test_footnotes_are_numbered_in_reading_order(tmp_path: Path) -> None:
    # The talking-points scheme comes first in the rule folder, but a plan shows segments first.
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(REPO / "rules" / "bank_tier.yaml", folder)
    shutil.copy(REPO / "rules" / "actions.yaml", folder)  # the actions bank_tier uses
    (folder / "a_talk.yaml").write_text(TALK_STYLE.replace("id: talk_style", "id: a_talk").lstrip(), encoding="utf-8")
    rulebook = load_rulebook(folder)
    assert [scheme.id for scheme in rulebook.schemes][0] == "a_talk"
    plan = plan_for_customer(rulebook, {"assets": 6000000, "credit_record": "excellent", "statements": "complete",
                                        "risk_assessment": "complete", "talkativeness": 5},
                             dt.date(2026, 3, 2), load_catalog(PLAYBOOKS, "en"))
    assert plan.segments[0].notes == (1,) and plan.talking_points[0].notes == (2,)
    assert [(source.number, source.scheme_id) for source in plan.sources] == [(1, "bank_tier"), (2, "a_talk")]



@pytest.mark.parametrize(("lang", "typical"), [("zh", "该类客户的典型特征:"), ("en", "Typical of this segment: ")])
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_a_tier_description_reads_as_the_segments_typical_traits_not_as_facts_about_the_customer(
        lang: str, typical: str, fmt: str) -> None:
    # Grade D because the credit record is poor, with 29,560,000 in assets: "资产规模较小" is what
    # grade D customers are typically like, not what this one is.
    from engine.plans.files import render_plan

    catalog = load_catalog(PLAYBOOKS, lang)
    customer = {"id": "W9", "assets": 29_560_000, "credit_record": "poor", "statements": "complete",
                "risk_assessment": "complete"}
    plan = plan_for_customer(load_rulebook(REPO / "rules"), customer, dt.date(2026, 3, 2), catalog, ["bank_tier"])
    description = plan.schemes["bank_tier"].outcomes[0].description
    assert plan.schemes["bank_tier"].outcomes[0].id == "D" and description.startswith(("资产规模较小", "Small assets"))
    text = str(render_plan(plan, fmt, PLAYBOOKS, catalog)).replace("&#39;", "'")
    assert text.count(description) == text.count(typical + description) == 1


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize(("lang", "owner_a", "owner_b"), [
    ("zh", "负责人:支行行长", "负责人:客户经理"),
    ("en", "Segment owner: Branch manager", "Segment owner: Relationship manager"),
])
def test_each_segment_names_its_owner(plan_rules: Path, lang: str, owner_a: str, owner_b: str, fmt: str) -> None:
    # 003: 每一细分类别由一位高级经理负责盈亏平衡. bank_tier's grade A has its own owner; grade B has the scheme's.
    from engine.plans.files import render_plan

    rulebook, catalog = load_rulebook(plan_rules), load_catalog(PLAYBOOKS, lang)
    grade_a = {"id": "W1", "assets": 6_000_000, "credit_record": "excellent", "statements": "complete",
               "risk_assessment": "complete", "talkativeness": 5}
    plan = plan_for_customer(rulebook, grade_a, dt.date(2026, 3, 2), catalog, ["bank_tier", "talk_style"])
    assert plan.schemes["bank_tier"].outcomes[0].owner == "branch_manager"
    text = str(render_plan(plan, fmt, PLAYBOOKS, catalog))
    assert text.count(owner_a) == 1  # the talking-points scheme names no owner, so shows none
    grade_b = {**grade_a, "assets": 4_999_999.99}
    text = str(render_plan(plan_for_customer(rulebook, grade_b, dt.date(2026, 3, 2), catalog, ["bank_tier"]),
                           fmt, PLAYBOOKS, catalog))
    assert owner_b in text and owner_a not in text


def test_an_unmatched_segment_has_no_owner(tmp_path: Path) -> None:
    from engine.plans.files import render_plan

    (tmp_path / "gold.yaml").write_text(textwrap.dedent("""\
        id: gold
        title: {zh: 金卡, en: Gold card}
        owner: branch_manager
        inputs: {assets: {type: number}}
        rules:
          - {id: gold, label: {zh: 金卡客户, en: Gold}, when: {assets: ">= 1000000"}}
        """), encoding="utf-8")
    catalog = load_catalog(PLAYBOOKS, "zh")
    plan = plan_for_customer(load_rulebook(tmp_path), {"assets": 5}, dt.date(2026, 3, 2), catalog)
    assert plan.schemes["gold"].status == "unmatched" and plan.schemes["gold"].owner_label == ""
    assert "负责人:" not in str(render_plan(plan, "md", PLAYBOOKS, catalog))
