"""kece explain: each rule and test against one customer, the hit policy's verdicts, the way up."""

from __future__ import annotations

import json
import random
import re

import pytest
from typer.testing import CliRunner

from cli import app
from engine.analysis.explain import describe_need, evaluation_order, explain_scheme, render_text, to_json
from engine.backends.results import resolve
from engine.errors import Location
from engine.rules.loader import load_scheme_text
from engine.rules.model import Input
from engine.rules.unary import parse_test
from engine.rules.yamlnodes import Raw
from tests.conftest import BANK

SCHEME = load_scheme_text(BANK)
A_CUSTOMER = {"assets": 5000000.0, "credit_score": 750, "statements": "complete"}
B_CUSTOMER = {"assets": 2000000.0, "credit_score": 700, "statements": "partial"}
D_CUSTOMER = {"assets": 10.0, "statements": "none"}

# BANK without its catch-all: D needs an empty statements cell.
NO_CATCH_ALL = load_scheme_text(BANK.replace("    when: {}\n", "    when: {statements: missing}\n"))


def small(policy: str, rules: str, extra: str = "") -> str:
    return f"""
id: s
title: {{zh: 测试, en: Test}}
hit_policy: {policy}
inputs:
  x: {{type: integer, title: {{zh: 甲, en: Ex}}}}
  c: {{type: enum, values: [red, green, blue]}}
  d: {{type: date}}
rules:
{rules}{extra}
""".lstrip()


def rule(rule_id: str, when: str, more: str = "") -> str:
    return f"  - {{id: {rule_id}, label: {{zh: 规则{rule_id}, en: Rule {rule_id}}}, when: {when}{more}}}\n"


PRIORITY = load_scheme_text(small("priority", rule("L", '{x: ">= 0"}', ", priority: 1")
                                  + rule("H1", '{x: ">= 10"}', ", priority: 5")
                                  + rule("H2", '{x: ">= 5"}', ", priority: 5")))
UNIQUE = load_scheme_text(small("unique", rule("P", '{x: ">= 0"}') + rule("Q", '{x: "<= 10"}')
                                + rule("R", '{c: red}')))
COLLECT = load_scheme_text(small("collect", rule("P", '{x: ">= 0"}') + rule("Q", '{x: "<= 10"}')
                                 + rule("R", '{c: red}')))
SCORE = load_scheme_text(small("score", rule("P", '{x: ">= 0"}', ", points: 5") + rule("Q", '{c: red}', ", points: 3")
                               + rule("R", '{d: ">= 2024-01-01"}', ", points: -2"),
                               "bands:\n  - {id: hi, label: {zh: 高, en: High}, when: \">= 8\"}\n"
                               "  - {id: mid, label: {zh: 中, en: Mid}, when: \">= 3\"}\n"
                               "  - {id: lo, label: {zh: 低, en: Low}}\n"))
ANY = load_scheme_text(small("first", "  - id: T\n    label: {zh: 顶级, en: Top}\n    when: {x: \">= 10\"}\n"
                                      "    any:\n      - {c: red, d: \">= 2024-01-01\"}\n      - {c: [green, blue]}\n"
                             + rule("Z", "{}")))


def verdicts(ex) -> list[tuple[str, bool, str, str | None]]:
    return [(r.id, r.matched, r.verdict, r.beaten_by) for r in ex.rules]


@pytest.mark.parametrize(("scheme", "record", "expected"), [
    (SCHEME, A_CUSTOMER, [("A", True, "won", None), ("B", False, "failed", None), ("D", True, "shadowed", "A")]),
    (SCHEME, B_CUSTOMER, [("A", False, "failed", None), ("B", True, "won", None), ("D", True, "shadowed", "B")]),
    (SCHEME, D_CUSTOMER, [("A", False, "failed", None), ("B", False, "failed", None), ("D", True, "won", None)]),
    (NO_CATCH_ALL, D_CUSTOMER, [("A", False, "failed", None), ("B", False, "failed", None),
                                ("D", False, "failed", None)]),
    # Evaluation order is by priority, ties in file order.
    (PRIORITY, {"x": 20}, [("H1", True, "won", None), ("H2", True, "shadowed", "H1"), ("L", True, "shadowed", "H1")]),
    (PRIORITY, {"x": 7}, [("H1", False, "failed", None), ("H2", True, "won", None), ("L", True, "shadowed", "H2")]),
    (UNIQUE, {"x": 5, "c": "blue"}, [("P", True, "conflict", None), ("Q", True, "conflict", None),
                                     ("R", False, "failed", None)]),
    (UNIQUE, {"x": 50, "c": "blue"}, [("P", True, "won", None), ("Q", False, "failed", None),
                                      ("R", False, "failed", None)]),
    (COLLECT, {"x": 5, "c": "red"}, [("P", True, "won", None), ("Q", True, "won", None), ("R", True, "won", None)]),
    (SCORE, {"x": 5, "c": "blue"}, [("P", True, "counted", None), ("Q", False, "failed", None),
                                    ("R", False, "failed", None)]),
])
def test_verdicts(scheme, record, expected):
    assert verdicts(explain_scheme(scheme, record)) == expected


