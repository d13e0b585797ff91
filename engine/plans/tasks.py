"""The actions of `kece plan --all` as tasks to import elsewhere: `tasks.csv` and `tasks.ics`.

- tasks.csv: one row per action due within the horizon, for a CRM's task import or a spreadsheet.
  UTF-8 with BOM (Excel shows Chinese); the first columns are customer_id, action, intent, due
  (ISO date), channel, owner, priority, schemes (`|`-joined); cells that a spreadsheet would run as
  a formula start with a quote.
- tasks.ics: the same tasks as iCalendar (RFC 5545) all-day events (VEVENT, shown as free time) on
  their due dates. Events, not to-dos (VTODO): Outlook, 钉钉 and 企业微信 import events from a file
  and ignore to-dos. Each task's UID comes from its customer and action, so importing next month's
  file updates the events already imported instead of adding them twice.

中文:`tasks.csv` 供 CRM 或 Excel 导入任务(带 BOM 的 UTF-8,以 = + - @ 开头的单元格前加单引号,
防止公式注入);`tasks.ics` 是同一批任务的 iCalendar 日程,供日历/任务应用导入;同一客户的同一行动
UID 不变,下月再导入会更新而不会重复。日历文件写成全天事件(VEVENT),因为 Outlook、钉钉和企业微信导入文件时只认事件。

Both files are written as the plans are, a chunk of customers at a time, and appear only once complete.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, TextIO

from icalendar import Calendar, Event, vCategory, vDDDTypes, vInt, vText

from engine.io.temporary import remove_stale_temporaries, temporary_name
from engine.plans.model import Plan
from engine.rules.actions import INTENTS
from engine.rules.policy import CHANNELS

CSV_COLUMNS = ("customer_id", "action", "intent", "due", "channel", "owner", "priority", "schemes",
               "customer_name", "action_id", "channel_label", "owner_label", "why")
CSV_NAME, ICS_NAME = "tasks.csv", "tasks.ics"
PRODID = "-//kece//客策 tasks//ZH"
# iCalendar's PRIORITY: 1 is the highest, 9 the lowest (0 would mean "undefined").
LOWEST_PRIORITY = 9
# Formula triggers in Excel, LibreOffice and Google Sheets (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FREE = vText("TRANSPARENT")  # a task on a day, not a meeting that makes the rep busy
_FOOTER = b"END:VCALENDAR\r\n"

# The words of tasks.ics's descriptions; channel, owner and intent labels arrive on the task, from the
# playbook's message catalog.
_WORDS: dict[str, dict[str, str]] = {
    "zh": {"channel": "渠道", "owner": "负责人", "intent": "意图", "schemes": "方案", "why": "依据",
           "colon": ":", "list": "、", "calendar": "客策任务(截至 {date})"},
    "en": {"channel": "Channel", "owner": "Owner", "intent": "Intent", "schemes": "Schemes", "why": "Why",
           "colon": ": ", "list": ", ", "calendar": "kece tasks (as of {date})"},
}


@dataclass(frozen=True)
class Task:
    """One action of one customer's plan, due on a day."""

    customer_id: str
    customer_name: str
    action_id: str  # stable across runs, e.g. bank_tier.A.visit_monthly
    action: str  # in the plan's language
    intent: str  # one of INTENTS
    due: dt.date
    channel: str | None  # one of CHANNELS
    channel_label: str
    owner: str | None  # a role id, e.g. relationship_manager
    owner_label: str
    priority: float  # higher = more important
    schemes: tuple[str, ...]  # the schemes that recommend it
    why: str  # one line, in the plan's language
    intent_label: str = ""  # the intent in the plan's language

    def __post_init__(self) -> None:
        # A CRM or calendar would file an unknown intent or channel under a category nobody filters on.
        if self.intent not in INTENTS:
            raise ValueError(f"task {self.action_id!r}: unknown intent {self.intent!r} (one of {', '.join(INTENTS)})")
        if self.channel is not None and self.channel not in CHANNELS:
            raise ValueError(f"task {self.action_id!r}: unknown channel {self.channel!r} "
                             f"(one of {', '.join(CHANNELS)})")


def plan_tasks(plan: Plan) -> list[Task]:
    """The dated actions of a plan's front list as tasks (an action due "when the occasion arises" has no day)."""
    customer = plan.customer
    return [Task(customer.id, customer.name, a.key, a.text, a.intent, a.due, a.channel, a.channel_label, a.owner,
                 a.owner_label, a.priority, a.schemes, a.why, a.intent_label)
            for a in plan.actions if a.due is not None and a.intent]


