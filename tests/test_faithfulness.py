"""Readings of the source material the packs once got wrong (issue 13), pinned: each case names the
passage (file + a verbatim quote, checked to be in the file) and the customer and outcome that
follow from it, on the bundled packs and on both backends."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from engine.bundled import bundled_dir
from engine.evaluation.evaluate import evaluate_customer
from engine.rules.loader import load_rulebook
from tests.conftest import SOURCE_MATERIAL

RULEBOOK = load_rulebook(bundled_dir("rules"))
SCHEMES = {scheme.id: scheme for scheme in RULEBOOK.schemes}
F000 = "000_c5684c226985bacd.txt"
F001 = "001_53575a88e6d975b1.txt"
F002 = "002_3659b9d3bba3af78.txt"
F003 = "003_86362943ff4354ee.txt"
F004 = "004_30a29ac49e3b8113.txt"


@dataclass(frozen=True)
class Reading:
    name: str
    file: str
    quote: str
    scheme: str
    customer: dict
    expect: tuple[str, ...]


READINGS = [
    # 1. Comparison shopping is an intensive (鸡血型) trait; rational parents go by the child.
    Reading("comparison-shopper-is-intensive", F000, "广泛体验尝试对比之后给孩子最优选择", "parent_attitude",
            {"child_stage": "primary", "pressure_level": 3, "weekly_class_hours": 12, "classes_enrolled": 5,
             "chooses_by": "comparison"}, ("intensive",)),
    Reading("comparison-with-pressure-4-is-intensive", F000, "广泛体验尝试对比之后给孩子最优选择",
            "parent_attitude", {"child_stage": "primary", "pressure_level": 4, "weekly_class_hours": 1,
                                "classes_enrolled": 1, "chooses_by": "comparison"}, ("intensive",)),
    Reading("low-pressure-comparison-is-not-rational", F000, "报班更考虑孩子自身状况和喜好", "parent_attitude",
            {"child_stage": "primary", "pressure_level": 2, "weekly_class_hours": 3, "classes_enrolled": 3,
             "chooses_by": "comparison"}, ("follower",)),
    Reading("rational-goes-by-the-child", F000, "报班更考虑孩子自身状况和喜好", "parent_attitude",
            {"child_stage": "primary", "pressure_level": 3, "weekly_class_hours": 12, "classes_enrolled": 5,
             "chooses_by": "child_interest"}, ("rational",)),
    # 2. Temporarily lost customers (001 names both kinds): churned but still worth something → win back.
    Reading("temporarily-lost-is-won-back", F001, "永久流失型客户 暂时流失型客户", "clv_tier",
            {"churned": True, "clv": 68.2}, ("win_back",)),
    Reading("lost-for-good-is-worth-nothing", F001, "永久流失型客户", "clv_tier", {"churned": True, "clv": 0},
            ("none",)),
    # 3. The pyramid ranks customers currently doing business with us: churned ones stand apart.
    Reading("pyramid-leaves-out-lapsed-customers", F003, "即与本企业目前有业务往来的前1%的顾客", "value_pyramid",
            {"pyramid_tier": None, "churned": True}, ("lapsed",)),
    # 5. Missing data is not the worst grade: D is "the bank sees the highest risk"; unknown is pending.
    Reading("bank-missing-credit-is-pending-not-D", F003, "银行认为其风险最大", "bank_tier",
            {"assets": 8_000_000, "credit_record": None, "statements": "complete", "risk_assessment": "complete"},
            ("pending",)),
    Reading("bank-nothing-known-is-pending", F003, "银行认为其风险最大", "bank_tier",
            {"assets": None, "credit_record": None, "statements": None, "risk_assessment": None}, ("pending",)),
    Reading("bank-known-poor-credit-is-D-even-with-gaps", F003, "信用状况不佳", "bank_tier",
            {"assets": 8_000_000, "credit_record": "poor", "statements": None, "risk_assessment": "complete"},
            ("D",)),
    Reading("value-tier-missing-spend-is-unrated", F004, "交易額度小、購買次數少的為普通客戶", "value_tier",
            {"monetary_total": None, "frequency": None, "service_cost": 8000}, ("unrated",)),
    # 7. Smaller readings.
    Reading("drain-is-relative-to-cost", F004, "價值貢獻度低,服務輸出過高", "value_tier",
            {"monetary_total": 8000, "frequency": 1, "service_cost": 20000}, ("drain",)),
    Reading("drain-before-silver", F004, "價值貢獻度低,服務輸出過高", "value_tier",
            {"monetary_total": 8000, "frequency": 3, "service_cost": 20000}, ("drain",)),
    Reading("high-value-is-not-a-drain", F004, "交易額度大、購買次數多的為高價值客戶", "value_tier",
            {"monetary_total": 20000, "frequency": 4, "service_cost": 30000}, ("gold",)),
    Reading("hesitant-customers-are-followed-up", F003, "找出客户犹豫不定的问题所在,帮助客户去解决问题",
            "purchase_likelihood", {"purchase_intent": "hesitant", "able_to_pay": False, "frequency": 1,
                                    "recency_days": 200}, ("medium",)),
]


def test_every_reading_has_a_unique_name():
    names = [reading.name for reading in READINGS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
def test_the_passage_is_in_the_source(reading: Reading):
    if not SOURCE_MATERIAL.is_dir():
        pytest.skip("the source material is not beside this checkout")
    assert reading.quote in (SOURCE_MATERIAL / reading.file).read_text(encoding="utf-8")


@pytest.mark.parametrize("backend", ["vectorized", "durable"])
@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
def test_the_pack_follows_the_passage(reading: Reading, backend: str):
    result = evaluate_customer(RULEBOOK, reading.customer, [reading.scheme], backend=backend).results[reading.scheme]
    assert result.outcome == reading.expect


def _plain(values: dict) -> dict:
    """Given values as comparable text: missing left out, 12 and 12.0 alike."""
    def text(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return str(value).lower()
        return repr(float(value))
    return {k: text(v) for k, v in values.items() if v is not None}


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
def test_the_pack_has_an_example_for_the_reading(reading: Reading):
    """Every corrected reading is also an example in its pack, so `kece test` shows it to business users."""
    scheme = SCHEMES[reading.scheme]
    wanted = _plain(reading.customer)
    for example in scheme.examples:
        if _plain(example.given) == wanted:
            assert tuple(example.expect) == reading.expect
            return
    pytest.fail(f"{reading.scheme} has no example {wanted}")


def test_the_plan_fixture_marks_its_talkative_tactic_as_its_own():
    """10. 001 gives the talkative type (口若悬河型) traits only, no tactic: the golden-plan fixture's
    tactic cites the trait passage and says it is the fixture's own."""
    import yaml

    from tests.test_plan import TALK_STYLE

    rule = next(r for r in yaml.safe_load(TALK_STYLE)["rules"] if r["id"] == "talkative")
    assert rule["source"] == {"file": F001, "quote": "口若悬河型客户特点:一开口就滔滔不绝"}
    assert "测试夹具自己" in rule["assumption"]["zh"] and "fixture's own" in rule["assumption"]["en"]
    if SOURCE_MATERIAL.is_dir():
        text = (SOURCE_MATERIAL / F001).read_text(encoding="utf-8")
        assert rule["source"]["quote"] in text
        traits = text[text.index("口若悬河型客户特点"):]
        assert "应对" not in traits[:traits.index("\n")]  # the passage is traits only