@pytest.mark.parametrize(("scheme", "record", "rule_id", "reason"), [
    (SCHEME, B_CUSTOMER, "B", "the first matching rule in file order"),
    (SCHEME, B_CUSTOMER, "D", "matches, but B comes earlier in the file"),
    (SCHEME, B_CUSTOMER, "A", "3 of 3 tests fail"),
    (PRIORITY, {"x": 20}, "H1", "the matching rule with the highest priority (5)"),
    (PRIORITY, {"x": 20}, "H2", "matches with the same priority (5), but H1 comes earlier in the file"),
    (PRIORITY, {"x": 20}, "L", "matches, but H1 has a higher priority (5 > 1)"),
    (UNIQUE, {"x": 5}, "P", "matches, and so do Q: only one rule may match"),
    (UNIQUE, {"x": 50}, "P", "the only matching rule"),
    (SCORE, {"x": 5}, "P", "matches: +5 points"),
    (SCORE, {"d": 20000}, "R", "matches: -2 points"),
    (ANY, {"x": 20, "c": "red"}, "T", "none of the alternative groups holds"),
])
def test_reasons(scheme, record, rule_id, reason):
    explained = {r.id: r for r in explain_scheme(scheme, record).rules}
    assert explained[rule_id].reason.en == reason


def test_each_test_shows_the_customers_value():
    a = explain_scheme(SCHEME, {"assets": 4999999.99, "statements": "partial"}).rules[0]
    assert [(c.input, c.title.en if c.title else None, c.test, c.actual, c.missing, c.passed) for c in a.tests] == [
        ("assets", "Assets", ">= 5000000", "4999999.99", False, False),
        ("credit_score", "Credit score", ">= 750", "missing", True, False),
        ("statements", None, "complete", "partial", False, False)]
    dates = explain_scheme(ANY, {"x": 20, "c": "red", "d": 19905}).rules[0]
    assert [(c.actual, c.passed) for c in dates.branches[0].tests] == [("red", True), ("2024-07-01", True)]
    assert [b.holds for b in dates.branches] == [True, False] and dates.matched


def needs(ex, lang="en") -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    return [(i.rule_id, tuple((n.check.input, n.needs.get(lang)) for n in i.needs)) for i in ex.next_better]


@pytest.mark.parametrize(("scheme", "record", "expected"), [
    (SCHEME, B_CUSTOMER, [("A", (("assets", "≥ 5000000"), ("credit_score", "≥ 750"), ("statements", "complete")))]),
    # B would need assets below 5,000,000 from a customer with 5,000,000, down the ladder (A asks more
    # than B): no step up, so only A (issue 12).
    (SCHEME, {"assets": 5000000.0, "statements": "complete"}, [("A", (("credit_score", "≥ 750"),))]),
    (SCHEME, D_CUSTOMER, [("B", (("assets", "[1000000..5000000)"), ("statements", "one of complete, partial"))),
                          ("A", (("assets", "≥ 5000000"), ("credit_score", "≥ 750"), ("statements", "complete")))]),
    (SCHEME, A_CUSTOMER, []),
    # Unmatched: every rule is better, in evaluation order, except one only a missing value reaches
    # (D: statements missing): nobody moves up by losing data.
    (NO_CATCH_ALL, D_CUSTOMER, [("A", (("assets", "≥ 5000000"), ("credit_score", "≥ 750"), ("statements", "complete"))),
                                ("B", (("assets", "[1000000..5000000)"), ("statements", "one of complete, partial")))]),
    (PRIORITY, {"x": 20}, []),
    (PRIORITY, {"x": 7}, [("H1", (("x", "≥ 10"),))]),
    (PRIORITY, {"x": 1}, [("H2", (("x", "≥ 5"),)), ("H1", (("x", "≥ 10"),))]),
    # `any:` with no branch holding: the branch with fewest failing tests.
    (ANY, {"x": 20, "c": "red"}, [("T", (("d", "≥ 2024-01-01"),))]),
    (ANY, {"x": 2}, [("T", (("x", "≥ 10"), ("c", "one of green, blue")))]),
    (UNIQUE, {"x": 5}, []), (COLLECT, {"x": 5}, []), (SCORE, {"x": 5}, []),
])
def test_next_better(scheme, record, expected):
    assert needs(explain_scheme(scheme, record)) == expected


