"""The ladder's days on the statutory calendar, and the working-hours gate (pure functions)."""

from __future__ import annotations

from datetime import date, datetime

from duban.calendar.workdays import WorkCalendar
from duban.reminders import ladder
from duban.reminders.job import within_hours
from duban.timesource import CHINA

CAL = WorkCalendar()
DUE = date(2026, 10, 13)


def test_the_default_ladder_around_national_day():
    assert ladder.step_days(DUE, CAL) == [
        ("before:3", date(2026, 10, 9)), ("before:1", date(2026, 10, 12)), ("on", DUE),
        ("after:1", date(2026, 10, 14)), ("after:5", date(2026, 10, 20))]


def test_a_tenant_can_remind_earlier():
    days = dict(ladder.step_days(DUE, CAL, before=(2, 5)))
    assert list(days)[:2] == ["before:5", "before:2"]
    assert days["before:5"] == date(2026, 9, 30)  # across 国庆: 10-12, 10-10, 10-9, 10-8, 9-30
    assert ladder.label("before:5") == "到期前5个工作日提醒" and ladder.audience("before:5") == ["handler"]


def test_only_the_latest_step_due_goes_out():
    assert ladder.current(DUE, date(2026, 10, 8), CAL) == (None, date(2026, 10, 9))
    assert ladder.current(DUE, date(2026, 10, 13), CAL) == ("on", date(2026, 10, 14))  # not before:3 late
    assert ladder.current(DUE, date(2026, 12, 1), CAL) == ("after:5", None)


def test_working_hours_on_working_days_only():
    def moment(day: str, hh: int, mm: int = 0) -> datetime:
        return datetime.fromisoformat(f"{day}T{hh:02d}:{mm:02d}:00").replace(tzinfo=CHINA)

    assert within_hours(moment("2026-10-09", 8, 30), "08:30-17:30", CAL)
    assert not within_hours(moment("2026-10-09", 8, 29), "08:30-17:30", CAL)
    assert not within_hours(moment("2026-10-09", 17, 30), "08:30-17:30", CAL)
    assert within_hours(moment("2026-10-10", 9), "08:30-17:30", CAL)  # the make-up Saturday
    assert not within_hours(moment("2026-10-05", 9), "08:30-17:30", CAL)  # 国庆
    assert not within_hours(moment("2027-01-04", 9), "08:30-17:30", CAL)  # a year without data: not taken as open
