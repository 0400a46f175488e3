"""The clock rules of 第四条3 on the statutory calendar (here the package's 2026 data, read directly)."""

from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from duban.deadlines import rules


class PackageDays:
    """The statutory days of the chinesecalendar package (2026 and before)."""

    def is_workday(self, day: date) -> bool:
        return chinese_calendar.is_workday(day)

    def add_workdays(self, start: date, n: int) -> date:
        return chinese_calendar.find_workday(n, start)


CAL = PackageDays()


def clocks(source_kind: str, source: dict | None = None, progress: str | None = None,
           assigned_on: date = date(2026, 9, 28), deadline: date = date(2026, 12, 31)) -> dict:
    specs = rules.clocks_for(source_kind=source_kind, source=source or {}, assigned_on=assigned_on,
                             deadline=deadline, progress=progress, accept_workdays=1, cal=CAL)
    return {(s.kind, s.seq): (s.rule, s.due) for s in specs}


def test_an_instruction_wants_written_feedback_in_7_working_days_across_national_day():
    got = clocks("instruction")
    assert got[("feedback", 1)] == ("workdays:7", date(2026, 10, 13))  # 国庆 1–8 Oct; 10-10 (Sat) is worked
    assert got[("accept", 1)] == ("workdays:1", date(2026, 9, 29))
    assert got[("completion", 1)] == ("deadline", date(2026, 12, 31))


def test_accept_on_the_eve_of_the_holiday_falls_after_it():
    got = clocks("instruction", assigned_on=date(2026, 9, 30))
    assert got[("accept", 1)][1] == date(2026, 10, 8)  # 国庆 is 10-1 … 10-7
    assert got[("feedback", 1)][1] == date(2026, 10, 15)  # 10-8, 10-9, 10-10 (make-up Saturday), 10-12 … 10-15


def test_a_meeting_item_is_due_when_the_meeting_said_else_by_the_plan():
    assert clocks("meeting_item", {"feedback_due": "2026-11-15"})[("feedback", 1)] == ("date:2026-11-15",
                                                                                     date(2026, 11, 15))
    assert clocks("meeting_item", {})[("feedback", 1)] == ("deadline", date(2026, 12, 31))


def test_a_suggestion_or_proposal_is_due_three_months_after_assignment_on_a_working_day():
    # 2026-06-29 + 3 months = 2026-09-29 (a Tuesday, a working day)
    assert clocks("suggestion_proposal", assigned_on=date(2026, 6, 29))[("feedback", 1)][1] == date(2026, 9, 29)
    # 2026-07-03 + 3 months = 2026-10-03, inside 国庆: the next working day is 10-08
    assert clocks("suggestion_proposal", assigned_on=date(2026, 7, 3))[("feedback", 1)][1] == date(2026, 10, 8)


def test_any_other_source_is_due_by_the_plan():
    assert clocks("other")[("feedback", 1)] == ("deadline", date(2026, 12, 31))
    assert clocks("major_decision")[("feedback", 1)] == ("deadline", date(2026, 12, 31))


def test_weekly_reports_are_due_in_turn_until_the_deadline():
    got = clocks("other", progress="weekly", assigned_on=date(2026, 9, 21), deadline=date(2026, 10, 31))
    dues = [due for (kind, _), (_, due) in sorted(got.items()) if kind == "progress"]
    # 09-28; 10-05 is in 国庆 → 10-08; 10-12; 10-19; 10-26
    assert dues == [date(2026, 9, 28), date(2026, 10, 8), date(2026, 10, 12), date(2026, 10, 19),
                    date(2026, 10, 26)]


def test_monthly_reports_fall_on_the_day_or_the_next_working_day():
    got = clocks("other", progress="monthly:25", assigned_on=date(2026, 7, 1), deadline=date(2026, 11, 30))
    dues = [due for (kind, _), (_, due) in sorted(got.items()) if kind == "progress"]
    # 07-25 Sat → 07-27; 08-25; 09-25 中秋 → 09-28; 10-25 Sun → 10-26; 11-25
    assert dues == [date(2026, 7, 27), date(2026, 8, 25), date(2026, 9, 28), date(2026, 10, 26), date(2026, 11, 25)]


def test_late_by_counts_working_days_after_the_due_date():
    assert rules.late_by(CAL, date(2026, 9, 30), date(2026, 9, 30)) == 0
    assert rules.late_by(CAL, date(2026, 9, 30), date(2026, 10, 9)) == 2  # 10-8, 10-9: the holiday does not count
    assert rules.late_by(CAL, date(2026, 9, 30), date(2026, 10, 12)) == 4  # … 10-10 (worked), 10-12


@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
])
def test_add_months(start, months, end):
    assert rules.add_months(start, months) == end


def test_describe_says_the_rule_in_chinese():
    assert rules.describe("workdays:7") == "7个工作日内"
    assert rules.describe("monthly:25") == "每月25日"