def in_horizon(tasks: Iterable[Task], as_of: dt.date, horizon_days: int) -> list[Task]:
    """The tasks due on or before as_of + horizon_days, in the order given."""
    if horizon_days < 0:
        raise ValueError(f"horizon_days must be 0 or more, not {horizon_days}")
    last = as_of + dt.timedelta(days=horizon_days)
    return [task for task in tasks if task.due <= last]


def spreadsheet_safe(text: str) -> str:
    """A text cell a spreadsheet shows as text, never runs as a formula: OWASP's advice for CSV
    injection, a leading quote before =, +, -, @, tab or carriage return."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def task_uid(customer_id: str, action_id: str) -> str:
    """The task's iCalendar UID: the same customer and action give the same UID in every run."""
    # The id's length keeps the pair unambiguous: ("a|b", "c") and ("a", "b|c") must not share a UID.
    key = f"{len(customer_id)}:{customer_id}|{action_id}".encode()
    return f"{hashlib.sha1(key).hexdigest()}@kece"


def priority_ranks(tasks: Sequence[Task]) -> list[int]:
    """iCalendar PRIORITY per task, from its rank among its customer's tasks: the most important is 1,
    the next 2, ..., 9 from the ninth on; equal priorities share a rank."""
    by_customer: dict[str, list[float]] = {}
    for task in tasks:
        by_customer.setdefault(task.customer_id, []).append(task.priority)
    return [min(1 + sum(other > task.priority for other in by_customer[task.customer_id]), LOWEST_PRIORITY)
            for task in tasks]


