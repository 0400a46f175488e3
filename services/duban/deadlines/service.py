"""Clocks through an assignment's life: set at 交办, met by 签收 / 反馈 / 办结申请, restarted by 退回重办,
moved by an approved extension; and the traffic light computed from them (never stored).

Both tenants run the same functions (the assigner on its mirror, from the unit's events), with the
times the events carry, so both hold the same clocks."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from duban.deadlines import rules
from duban.deadlines.models import MET, OPEN, SUPERSEDED, Clock
from duban.deadlines.repository import ClockRepository
from duban.errors import DubanError

log = logging.getLogger("duban.deadlines")
CHINA = ZoneInfo("Asia/Shanghai")
GREEN, YELLOW, RED = "green", "yellow", "red"
DONE_STATES = ("completion_requested", "done", "closed")


def china_date(at: datetime) -> date:
    """The calendar date in China of a moment (deadlines are dates there)."""
    return at.astimezone(CHINA).date()


def clock_id(assignment_id: str, kind: str, seq: int) -> str:
    """A clock's id, the same at both tenants (a restart made on each side gets the same one)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"duban:clock:{assignment_id}:{kind}:{seq}"))


def add_clocks(repo: ClockRepository, assignment_id: str, specs: list[rules.ClockSpec],
               ids: list[str] | None = None) -> list[Clock]:
    """Store a new assignment's clocks (with the ids the assigner chose, on the unit's side)."""
    made = []
    for n, spec in enumerate(specs):
        clock = Clock(id=ids[n] if ids else clock_id(assignment_id, spec.kind, spec.seq), assignment_id=assignment_id,
                      kind=spec.kind, seq=spec.seq, rule=spec.rule, due=spec.due, original_due=spec.due,
                      start=spec.start, state=OPEN)
        repo.add(clock)
        made.append(clock)
    return made


def schedule_reminders(clocks: list[Clock], today: date, cal: rules.Workdays, before: tuple[int, ...] = (3, 1)
                       ) -> None:
    """At the assigner: the day each clock's first 催办 step is due (reminders/ladder.py). Without
    calendar data for that day's year, the scan looks again from today on, daily, until it can tell."""
    from duban.reminders.ladder import first_day

    for clock in clocks:
        try:
            clock.next_reminder_on = first_day(clock.due, cal, before)
        except DubanError:
            clock.next_reminder_on = today


def _settle(clock: Clock, at: datetime, cal: rules.Workdays) -> None:
    done_on = china_date(at)
    clock.state, clock.met_at, clock.on_time = MET, at, done_on <= clock.due
    try:
        clock.late_workdays = 0 if clock.on_time else rules.late_by(cal, clock.due, done_on)
    except DubanError as exc:  # the calendar lacks a year: keep on_time, leave the count open
        log.warning("late working days of clock %s not counted: %s", clock.id, exc.message)
        clock.late_workdays = None


def _first(clocks: list[Clock], kind: str) -> Clock | None:
    return next((c for c in clocks if c.kind == kind), None)  # they come earliest due first


async def meet(repo: ClockRepository, assignment_id: str, kind: str, at: datetime, cal: rules.Workdays) -> Clock | None:
    """The earliest open clock of a kind is met at ``at``; returns it (None if none was open)."""
    clock = _first(await repo.open_of(assignment_id, kind), kind)
    if clock is not None:
        _settle(clock, at, cal)
    return clock


async def on_feedback(repo: ClockRepository, assignment_id: str, kind: str, at: datetime,
                      cal: rules.Workdays) -> None:
    """A feedback meets the feedback clock; a progress report also meets the period due first."""
    kinds = ("feedback", "progress") if kind == "progress" else ("feedback",)
    open_clocks = await repo.open_of(assignment_id, *kinds)
    for k in kinds:
        if (clock := _first(open_clocks, k)) is not None:
            _settle(clock, at, cal)


async def on_completion_request(repo: ClockRepository, assignment_id: str, at: datetime,
                                cal: rules.Workdays) -> None:
    """办结申请 meets the completion clock; periodic reports stop being due."""
    open_clocks = await repo.open_of(assignment_id, "completion", "progress")
    if (clock := _first(open_clocks, "completion")) is not None:
        _settle(clock, at, cal)
    for clock in open_clocks:
        if clock.kind == "progress":
            clock.state = SUPERSEDED


async def on_return(repo: ClockRepository, assignment_id: str, at: datetime, deadline: date,
                    cal: rules.Workdays, *, remind: tuple[int, ...] | None) -> list[Clock]:
    """退回重办 restarts the feedback clock from the return (by its rule), and reopens the completion
    clock if the unit had already asked for completion. Returns the new clocks (``remind``: this is
    the assigner, which schedules their 催办 so many working days before)."""
    made: list[Clock] = []
    last = await repo.last_of(assignment_id, "feedback")
    restarted = None
    if last is not None:
        if last.state == OPEN:
            last.state = SUPERSEDED
        due = rules.due_of(last.rule, china_date(at), deadline, cal)
        counted = last.rule.partition(":")[0] in rules.CALENDAR_RULES
        restarted = Clock(id=clock_id(assignment_id, "feedback", last.seq + 1), assignment_id=assignment_id,
                          kind="feedback", seq=last.seq + 1, rule=last.rule, due=due, original_due=due,
                          start=china_date(at) if counted else None, state=OPEN)
        repo.add(restarted)
        made.append(restarted)
    completion = await repo.last_of(assignment_id, "completion")
    if completion is not None and completion.state == MET:
        reopened = Clock(id=clock_id(assignment_id, "completion", completion.seq + 1), assignment_id=assignment_id,
                         kind="completion", seq=completion.seq + 1, rule=completion.rule, due=completion.due,
                         original_due=completion.original_due, state=OPEN)
        repo.add(reopened)
        made.append(reopened)
    if remind is not None:
        schedule_reminders(made, china_date(at), cal, remind)
    return made


def warn_until(today: date, warn_workdays: int, cal: rules.Workdays) -> date:
    """The last due date that shows yellow today. If the calendar lacks the coming year, the
    platform warns early (today + the threshold in calendar days, at least) rather than guess late."""
    try:
        return cal.add_workdays(today, warn_workdays)
    except DubanError:
        return today + timedelta(days=warn_workdays + 7)


def light(clocks: list[Clock], state: str, today: date, warn_until_day: date) -> str | None:
    """Red if an open clock is past due, yellow if one is due by ``warn_until_day``, else green;
    None once the unit has asked for completion."""
    return light_of(state, min((c.due for c in clocks if c.state == OPEN), default=None), today, warn_until_day)


def light_of(state: str, next_due: date | None, today: date, warn_until_day: date) -> str | None:
    """``light`` from the earliest due date of the unit's open clocks (None: no open clock)."""
    if state in DONE_STATES:
        return None
    if next_due is not None and next_due < today:
        return RED
    if next_due is not None and next_due <= warn_until_day:
        return YELLOW
    return GREEN


def worst(lights: list[str | None]) -> str | None:
    """An item's light: the worst of its units'."""
    for colour in (RED, YELLOW, GREEN):
        if colour in lights:
            return colour
    return None