def test_next_better_in_chinese_and_the_chosen_branch():
    assert needs(explain_scheme(SCHEME, D_CUSTOMER), "zh")[0] == (
        "B", (("assets", "[1000000..5000000)"), ("statements", "complete、partial 之一")))
    assert [i.branch for i in explain_scheme(ANY, {"x": 20, "c": "red"}).next_better] == [0]
    assert [i.branch for i in explain_scheme(ANY, {"x": 2}).next_better] == [1]
    assert [i.branch for i in explain_scheme(SCHEME, D_CUSTOMER).next_better] == [None, None]


HERE = Location("t.yaml", 1, 1)


def raw(value) -> Raw:
    if isinstance(value, list):
        return Raw(tuple(Raw(v, str(v), False, HERE) for v in value), "[" + ", ".join(value) + "]", False, HERE)
    return Raw(value, str(value), False, HERE)


@pytest.mark.parametrize(("kind", "test", "en", "zh"), [
    ("number", ">= 5000000", "≥ 5000000", "≥ 5000000"),
    ("number", "> 5e6", "> 5000000", "> 5000000"),
    ("number", "<= 0.5", "≤ 0.5", "≤ 0.5"),
    ("integer", "< 3", "< 3", "< 3"),
    ("number", "[1000000..5000000)", "[1000000..5000000)", "[1000000..5000000)"),
    ("number", "(0..1]", "(0..1]", "(0..1]"),
    ("integer", "= 3", "3", "3"),
    ("integer", "in [3, 1]", "one of 1, 3", "1、3 之一"),
    ("integer", "!= 3", "anything but 3", "3 以外的任意值"),
    ("integer", "not in [1, 3]", "anything but 1, 3", "1、3 以外的任意值"),
    ("date", ">= 2024-01-01", "≥ 2024-01-01", "≥ 2024-01-01"),
    ("date", "[2024-01-01..2024-07-01)", "[2024-01-01..2024-07-01)", "[2024-01-01..2024-07-01)"),
    ("enum", "complete", "complete", "complete"),
    ("enum", ["partial", "complete"], "one of complete, partial", "complete、partial 之一"),
    ("enum", "!= none", "anything but none", "none 以外的任意值"),
    ("enum", "not in [none, partial]", "anything but partial, none", "partial、none 以外的任意值"),
    ("boolean", "true", "yes", "是"),
    ("boolean", "!= false", "anything but no", "否 以外的任意值"),
    ("string", "上海", "上海", "上海"),
    ("number", "missing", "empty", "为空"),
    ("enum", "missing", "empty", "为空"),
    ("number", "present", "any value", "任意值(不能为空)"),
    ("enum", "is present", "any value", "任意值(不能为空)"),
])
def test_describe_need(kind, test, en, zh):
    values = ("complete", "partial", "none") if kind == "enum" else None
    decl = Input("x", kind, None, None, values, None, None, HERE)
    need = describe_need(parse_test("x", kind, raw(test), values), decl)
    assert (need.en, need.zh) == (en, zh)


def test_score_shows_points_and_bands():
    ex = explain_scheme(SCORE, {"x": 5, "c": "red", "d": 20000})
    assert (ex.result.score, ex.result.outcome) == (6.0, ("mid",))
    assert [(r.id, r.points, r.verdict) for r in ex.rules] == [("P", 5.0, "counted"), ("Q", 3.0, "counted"),
                                                               ("R", -2.0, "counted")]
    assert [(b.id, b.test, b.passed) for b in ex.bands] == [("hi", ">= 8", False), ("mid", ">= 3", True),
                                                           ("lo", None, True)]
    assert render_text(ex, "en")[0] == "s (Test): mid — Mid (score 6)"
    assert render_text(ex, "zh")[0] == "s(测试):mid — 中(得分 6)"
    assert "  ✓ mid  Mid (rule: >= 3)" in render_text(ex, "en")
    assert "  ○ lo  低(条件:任意得分)" in render_text(ex, "zh")


