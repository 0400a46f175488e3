"""How each clock's due date is computed (第四条3; PRACTICE.md: default deadlines).

- 签收 (accept): N working days after 交办 (per tenant, default 1).
- 反馈 (feedback), by source: a leader's 批示件 → 7 working days after 交办; a meeting item → the date the
  meeting set (``feedback_due`` in its source, else the plan's 办结时限); a 建议提案 → 3 months after
  交办; any other → the plan's 办结时限.
- 定期进度报告 (progress), if the plan asks for it: ``weekly`` (7 days apart from 交办) or ``monthly:DD``
  (day DD of each month), each period's report due in turn until the 办结时限.
- 办结 (completion): the plan's 办结时限.

Dates a person set (the 办结时限, a meeting's date) are taken as they are. Dates the platform computes
by calendar (months, weeks, a day of the month) that fall on a rest day move to the next working day.
A computation that needs a year the calendar lacks raises ``CalendarMissing``: never guessed.
"""

from __future__ import annotations

import calendar as _months
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

PROGRESS = re.compile(r"^(weekly|monthly:([1-9]|1[0-9]|2[0-8]))$")
FEEDBACK_WORKDAYS = {"instruction": 7}
SUGGESTION_MONTHS = 3


class Workdays(Protocol):
    """What the rules need of the statutory calendar (calendar.WorkCalendar provides it)."""

    def is_workday(self, day: date) -> bool: ...

    def add_workdays(self, start: date, n: int) -> date: ...


CALENDAR_RULES = ("workdays", "months", "weekly", "monthly")  # rules whose due date depends on the calendar


@dataclass(frozen=True)
class ClockSpec:
    kind: str
    seq: int
    rule: str
    due: date
    start: date | None = None  # what a calendar rule counts from (交办, a return, a period's nominal day)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day if it is shorter)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, _months.monthrange(year, month)[1]))


def next_workday(cal: Workdays, day: date) -> date:
    """``day`` itself if it is a working day, else the next one."""
    while not cal.is_workday(day):
        day += timedelta(days=1)
    return day


def due_of(rule: str, start: date, deadline: date, cal: Workdays) -> date:
    """Compute one rule from a start date (交办, or a return for rework)."""
    name, _, arg = rule.partition(":")
    if name == "workdays":
        return cal.add_workdays(start, int(arg))
    if name == "months":
        return next_workday(cal, add_months(start, int(arg)))
    if name == "date":
        return date.fromisoformat(arg)
    if name == "deadline":
        return deadline
    raise ValueError(f"unknown clock rule {rule!r}")


def feedback_rule(source_kind: str, source: dict) -> str:
    """The feedback clock's rule for a source (第四条3)."""
    if source_kind in FEEDBACK_WORKDAYS:
        return f"workdays:{FEEDBACK_WORKDAYS[source_kind]}"
    if source_kind == "meeting_item" and source.get("feedback_due"):
        return f"date:{source['feedback_due']}"
    if source_kind == "suggestion_proposal":
        return f"months:{SUGGESTION_MONTHS}"
    return "deadline"


def progress_days(progress: str, start: date, deadline: date) -> list[date]:
    """Every period's nominal day of a periodic progress report, before the 办结时限."""
    days: list[date] = []
    if progress == "weekly":
        day = start + timedelta(days=7)
        while day < deadline:
            days.append(day)
            day += timedelta(days=7)
    else:
        day = date(start.year, start.month, int(progress.partition(":")[2]))
        if day <= start:
            day = add_months(day, 1)
        while day < deadline:
            days.append(day)
            day = add_months(day, 1)
    return days


def progress_dues(progress: str, start: date, deadline: date, cal: Workdays) -> list[tuple[date, date]]:
    """(nominal day, due date) of each period, the due date being the next working day, before the 办结时限."""
    found: dict[date, date] = {}
    for day in progress_days(progress, start, deadline):
        due = next_workday(cal, day)
        if due < deadline and due not in found.values():
            found[day] = due
    return list(found.items())


def recompute(rule: str, start: date | None, cal: Workdays) -> date | None:
    """A calendar rule's due date again (after a calendar correction); None for a fixed date."""
    name = rule.partition(":")[0]
    if start is None or name not in CALENDAR_RULES:
        return None
    if name in ("weekly", "monthly"):
        return next_workday(cal, start)
    return due_of(rule, start, start, cal)


def clocks_for(*, source_kind: str, source: dict, assigned_on: date, deadline: date, progress: str | None,
               accept_workdays: int, cal: Workdays) -> list[ClockSpec]:
    """The clocks of a new assignment."""
    feedback = feedback_rule(source_kind, source)
    counted = feedback.partition(":")[0] in CALENDAR_RULES
    specs = [
        ClockSpec("accept", 1, f"workdays:{accept_workdays}",
                  due_of(f"workdays:{accept_workdays}", assigned_on, deadline, cal), assigned_on),
        ClockSpec("feedback", 1, feedback, due_of(feedback, assigned_on, deadline, cal),
                  assigned_on if counted else None),
        ClockSpec("completion", 1, "deadline", deadline),
    ]
    if progress:
        specs += [ClockSpec("progress", n, progress, due, day)
                  for n, (day, due) in enumerate(progress_dues(progress, assigned_on, deadline, cal), start=1)]
    return specs


def describe(rule: str) -> str:
    """A rule in words, for pages and documents."""
    name, _, arg = rule.partition(":")
    return {
        "workdays": f"{arg}个工作日内", "months": f"{arg}个月内", "date": f"{arg}前", "deadline": "办结时限前",
        "weekly": "每周", "monthly": f"每月{arg}日",
    }.get(name, rule)


def late_by(cal: Workdays, due: date, done_on: date) -> int:
    """Working days after ``due`` up to and including ``done_on`` (0 when on time)."""
    late, day = 0, due + timedelta(days=1)
    while day <= done_on:
        late += cal.is_workday(day)
        day += timedelta(days=1)
    return late