class TaskFiles:
    """Writes tasks.csv and tasks.ics in `folder`, a batch of customers at a time:

        with TaskFiles(out_dir, "zh", as_of, 90) as files:
            for chunk in chunks:
                files.add(tasks_of(chunk))

    Only tasks due within `horizon_days` of `as_of` are written. Give each customer's tasks in one
    `add` (PRIORITY ranks a customer's tasks among themselves). Both files appear when the block ends
    without an exception; with one, neither is left behind, complete or not."""

    def __init__(self, folder: Path, lang: str, as_of: dt.date, horizon_days: int) -> None:
        if lang not in _WORDS:
            raise ValueError(f"no words for language {lang!r} (one of {', '.join(_WORDS)})")
        if horizon_days < 0:
            raise ValueError(f"horizon_days must be 0 or more, not {horizon_days}")
        self.folder, self.lang, self.as_of, self.horizon_days = folder, lang, as_of, horizon_days
        self._words = _WORDS[lang]
        self._bodies: dict[tuple, tuple[tuple[str, ...], bytes]] = {}  # see _shared
        # DTSTAMP from the plan's date, not the clock: the same run gives the same file, and next
        # month's file is newer than this month's for a calendar comparing them.
        self._stamp = vDDDTypes(dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC))
        self._written = 0
        self._csv: TextIO | None = None
        self._ics: BinaryIO | None = None
        self._csv_tmp: Path | None = None
        self._ics_tmp: Path | None = None

    @property
    def csv_path(self) -> Path:
        return self.folder / CSV_NAME

    @property
    def ics_path(self) -> Path:
        return self.folder / ICS_NAME

    @property
    def written(self) -> int:
        """Tasks written so far (those within the horizon)."""
        return self._written

    def __enter__(self) -> TaskFiles:
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.folder)
        try:
            self._csv_tmp, csv_fd = _temporary(self.csv_path)
            self._csv = open(csv_fd, "w", encoding="utf-8-sig", newline="")  # closed in __exit__
            csv.writer(self._csv).writerow(CSV_COLUMNS)
            self._ics_tmp, ics_fd = _temporary(self.ics_path)
            self._ics = open(ics_fd, "wb")  # closed in __exit__
            self._ics.write(self._calendar_header())
        except BaseException:
            self._discard()
            raise
        return self

    def add(self, tasks: Iterable[Task]) -> None:
        """Write the tasks within the horizon (whole customers: see the class)."""
        if self._csv is None or self._ics is None:
            raise RuntimeError("TaskFiles.add outside its `with` block")
        chosen = in_horizon(tasks, self.as_of, self.horizon_days)
        rows = csv.writer(self._csv)
        for task, rank in zip(chosen, priority_ranks(chosen), strict=True):
            action_cells, body = self._shared(task, rank)
            rows.writerow((spreadsheet_safe(task.customer_id), *action_cells[:7],
                           spreadsheet_safe(task.customer_name), *action_cells[7:]))
            self._ics.write(self._event(task, body))
        self._written += len(chosen)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is not None:
            self._discard()
            return
        try:
            assert self._csv is not None and self._ics is not None and self._csv_tmp and self._ics_tmp
            self._ics.write(_FOOTER)
            self._csv.close()
            self._ics.close()
            os.replace(self._csv_tmp, self.csv_path)
            os.replace(self._ics_tmp, self.ics_path)
        except BaseException:
            self._discard()
            raise

    def _discard(self) -> None:
        for stream in (self._csv, self._ics):
            if stream is not None:
                stream.close()
        for tmp in (self._csv_tmp, self._ics_tmp):
            if tmp is not None:
                tmp.unlink(missing_ok=True)

    def _shared(self, task: Task, rank: int) -> tuple[tuple[str, ...], bytes]:
        """What a task's CSV row and event say besides the customer, the same for every customer given
        the action, the day and the rank: made once (a file's customers share a few hundred of them)."""
        key = (task.action_id, task.action, task.due, rank, task.priority, task.channel, task.channel_label,
               task.owner, task.owner_label, task.intent, task.intent_label, task.schemes, task.why)
        found = self._bodies.get(key)
        if found is None:
            if len(self._bodies) > 100_000:  # ever new combinations: keep memory flat
                self._bodies.clear()
            safe = spreadsheet_safe
            cells = (safe(task.action), safe(task.intent), task.due.isoformat(), safe(task.channel or ""),
                     safe(task.owner or ""), f"{task.priority:.2f}", safe("|".join(task.schemes)),
                     safe(task.action_id), safe(task.channel_label), safe(task.owner_label), safe(task.why))
            found = self._bodies[key] = (cells, self._event_body(task, rank))
        return found

    def _calendar_header(self) -> bytes:
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        # Outlook wants a METHOD to import a file; PUBLISH is a plain list of items, no invitation.
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", self._words["calendar"].format(date=self.as_of.isoformat()))
        # The library writes the calendar's properties; its END line is written after the last task.
        whole = calendar.to_ical()
        assert whole.endswith(_FOOTER), whole
        return whole[: -len(_FOOTER)]

    def _event_body(self, task: Task, rank: int) -> bytes:
        event = Event()
        event["DTSTAMP"] = self._stamp
        event["DTSTART"] = vDDDTypes(task.due)
        event["DTEND"] = vDDDTypes(task.due + dt.timedelta(days=1))
        event["TRANSP"] = _FREE
        event["PRIORITY"] = vInt(rank)
        event["CATEGORIES"] = vCategory([task.intent])
        event["DESCRIPTION"] = vText(self._description(task))
        return event.to_ical()

    def _event(self, task: Task, body: bytes) -> bytes:
        """One VEVENT: the customer's own lines (UID, SUMMARY) inside the body shared by its action.
        Values are escaped by the library (vText); lines are folded here (_fold), since icalendar's
        folder walks a line one character at a time and --all writes millions."""
        summary = vText(f"{task.customer_name or task.customer_id}{self._words['colon']}{task.action}").to_ical()
        own = b"UID:" + task_uid(task.customer_id, task.action_id).encode("ascii") + b"\r\n" + \
            _fold(b"SUMMARY:" + summary) + b"\r\n"
        begin = b"BEGIN:VEVENT\r\n"
        return begin + own + body[len(begin):]

    def _description(self, task: Task) -> str:
        words, colon = self._words, self._words["colon"]
        lines = [f"{words['channel']}{colon}{task.channel_label or task.channel}" if task.channel else "",
                 f"{words['owner']}{colon}{task.owner_label or task.owner}" if task.owner else "",
                 f"{words['intent']}{colon}{task.intent_label or task.intent}",
                 f"{words['schemes']}{colon}{words['list'].join(task.schemes)}" if task.schemes else "",
                 f"{words['why']}{colon}{task.why}" if task.why else ""]
        return "\n".join(line for line in lines if line)


def _fold(line: bytes, width: int = 75) -> bytes:
    """An iCalendar content line folded as RFC 5545 (3.1) asks: at most 75 octets a line, the next
    line starting with a space, never inside a UTF-8 character."""
    if len(line) <= width:
        return line
    parts, start, limit = [], 0, width
    while len(line) - start > limit:
        cut = start + limit
        while line[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: cut before its character
            cut -= 1
        parts.append(line[start:cut])
        start, limit = cut, width - 1  # continuation lines begin with a space
    parts.append(line[start:])
    return b"\r\n ".join(parts)


def _temporary(path: Path) -> tuple[Path, int]:
    """A new file beside `path` under a hidden name, created with the permissions a plain open() gives."""
    tmp = path.with_name(temporary_name(path.name, f"{os.getpid()}-{secrets.token_hex(4)}"))
    return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