def _rule(scheme_id: str, rule_id: str):
    return next(rule for rule in SCHEMES[scheme_id].rules if rule.id == rule_id)


def _actions(scheme_id: str, rule_id: str, lang: str = "zh") -> str:
    return " ".join(getattr(action, lang) for action in _rule(scheme_id, rule_id).strategy)


@pytest.mark.parametrize("scheme_id, rule_id", [
    ("bank_tier", "pending"), ("value_tier", "unrated"), ("bank_business", "no_business"),
    ("bank_business", "data_missing"), ("dealer_class", "unclassified"), ("rfm_segment", "unscored"),
    ("value_pyramid", "unranked"), ("clv_tier", "unvalued"), ("lifecycle_stage", "no_history"),
    ("bank_quadrant", "unrated"), ("value_class", "unrated"), ("transaction_behaviour", "regular"),
])
def test_classes_the_text_does_not_define_say_so(scheme_id: str, rule_id: str):
    """6. A class the source does not define cites the scheme's own passage, not one that seems to name
    it, and its assumption says it is the pack's completion."""
    rule = _rule(scheme_id, rule_id)
    assert rule.source == SCHEMES[scheme_id].source
    assert "本规则包为覆盖全部客户而补充" in rule.assumption.zh
    assert "this pack's completion" in rule.assumption.en


def test_missing_bank_data_asks_for_the_data_first():
    """5. 003: D is the grade "银行认为其风险最大"; a customer not yet graded is asked for the data, and
    D's actions no longer carry the collect-data step."""
    assert "先补齐资料" in _actions("bank_tier", "pending")
    assert "补齐" not in _actions("bank_tier", "D")
    assert "先补齐资料" in _actions("value_tier", "unrated")


def test_graciousness_belongs_to_recovery():
    """7. 002: "如果客户关系仍有存在的必要,就应该采取关系恢复策略…即使客户拒绝恢复关系也要表现得大度"."""
    if SOURCE_MATERIAL.is_dir():
        text = (SOURCE_MATERIAL / F002).read_text(encoding="utf-8")
        recover = text.index("就应该采取关系恢复策略")
        assert recover < text.index("即使客户拒绝恢复关系也要表现得大度", recover)
    assert "大度" in _actions("lifecycle_stage", "decline_recover")
    assert "大度" not in _actions("lifecycle_stage", "decline_terminate")


