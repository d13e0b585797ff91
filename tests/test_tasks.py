"""tasks.csv and tasks.ics as a CRM, a spreadsheet or a calendar reads them (engine/plans/tasks.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from icalendar import Calendar

from engine.plans.tasks import Task, TaskFiles, in_horizon, spreadsheet_safe, task_uid

AS_OF = dt.date(2026, 3, 2)
BOM = "\ufeff"
HEADER = ("customer_id,action,intent,due,channel,owner,priority,schemes,"
          "customer_name,action_id,channel_label,owner_label,why")


def task(**changes: object) -> Task:
    base = Task(customer_id="C0001", customer_name="张三", action_id="bank_tier.A.visit_monthly",
                action="每月上门拜访,介绍理财新品", intent="retain", due=AS_OF + dt.timedelta(days=30),
                channel="visit", channel_label="上门拜访", owner="relationship_manager", owner_label="客户经理",
                priority=3.0, schemes=("bank_tier", "value_tier"), why="资产 600 万元,A 级客户", intent_label="维系")
    return dataclasses.replace(base, **changes)


TASKS = [
    task(),
    task(action_id="bank_tier.A.call", action="电话回访", intent="service", intent_label="服务", due=AS_OF,
         channel="phone",
         channel_label="电话", priority=5.5, schemes=("bank_tier",), why="上次拜访后 30 天"),
    task(customer_id="=HYPERLINK(\"http://x\")", customer_name="", action_id="value_tier.gold.gift",
         action="-送生日礼物",
         intent="grow", intent_label="提升", due=AS_OF + dt.timedelta(days=90), channel=None, channel_label="",
         owner=None, owner_label="", priority=1.25, schemes=("value_tier",), why="@生日在三月"),
    task(action_id="bank_tier.A.review", action="年度复核", due=AS_OF + dt.timedelta(days=91)),  # beyond 90 days
]


def write(folder: Path, tasks: list[Task], lang: str = "zh") -> TaskFiles:
    with TaskFiles(folder, lang, AS_OF, 90) as files:
        files.add(tasks)
    return files


def events(path: Path) -> list:
    return Calendar.from_ical(path.read_bytes()).walk("VEVENT")


def test_the_csv_has_the_columns_a_crm_maps_and_one_row_per_task_in_the_horizon(tmp_path: Path):
    files = write(tmp_path, TASKS)
    assert files.written == 3 and files.csv_path == tmp_path / "tasks.csv"
    raw = files.csv_path.read_bytes()
    assert raw.startswith(BOM.encode("utf-8"))  # Excel shows the Chinese only with the BOM
    assert raw.decode("utf-8").split("\r\n") == [
        BOM + HEADER,
        "C0001,\"每月上门拜访,介绍理财新品\",retain,2026-04-01,visit,relationship_manager,3.00,bank_tier|value_tier,"
        "张三,bank_tier.A.visit_monthly,上门拜访,客户经理,\"资产 600 万元,A 级客户\"",
        "C0001,电话回访,service,2026-03-02,phone,relationship_manager,5.50,bank_tier,"
        "张三,bank_tier.A.call,电话,客户经理,上次拜访后 30 天",
        "\"'=HYPERLINK(\"\"http://x\"\")\",'-送生日礼物,grow,2026-05-31,,,1.25,value_tier,"
        ",value_tier.gold.gift,,,'@生日在三月",
        "",
    ]


@pytest.mark.parametrize(("text", "shown"), [
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("张三", "张三"), ("a=b", "a=b"), ("", ""),
])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_starts_with_a_quote(text: str, shown: str):
    assert spreadsheet_safe(text) == shown


def test_in_horizon_keeps_the_tasks_due_by_the_last_day_in_order():
    assert [t.action_id for t in in_horizon(TASKS, AS_OF, 90)] == [t.action_id for t in TASKS[:3]]
    assert [t.due for t in in_horizon(TASKS, AS_OF, 0)] == [AS_OF]
    with pytest.raises(ValueError, match="horizon_days"):
        in_horizon(TASKS, AS_OF, -1)


def test_the_ics_reads_back_as_one_all_day_event_per_task_with_its_day_summary_and_details(tmp_path: Path):
    items = events(write(tmp_path, TASKS).ics_path)
    calendar = Calendar.from_ical((tmp_path / "tasks.ics").read_bytes())
    assert str(calendar["VERSION"]) == "2.0" and "kece" in str(calendar["PRODID"])
    assert len(items) == 3
    assert [item.decoded("DTSTART") for item in items] == [t.due for t in TASKS[:3]]
    assert all(type(item.decoded("DTSTART")) is dt.date for item in items)  # an all-day DATE, not a time
    assert [item.decoded("DTEND") for item in items] == [t.due + dt.timedelta(days=1) for t in TASKS[:3]]
    assert {str(item["TRANSP"]) for item in items} == {"TRANSPARENT"}  # a task on a day keeps the rep free
    assert [str(item["SUMMARY"]) for item in items] == [
        "张三:每月上门拜访,介绍理财新品", "张三:电话回访", "=HYPERLINK(\"http://x\"):-送生日礼物"]
    assert [item["CATEGORIES"].cats for item in items] == [["retain"], ["service"], ["grow"]]
    assert str(items[0]["DESCRIPTION"]).split("\n") == [
        "渠道:上门拜访", "负责人:客户经理", "意图:维系", "方案:bank_tier、value_tier", "依据:资产 600 万元,A 级客户"]
    assert str(items[2]["DESCRIPTION"]).split("\n") == ["意图:提升", "方案:value_tier", "依据:@生日在三月"]


def test_priority_ranks_a_customers_tasks_from_1_the_most_important(tmp_path: Path):
    many = [task(customer_id="C9", action_id=f"a{i}", priority=float(i % 12)) for i in range(12)]
    items = events(write(tmp_path, [*TASKS[:2], *many]).ics_path)
    # C0001: 5.5 before 3.0; C9: 11 is first, ..., everything from the ninth on is 9.
    assert [int(item["PRIORITY"]) for item in items] == [2, 1, 9, 9, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1]


def test_an_english_run_describes_the_task_in_english(tmp_path: Path):
    english = task(action="Monthly visit", channel_label="Visit", owner_label="Relationship manager",
                   intent_label="Retain",
                   customer_name="", why="Assets CNY 6,000,000")
    item = events(write(tmp_path, [english], lang="en").ics_path)[0]
    assert str(item["SUMMARY"]) == "C0001: Monthly visit"
    assert str(item["DESCRIPTION"]).split("\n") == [
        "Channel: Visit", "Owner: Relationship manager", "Intent: Retain", "Schemes: bank_tier, value_tier",
        "Why: Assets CNY 6,000,000"]


def test_uids_stay_the_same_next_run_so_a_calendar_updates_instead_of_duplicating(tmp_path: Path):
    first = [str(item["UID"]) for item in events(write(tmp_path / "march", TASKS).ics_path)]
    moved = [dataclasses.replace(t, due=AS_OF + dt.timedelta(days=1), action="改期") for t in TASKS[:3]]
    second = [str(item["UID"]) for item in events(write(tmp_path / "april", moved).ics_path)]
    assert first == second
    assert len(set(first)) == 3 and all(uid.endswith("@kece") for uid in first)
    # Neither part alone makes a task, nor does a different split of the same characters.
    assert task_uid("C1", "a") != task_uid("C2", "a") != task_uid("C2", "b")
    assert task_uid("a|b", "c") != task_uid("a", "b|c")


def test_the_same_tasks_give_the_same_files(tmp_path: Path):
    one, two = write(tmp_path / "one", TASKS), write(tmp_path / "two", TASKS)
    assert one.ics_path.read_bytes() == two.ics_path.read_bytes()
    assert one.csv_path.read_bytes() == two.csv_path.read_bytes()


def test_a_failed_run_leaves_nothing_half_written_and_last_runs_files_as_they_were(tmp_path: Path):
    fresh = tmp_path / "fresh"
    with pytest.raises(RuntimeError, match="disk"), TaskFiles(fresh, "zh", AS_OF, 90) as files:
        files.add(TASKS)
        raise RuntimeError("disk full")
    assert list(fresh.iterdir()) == []

    kept = tmp_path / "kept"
    write(kept, TASKS[:1])
    before = {p.name: p.read_bytes() for p in kept.iterdir()}
    with pytest.raises(RuntimeError, match="disk"), TaskFiles(kept, "zh", AS_OF, 90) as files:
        files.add(TASKS)
        raise RuntimeError("disk full")
    assert {p.name: p.read_bytes() for p in kept.iterdir()} == before


def test_no_tasks_still_give_two_files_a_crm_and_a_calendar_accept(tmp_path: Path):
    files = write(tmp_path, [])
    assert files.written == 0
    assert files.csv_path.read_bytes().decode("utf-8") == BOM + HEADER + "\r\n"
    assert events(files.ics_path) == []


def test_a_task_with_an_unknown_intent_or_channel_is_refused():
    with pytest.raises(ValueError, match="intent 'upsell'"):
        task(intent="upsell")
    with pytest.raises(ValueError, match="channel 'fax'"):
        task(channel="fax")


def test_a_large_run_streams_chunk_by_chunk_without_holding_the_tasks(tmp_path: Path):
    # 50,000 tasks in chunks of 500 customers; one in ten due within 90 days (the others 100 days
    # apart), so the test stays quick while every task passes through the writer.
    customers, per_customer, chunk = 5_000, 10, 500
    seen: list[weakref.ref[Task]] = []

    def tasks_of(first: int) -> Iterator[Task]:
        # By the time a chunk is asked for, the writer has let go of every earlier chunk's tasks.
        assert all(ref() is None for ref in seen), "the writer holds tasks of an earlier chunk"
        for c in range(first, first + chunk):
            for a in range(per_customer):
                made = Task(f"C{c:06d}", "张三", f"act{a}", "每月上门拜访", "retain",
                            AS_OF + dt.timedelta(days=100 * a), "visit", "上门拜访", "relationship_manager",
                            "客户经理", float(a), ("bank_tier",), "A 级客户")
                seen.append(weakref.ref(made))
                yield made

    with TaskFiles(tmp_path, "zh", AS_OF, 90) as files:
        for first in range(0, customers, chunk):
            files.add(tasks_of(first))
    assert len(seen) == 50_000 and files.written == 5_000
    assert files.csv_path.read_bytes().count(b"\r\n") == 5_001
    assert files.ics_path.read_bytes().count(b"BEGIN:VEVENT\r\n") == 5_000
