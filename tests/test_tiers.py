"""The next better tier comes from the ladder a scheme declares (`tiers: [best, ..., worst]`): a tier
left out (a drain tier) is never offered as better, and no need points down the ladder."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from engine.analysis.explain import explain_customer
from engine.analysis.ladder import ladder_direction
from engine.errors import RuleLoadError
from engine.plans import files
from engine.plans.playbook import load_catalog
from engine.rules.loader import load_rulebook, load_scheme_text
from tests.conftest import REPO

PLAYBOOKS = REPO / "playbooks"
AS_OF = dt.date(2026, 3, 2)

SPEND = """
id: spend_tier
title: {zh: 消费等级, en: Spend tier}
hit_policy: first
tiers: %s
inputs:
  spend: {type: number}
  visits: {type: integer}
rules:
  - {id: top, label: {zh: 顶级, en: Top}, when: {spend: ">= 1000"}}
  - {id: thrifty, label: {zh: 节俭, en: Thrifty}, when: {spend: "< 100", visits: ">= 5"}}
  - {id: drain, label: {zh: 高耗, en: Drain}, when: {visits: ">= 50"}}
  - {id: base, label: {zh: 基础, en: Base}}
"""


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_the_sample_plans_offer_only_ladder_tiers_and_only_needs_up_the_ladder(tmp_path, monkeypatch):
    rulebook = load_rulebook(REPO / "rules")
    built = []
    build_plan = files.build_plan
    monkeypatch.setattr(files, "build_plan", lambda *a, **k: built.append(build_plan(*a, **k)) or built[-1])
    files.write_plans(rulebook, REPO / "data" / "samples" / "customers.csv", tmp_path, fmt="md",
                      catalog=load_catalog(PLAYBOOKS, "zh"), folder=PLAYBOOKS, as_of=AS_OF)
    offered = 0
    for plan in built:
        for section in plan.segments:
            if section.next_tier is None:
                continue
            scheme, offered = rulebook.by_id[section.scheme_id], offered + 1
            ladder = scheme.ladder
            assert section.next_tier.rule_id in ladder
            if section.status == "matched":
                assert ladder.index(section.next_tier.rule_id) < ladder.index(section.outcomes[0].id)
            for need in section.next_tier.needs:
                if need.value == "缺失":
                    continue  # from no value, a need points nowhere
                direction = ladder_direction(scheme, need.input)
                down = ("<", "≤") if direction > 0 else (">", "≥") if direction < 0 else ()
                assert not need.needs.startswith(down), (plan.customer.id, section.scheme_id, need)
    assert offered > 300
    # The case of issue 12: 82 of 197 plans offered the drain tier, needing less spend.
    assert not any(s.next_tier and s.next_tier.rule_id == "drain" for plan in built for s in plan.segments)
    assert not any("升级到“垃圾客户" in path.read_text(encoding="utf-8") for path in tmp_path.glob("*.md"))


def test_explain_json_climbs_the_value_tier_ladder_past_the_drain_tier():
    customer = '{"monetary_total": 8000, "frequency": 1, "service_cost": 2000}'
    result = run("explain", "--customer", customer, "-s", "value_tier", "--json", "--rules", REPO / "rules")
    assert result.exit_code == 0, result.output
    (scheme,) = json.loads(result.stdout)
    assert scheme["outcome"] == [{"id": "ordinary", "label": "普通客户"}]
    assert [tier["id"] for tier in scheme["next_better"]] == ["silver", "gold", "diamond"]
    assert [n["needs"] for n in scheme["next_better"][0]["needs"]] == ["≥ 2"]


def test_a_drain_customer_is_offered_no_climb_from_off_the_ladder():
    scheme = load_scheme_text(SPEND % "[top, thrifty, base]")
    rulebook = load_rulebook_of(scheme)
    (explained,) = explain_customer(rulebook, {"spend": 500, "visits": 60}).explanations
    assert explained.result.outcome == ("drain",) and explained.next_better == ()


def test_a_tier_whose_need_points_down_the_ladder_is_skipped_in_explain_and_plans():
    from engine.plans.compose import plan_for_customer

    rulebook = load_rulebook_of(load_scheme_text(SPEND % "[top, thrifty, base]"))
    customer = {"spend": 500, "visits": 1}
    (explained,) = explain_customer(rulebook, customer).explanations
    # thrifty is above base, but would need spend < 100 from a customer spending 500.
    assert [i.rule_id for i in explained.next_better] == ["top"]
    plan = plan_for_customer(rulebook, customer, AS_OF, load_catalog(PLAYBOOKS, "en"))
    assert plan.schemes["spend_tier"].next_tier.rule_id == "top"
    assert [n.needs for n in plan.schemes["spend_tier"].next_tier.needs] == ["≥ 1,000"]


def load_rulebook_of(scheme):
    from engine.rules.model import Rulebook

    return Rulebook((scheme,))


@pytest.mark.parametrize(("tiers", "message"), [
    ("[top, thrify, base]", "spend_tier.yaml:5:14 tiers[1]: unknown rule 'thrify' (did you mean 'thrifty'?)"),
    ("[top, base, thrifty]", "spend_tier.yaml:5:20 tiers[2]: 'thrifty' is listed below 'base' but first tries it "
                             "first (list the tiers in the order the rules are tried, best first)"),
    ("[top, top]", "spend_tier.yaml:5:14 tiers[1]: rule 'top' is listed twice"),
    ("[top]", "spend_tier.yaml:5:8 tiers: a ladder needs at least two tiers (or write tiers: false)"),
])
def test_a_ladder_names_rules_in_the_order_they_are_tried(tiers, message):
    with pytest.raises(RuleLoadError) as raised:
        load_scheme_text(SPEND % tiers, "spend_tier.yaml")
    assert message in str(raised.value)


def test_tiers_true_or_a_list_give_the_ladder():
    assert load_scheme_text(SPEND % "true").ladder == ("top", "thrifty", "drain", "base")
    assert load_scheme_text(SPEND % "[top, thrifty, base]").ladder == ("top", "thrifty", "base")
    assert load_scheme_text(SPEND % "false").ladder == ()
    assert load_rulebook(REPO / "rules").by_id["value_tier"].ladder == ("diamond", "gold", "silver", "ordinary")


def test_a_pack_file_with_a_ladder_checks(tmp_path: Path):
    (tmp_path / "spend_tier.yaml").write_text(SPEND % "[top, thrifty, base]", encoding="utf-8")
    result = run("check", "--rules", tmp_path, "--lang", "en")
    assert "tiers" not in result.output, result.output