def test_the_overdue_collection_case_is_marked_as_the_packs_placement():
    """7. 000 tells the overdue-collection story ("第一时间赶往他们公司催收超期款") as a field case, not
    as a class-A strategy: class A's assumption says the placement is the pack's."""
    if SOURCE_MATERIAL.is_dir():
        assert "第一时间赶往他们公司催收超期款" in (SOURCE_MATERIAL / F000).read_text(encoding="utf-8")
    rule = _rule("dealer_class", "A")
    assert "催收超期款" in _actions("dealer_class", "A")
    assert "第一时间赶往他们公司催收超期款" in rule.assumption.zh and "this pack's judgement" in rule.assumption.en


def test_not_yet_graded_is_no_better_tier():
    """5. A grade-D customer is told what grade C needs, not how to become "not yet graded"."""
    from engine.analysis.explain import explain_scheme

    customer = {"assets": 8_000_000, "credit_record": "poor", "statements": "complete", "risk_assessment": "complete"}
    explained = explain_scheme(SCHEMES["bank_tier"], customer)
    assert [i.rule_id for i in explained.next_better] == ["C", "B", "A"]


def test_rfm_quintiles_are_marked_as_a_default():
    """4. 003 only names the measures ("即所谓RFM:最近消费、消费频率与消费额"); the five-way split is
    kece's default, in features.yaml, docs/features.md and every rule whose thresholds rest on it."""
    from engine.features.featureset import FEATURES_FILE, load_features
    from tests.conftest import REPO

    if SOURCE_MATERIAL.is_dir():
        text = (SOURCE_MATERIAL / F003).read_text(encoding="utf-8")
        assert "即所谓RFM:最近消费、消费频率与消费额" in text and "五分" not in text and "五等分" not in text
    params = load_features(REPO / "rules" / FEATURES_FILE).parameters
    assert "RFM 五等分(rfm_bins = 5)也是默认值" in params.assumption.zh
    assert "RFM quintiles come from the text" not in params.assumption.en
    assert "quintiles are kece's default" in (REPO / "docs" / "features.md").read_text(encoding="utf-8")
    for scheme_id in ("rfm_segment", "transaction_behaviour", "lifecycle_stage"):
        for rule in SCHEMES[scheme_id].rules:
            if any(test.input in ("r_score", "f_score", "m_score") for test in rule.when) or any(
                    test.input in ("r_score", "f_score", "m_score") for branch in rule.any for test in branch):
                if rule.id in ("unscored",):
                    continue
                assert "rfm_bins = 5" in rule.assumption.zh, f"{scheme_id}.{rule.id}"


def test_what_the_packs_left_out_is_in_the_dealer_and_bank_plans():
    """8. 000: class B "有点关系"; the six elements (资源、知彼、关系、知己、成交、增值) of dealer work;
    bank target customers are "金卡客户" / "优质客户"."""
    if SOURCE_MATERIAL.is_dir():
        text = (SOURCE_MATERIAL / F000).read_text(encoding="utf-8")
        for quote in ("B类客户:有点关系", "有6大必备要素要掌控", "各大银行的金卡客户都是目标客户"):
            assert quote in text
    assert "有点关系" in _actions("dealer_class", "B")
    for rule_id in ("A", "B", "C"):
        actions = _actions("dealer_class", rule_id)
        assert all(element in actions for element in ("资源", "知彼", "关系", "知己", "成交", "增值")), rule_id
    assert "金卡客户" in _rule("bank_tier", "A").description.zh


OWNER_PASSAGE = "每一细分类别由一位高级经理负责盈亏平衡"  # 003, the fifth of its seven segmentation rules of thumb
SEGMENT_SCHEMES = [scheme for scheme in RULEBOOK.schemes if scheme.plan_section == "segment"]


def test_the_owner_passage_is_in_the_source():
    if not SOURCE_MATERIAL.is_dir():
        pytest.skip("the source material is not beside this checkout")
    assert OWNER_PASSAGE in (SOURCE_MATERIAL / F003).read_text(encoding="utf-8")


@pytest.mark.parametrize("scheme", SEGMENT_SCHEMES, ids=lambda s: s.id)
def test_every_segment_has_an_owner_and_the_pack_says_the_role_is_its_choice(scheme):
    """8. 003: every segment has a senior manager responsible for it. Every segment of a bundled
    segment scheme names an owner with a label in both languages; which role it is the text does not
    say, so the pack's comment over its `owner:` quotes the passage and calls the role its choice."""
    from engine.plans.playbook import owner_labels

    segments = scheme.bands if scheme.hit_policy == "score" else scheme.rules
    assert all(item.owner for item in segments), [item.id for item in segments if not item.owner]
    for lang in ("zh", "en"):
        assert {item.owner for item in segments} <= set(owner_labels(lang, bundled_dir("playbooks")))
    lines = (bundled_dir("rules") / f"{scheme.id}.yaml").read_text(encoding="utf-8").splitlines()
    at = lines.index(f"owner: {scheme.owner}")
    comment = "\n".join(lines[at - 4:at])
    assert OWNER_PASSAGE in comment and "本规则包的选择" in comment and "this pack's choice" in comment