def test_json_round_trip():
    data = to_json(explain_scheme(SCHEME, {"assets": 4999999.99, "statements": "partial"}), "en")
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert list(data) == ["scheme", "title", "hit_policy", "status", "outcome", "matched", "score", "rules", "bands",
                          "next_better"]
    assert data["outcome"] == [{"id": "B", "label": "Grade B"}] and data["matched"] == ["B", "D"]
    a = data["rules"][0]
    assert list(a) == ["id", "label", "verdict", "reason", "matched", "beaten_by", "tests", "any"]
    assert a["tests"][1] == {"input": "credit_score", "title": "Credit score", "test": ">= 750", "value": None,
                             "shown": None, "passed": False}
    assert data["rules"][2]["beaten_by"] == "B"
    assert data["next_better"][0]["needs"][0] == {"input": "assets", "title": "Assets", "test": ">= 5000000",
                                                  "value": "4999999.99", "shown": "4999999.99", "passed": False,
                                                  "needs": "≥ 5000000"}
    zh = to_json(explain_scheme(PRIORITY, {"x": 7}), "zh")
    assert [(r["id"], r["priority"], r["reason"]) for r in zh["rules"]][0] == ("H1", 5, "1 个条件中有 1 个不满足")
    assert zh["title"] == "测试" and zh["next_better"][0]["label"] == "规则H1"


