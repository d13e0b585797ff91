"""Plans a rep can act on (issue 12): actions arbitrated across schemes by rules/policy.yaml: a few,
never contradicting, each with a reason; what was dropped says why; tasks for a CRM and a calendar;
`kece check` proves no customer gets contradicting intents; `kece explain --actions` shows the steps."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import statistics
import textwrap
from pathlib import Path

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from cli import app
from engine.errors import RuleLoadError
from engine.plans.compose import explain_actions, plan_for_customer
from engine.plans.files import write_plans
from engine.plans.playbook import load_catalog
from engine.rules.loader import load_rulebook
from engine.rules.policy import CONTRADICTIONS
from tests.conftest import REPO
from tests.test_one_path import crm_file

AS_OF = dt.date(2026, 3, 2)
PLAYBOOKS = REPO / "playbooks"
SAMPLES = REPO / "data" / "samples" / "customers.csv"
RULEBOOK = load_rulebook(REPO / "rules")
ZH = load_catalog(PLAYBOOKS, "zh")


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def sample_plans(tmp_path_factory: pytest.TempPathFactory):
    return _plans(SAMPLES, tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def crm_plans(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("crm")
    return _plans(crm_file(RULEBOOK, folder / "crm.csv"), folder)


def _plans(path: Path, folder: Path):
    """Every plan of a file, as `kece plan --all` builds them, and the run (tasks files included)."""
    import engine.plans.files as files

    plans = []
    original = files.build_plan

    def keep(*args, **kwargs):
        plan = original(*args, **kwargs)
        plans.append(plan)
        return plan

    files.build_plan = keep
    try:
        written = write_plans(RULEBOOK, path, folder / "plans", fmt="md", catalog=ZH, folder=PLAYBOOKS, as_of=AS_OF)
    finally:
        files.build_plan = original
    return plans, written


@pytest.mark.parametrize("which", ["sample_plans", "crm_plans"])
def test_plans_list_a_few_actions_and_never_contradict(which: str, request: pytest.FixtureRequest):
    plans, run_ = request.getfixturevalue(which)
    assert len(plans) == run_.written >= 190
    counts = [len(plan.actions) for plan in plans]
    assert statistics.median(counts) <= 5 and max(counts) <= RULEBOOK.policy.limit
    for plan in plans:
        intents = {a.intent for a in plan.actions} | set()
        assert not plan.contradictions, (plan.customer.id, plan.contradictions)
        assert not any(pair <= intents for pair in CONTRADICTIONS), (plan.customer.id, intents)
        # Every action a scheme recommended is either chosen or listed with its reason.
        assert all(d.reason for d in plan.considered), plan.customer.id
        assert {a.text for a in plan.actions}.isdisjoint(d.text for d in plan.considered if d.kind != "merged")


def test_the_policy_caps_touches_and_visits_and_spreads_due_dates(crm_plans):
    plans, _ = crm_plans
    policy = RULEBOOK.policy
    for plan in plans:
        weeks: dict[int, int] = {}
        months: dict[int, int] = {}
        for action in plan.actions:
            if action.due is None or action.channel == "other":
                continue
            offset = (action.due - AS_OF).days
            weeks[offset // policy.touches.per_days] = weeks.get(offset // policy.touches.per_days, 0) + 1
            if action.channel == "visit":
                months[offset // 30] = months.get(offset // 30, 0) + 1
        assert max(weeks.values(), default=0) <= policy.touches.max, plan.customer.id
        assert max(months.values(), default=0) <= policy.channel_caps["visit"].max, plan.customer.id
    assert any(a.moved for plan in plans for a in plan.actions)  # the caps did move some


def test_tasks_csv_holds_the_chosen_actions_due_in_the_horizon(crm_plans):
    plans, run_ = crm_plans
    csv_path, ics_path = run_.tasks
    with csv_path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:8] == ["customer_id", "action", "intent", "due", "channel", "owner", "priority", "schemes"]
    last = AS_OF + dt.timedelta(days=90)
    expected = [(p.customer.id, a.key, a.due.isoformat()) for p in plans for a in p.actions
                if a.due is not None and a.due <= last]
    assert [(r["customer_id"], r["action_id"], r["due"]) for r in rows] == expected == expected[:run_.tasks_written]
    events = Calendar.from_ical(ics_path.read_bytes()).walk("VEVENT")
    assert len(events) == len(rows)
    assert len({str(e["UID"]) for e in events}) == len(events)  # one UID per customer and action


def test_tasks_ics_uids_round_trip_across_runs(tmp_path: Path):
    uids = []
    for name in ("march", "april"):
        write_plans(RULEBOOK, SAMPLES, tmp_path / name, fmt="md", catalog=ZH, folder=PLAYBOOKS, as_of=AS_OF)
        uids.append([str(e["UID"]) for e in Calendar.from_ical((tmp_path / name / "tasks.ics").read_bytes())
                     .walk("VEVENT")])
    assert uids[0] == uids[1] and len(uids[0]) > 100


def test_a_catalog_action_from_two_schemes_is_one_line_citing_both():
    customer = {"id": "B1", "assets": 6_000_000, "credit_record": "excellent", "statements": "complete",
                "risk_assessment": "complete", "contribution_level": "high", "risk_level": "low"}
    plan = plan_for_customer(RULEBOOK, customer, AS_OF, ZH, ["bank_tier", "bank_quadrant"])
    visit = [a for a in plan.actions if a.key == "dedicated_manager_monthly_visit"]
    assert len(visit) == 1 and visit[0].schemes == ("bank_tier", "bank_quadrant")
    assert "A类客户(银行客户等级)" in visit[0].why and "高端客户(银行客户四象限)" in visit[0].why


def test_a_conditional_action_appears_only_for_customers_it_fits():
    # 003's grade C includes customers whose intent is not recorded; only they are asked to record it.
    recorded = plan_for_customer(RULEBOOK, {"id": "R1", "purchase_intent": "latent", "able_to_pay": None},
                                 AS_OF, ZH, ["relationship_grade"])
    unknown = plan_for_customer(RULEBOOK, {"id": "R2", "purchase_intent": None, "able_to_pay": None},
                                AS_OF, ZH, ["relationship_grade"])
    key = "relationship_grade.no_recorded_intent"
    assert key in {a.key for a in unknown.actions}
    assert key not in {a.key for a in recorded.actions} | {d.text for d in recorded.considered}


def test_suppression_drops_resource_heavy_channels_for_drain_customers_with_the_rule_and_its_line():
    customer = {"id": "D1", "monetary_total": 8_000, "frequency": 3, "service_cost": 20_000,
                "entity_type": "individual", "is_vip": True}
    plan = plan_for_customer(RULEBOOK, customer, AS_OF, ZH, ["value_tier", "customer_kind"])
    assert plan.schemes["value_tier"].outcomes[0].id == "drain"
    assert not {a.channel for a in plan.actions} & {"visit", "gift", "event", "meeting"}
    suppressed = [d for d in plan.considered if d.kind == "suppressed"]
    assert suppressed and all("cut_resources_for_drain" in d.reason and "rules/policy.yaml:" in d.reason
                              for d in suppressed)


def test_stop_contact_overrides_touches_but_a_worthwhile_relationship_is_recovered():
    lapsed = {"recency_days": 400, "frequency": 8, "tenure_days": 900, "spend_trend": None, "m_score": 2,
              "churned": True, "f_score": 4}
    valuable = {**lapsed, "m_score": 5}
    ended = explain_actions(RULEBOOK, {"id": "L1", **lapsed}, AS_OF, ZH, ["lifecycle_stage", "transaction_behaviour"])
    kept = explain_actions(RULEBOOK, {"id": "L2", **valuable}, AS_OF, ZH, ["lifecycle_stage", "transaction_behaviour"])
    assert {a.intent for a in ended.plan.actions} == {"stop_contact"}
    assert {d.rule for d in ended.arbitration.dropped if d.kind == "overridden"} == {"stop_contact_first"}
    assert "stop_contact" not in {a.intent for a in kept.plan.actions}
    assert "win_back" in {a.intent for a in kept.plan.actions}


def test_explain_actions_shows_the_steps(tmp_path: Path):
    result = run("explain", SAMPLES, "--id", "C0004", "--actions", "--as-of", "2026-03-02", "--lang", "en")
    assert result.exit_code == 0, result.output
    for step in ("1. Candidates:", "2. Merged:", "3. Suppressed:", "4. Conflicts:", "5. Ranked:", "6. Scheduled"):
        assert step in result.output
    as_json = run("explain", SAMPLES, "--id", "C0004", "--actions", "--as-of", "2026-03-02", "--json")
    import json

    data = json.loads(as_json.stdout)
    assert sum(item["chosen"] for item in data["ranked"]) == len(
        plan_for_customer(RULEBOOK, _row("C0004"), AS_OF, ZH).actions)
    assert all(item["reason"] or item["kind"] in ("merged", "contact_limit", "below_cut") for item in data["dropped"])


def _row(customer_id: str) -> dict[str, str]:
    from engine.evaluation.evaluate import customer_from_file

    return customer_from_file(RULEBOOK, SAMPLES, customer_id)


def _rules_without(tmp_path: Path, conflict_id: str) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(REPO / "rules", folder)
    policy = folder / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    start = text.index(f"  - id: {conflict_id}")
    end = text.index("\n  - id:", start + 1) if "\n  - id:" in text[start + 1:text.index("suppress:")] \
        else text.index("suppress:")
    policy.write_text(text[:start] + text[end + 1:], encoding="utf-8")
    return folder


def test_check_proves_the_bundled_policy_coherent():
    result = run("check", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Action arbitration: all 7 pairs of contradicting intents have an order in rules/policy.yaml" in \
        result.output.replace("\n", " ")


def test_check_finds_the_regions_a_policy_leaves_contradicting(tmp_path: Path):
    rules = _rules_without(tmp_path, "win_back_before_grow")
    result = run("check", "--rules", rules, "--lang", "en")
    assert result.exit_code == 1
    output = result.output.replace("\n", " ")
    assert "give one customer contradicting intents (grow, win_back)" in output
    assert "region:" in output and "e.g. {" in output
    # The example customer really gets both: its plan from the same rules shows the contradiction.
    from engine.analysis.coherence import analyse_coherence

    rulebook = load_rulebook(rules)
    finding = analyse_coherence(rulebook).findings[0]
    schemes = [finding.rules[0].split(".")[0], finding.rules[1].split(".")[0]]
    plan = plan_for_customer(rulebook, {"id": "X", **finding.customer}, AS_OF, ZH, list(dict.fromkeys(schemes)))
    assert plan.contradictions


def test_actions_and_policy_mistakes_are_located_with_suggestions(rules_dir):
    folder = rules_dir({"x.yaml": """
        id: x
        title: {zh: 甲, en: X}
        inputs:
          assets: {type: number}
        rules:
          - id: A
            label: {zh: 甲, en: A}
            when: {assets: ">= 1"}
            strategy:
              - {id: call, intent: grwo, zh: 打电话, en: Call}
              - {zh: 拜访, en: Visit, intent: retain}
              - {id: call, intent: retain, zh: 再打, en: Again}
              - {use: monthly_vist}
              - {id: later, intent: retain, zh: 以后, en: Later, when: {asets: "> 1"}}
        """, "actions.yaml": """
        actions:
          monthly_visit: {intent: retain, zh: 每月拜访, en: Monthly visit, channel: visit}
        """, "policy.yaml": """
        title: {zh: 策略, en: Policy}
        conflicts:
          - {id: c, keep: retain, drop: [grow], reason: {zh: 原因, en: why}}
        suppress:
          - {id: s, when: {asset: "> 1"}, intents: [grow], reason: {zh: 原因, en: why}}
        """})
    with pytest.raises(RuleLoadError) as info:
        load_rulebook(folder)
    problems = [p.render("en") for p in info.value.problems]
    assert len(problems) == 5, problems  # each mistake once
    assert any("x.yaml:10:" in p and "grwo" in p and "grow" in p for p in problems), problems
    assert any("x.yaml:11:" in p and "the action has no id" in p for p in problems), problems
    assert any("x.yaml:12:" in p and "action id 'call' is also used at line 10" in p for p in problems), problems
    assert any("x.yaml:13:" in p and "no action 'monthly_vist' in actions.yaml" in p and "monthly_visit" in p
               for p in problems), problems
    assert any("x.yaml:14:" in p and "unknown input 'asets'" in p for p in problems), problems
    # The policy is checked once the rule files load: fix them and its own mistakes show.
    fixed = (folder / "x.yaml").read_text(encoding="utf-8")
    fixed = fixed.replace("grwo", "grow").replace("{zh: 拜访", "{id: visit, zh: 拜访").replace(
        "{id: call, intent: retain", "{id: again, intent: retain").replace("monthly_vist", "monthly_visit").replace(
        "asets", "assets")
    (folder / "x.yaml").write_text(fixed, encoding="utf-8")
    with pytest.raises(RuleLoadError) as info:
        load_rulebook(folder)
    (problem,) = [p.render("en") for p in info.value.problems]
    assert "policy.yaml:5:" in problem and "'asset' is neither a scheme nor an input" in problem
    assert "did you mean 'assets'" in problem


def test_a_rule_file_copied_alone_says_it_needs_the_catalog(tmp_path: Path):
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(REPO / "rules" / "bank_tier.yaml", folder)
    result = run("check", "--rules", folder, "--lang", "en")
    assert result.exit_code == 1
    assert "no action 'dedicated_manager_monthly_visit' in actions.yaml" in result.output
    assert textwrap.dedent("needs the actions.yaml it came with") in result.output.replace("\n", " ")


def test_a_policy_linked_from_outside_the_folder_is_refused_unread(tmp_path: Path):
    folder = tmp_path / "rules"
    shutil.copytree(REPO / "rules", folder)
    (folder / "policy.yaml").unlink()
    secret = tmp_path / "secret.txt"
    secret.write_text("password: hunter2\n", encoding="utf-8")
    (folder / "policy.yaml").symlink_to(secret)
    result = run("check", "--rules", folder, "--lang", "en")
    assert result.exit_code == 1
    assert "rules/policy.yaml is a link to a file outside the rules folder" in result.output
    assert "hunter2" not in result.output