B_TEXT = {
    "en": ["bank_tier (Bank customer grade): B — Grade B",
           "  Hit policy first: the first matching rule in file order wins",
           "  ✗ A  Grade A — 3 of 3 tests fail",
           "      ✗ Assets: 4999999.99 (rule: >= 5000000)",
           "      ✗ Credit score: missing (rule: >= 750)",
           "      ✗ statements: partial (rule: complete)",
           "  ✓ B  Grade B — the first matching rule in file order",
           "      ✓ Assets: 4999999.99 (rule: [1000000..5000000))",
           "      ✓ statements: partial (rule: [complete, partial])",
           "  ○ D  Grade D — matches, but B comes earlier in the file",
           "      (no tests: every customer matches)",
           "  To move up to A (Grade A):",
           "      Assets: now 4999999.99, needs ≥ 5000000",
           "      Credit score: now missing, needs ≥ 750",
           "      statements: now partial, needs complete"],
    "zh": ["bank_tier(银行客户等级):B — B类客户",
           "  命中策略:按文件顺序,第一条命中的规则胜出",
           "  ✗ A  A类客户 — 3 个条件中有 3 个不满足",
           "      ✗ 资产规模:4999999.99(条件:>= 5000000)",
           "      ✗ 信用评分:缺失(条件:>= 750)",
           "      ✗ statements:partial(条件:complete)",
           "  ✓ B  B类客户 — 按文件顺序第一条命中的规则",
           "      ✓ 资产规模:4999999.99(条件:[1000000..5000000))",
           "      ✓ statements:partial(条件:[complete, partial])",
           "  ○ D  D类客户 — 也命中,但 B 在文件中更靠前",
           "      (无条件:所有客户都命中)",
           "  要升到 A(A类客户):",
           "      资产规模:现为 4999999.99,需要 ≥ 5000000",
           "      信用评分:缺失,需要 ≥ 750",
           "      statements:现为 partial,需要 complete"],
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_text_for_a_b_customer(lang):
    assert render_text(explain_scheme(SCHEME, {"assets": 4999999.99, "statements": "partial"}), lang) == B_TEXT[lang]


def allowed_words(scheme) -> set[str]:
    """What a zh text may show in Latin letters: ids, input names, tests and values as written."""
    words = {scheme.id, *scheme.inputs, *(v for i in scheme.inputs.values() for v in i.values or ())}
    for r in scheme.rules:
        words |= {r.id, *(test.text for test in r.tests)}
    return words | {b.id for b in scheme.bands} | {b.test.text for b in scheme.bands if b.test}


@pytest.mark.parametrize(("scheme", "record"), [
    (SCHEME, B_CUSTOMER), (SCHEME, D_CUSTOMER), (NO_CATCH_ALL, D_CUSTOMER), (PRIORITY, {"x": 7}),
    (UNIQUE, {"x": 5}), (COLLECT, {"x": 5, "c": "red"}), (SCORE, {"x": 5, "c": "red"}), (ANY, {"x": 20, "c": "red"}),
])
def test_each_language_stays_in_its_language(scheme, record):
    ex = explain_scheme(scheme, record)
    en = "\n".join(render_text(ex, "en"))
    assert not re.search(r"[\u4e00-\u9fff]", en), en
    zh = "\n".join(render_text(ex, "zh"))
    for word in sorted(allowed_words(scheme), key=len, reverse=True):
        zh = zh.replace(word, "")
    assert not re.search(r"[A-Za-z]", zh), zh


def test_unmatched_and_conflict_headlines():
    unmatched = render_text(explain_scheme(NO_CATCH_ALL, D_CUSTOMER), "en")
    assert unmatched[0] == "bank_tier (Bank customer grade): no rule matches"
    assert "  To match A (Grade A):" in unmatched
    assert render_text(explain_scheme(NO_CATCH_ALL, D_CUSTOMER), "zh")[0] == "bank_tier(银行客户等级):没有命中任何规则"
    assert render_text(explain_scheme(UNIQUE, {"x": 5}), "en")[0] == "s (Test): conflict: P, Q all match"
    priority = render_text(explain_scheme(PRIORITY, {"x": 7}), "zh")
    assert "  ○ L  规则L [优先级 1] — 也命中,但 H2 的优先级更高(5 > 1)" in priority
    any_rule = render_text(explain_scheme(ANY, {"x": 20, "c": "red"}), "en")
    assert any_rule[3:9] == ["      ✓ Ex: 20 (rule: >= 10)", "      one of these groups:", "        ✗ group 1",
                             "          ✓ c: red (rule: red)", "          ✗ d: missing (rule: >= 2024-01-01)",
                             "        ✗ group 2"]
    assert "  To move up to T (Top, group 1):" in any_rule


def records(scheme, count: int, seed: int) -> list[dict]:
    """Random customers drawn from around every bound the scheme's tests mention (and missing)."""
    rng = random.Random(seed)
    pools: dict[str, list] = {}
    for name, decl in scheme.inputs.items():
        tests = [test for r in scheme.rules for test in r.tests if test.input == name]
        if decl.type in ("number", "integer", "date"):
            bounds = {b for test in tests for i in test.intervals for b in (i.lo, i.hi) if b is not None}
            cast = float if decl.type == "number" else int
            pools[name] = [cast(b + d) for b in bounds for d in (-1, 0, 1)] + [cast(0)]
        else:
            pools[name] = list(decl.values or ("yes", "no"))
    out = []
    for _ in range(count):
        out.append({name: rng.choice(pool) for name, pool in pools.items() if rng.random() < 0.85})
    return out


@pytest.mark.parametrize("scheme", [SCHEME, NO_CATCH_ALL, PRIORITY, UNIQUE, COLLECT, SCORE, ANY])
def test_explanation_agrees_with_the_engine(scheme):
    for record in records(scheme, 200, seed=7):
        ex = explain_scheme(scheme, record)
        assert [r.id for r in ex.rules] == [r.id for r in evaluation_order(scheme)]
        for explained in ex.rules:
            assert explained.matched == scheme.rules[explained.index].matches(record), (record, explained.id)
        expected = resolve(scheme, [r.index for r in scheme.rules if r.matches(record)])
        assert ex.result == expected
        winners = "counted" if scheme.hit_policy == "score" else "won"
        assert {r.id for r in ex.rules if r.verdict == winners} == (
            set(expected.matched) if scheme.hit_policy == "score" else set(expected.outcome))
        # Every better rule is one the customer fails, and something it fails is named.
        assert all(not by_id[i.rule_id].matched and i.needs for by_id in [{r.id: r for r in ex.rules}]
                   for i in ex.next_better)


def test_cli_explains_a_customer(rules_dir, tmp_path):
    folder = rules_dir({"bank_tier.yaml": BANK})
    path = tmp_path / "c.csv"
    path.write_text("id,assets,credit_score,statements\nc1,4999999.99,,partial\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["explain", str(path), "--id", "c1", "--rules", str(folder), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert all(line in result.output for line in B_TEXT["en"])
    result = runner.invoke(app, ["explain", "--customer", json.dumps(B_CUSTOMER), "--rules", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data[0]["outcome"] == [{"id": "B", "label": "B类客户"}]
    assert [n["input"] for n in data[0]["next_better"][0]["needs"]] == ["assets", "credit_score", "statements"]
