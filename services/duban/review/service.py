"""The annual review (第十二条) of one year, computed from this tenant's own record of the work it assigned.

**Which work.** The assignments this tenant issued (交办) on a day of the year (closed ones left out, as in a
bulletin), described as of the end of ``as_of``: the year's last day, or today while the year runs. Done,
on time, late, in progress and overdue mean exactly what they mean in a bulletin (bulletins/figures.py).

**Per unit** (the units the assignments went to): 承办件数 (``handled``: its assignments), ``done``,
``done_on_time`` (按期办结), ``done_late`` (逾期办结), ``in_progress``, ``overdue`` (超时未办 at ``as_of``),
``on_time_rate`` (per cent of done), and two averages in working days (the platform's statutory calendar,
calendar/; one decimal, half up; None without a case):

- ``avg_feedback_workdays`` (平均首次反馈用时): over the assignments with a feedback by ``as_of``, the
  working days after the 交办 day up to and including the day of the first feedback (0: the same day);
- ``avg_completion_workdays`` (平均办结用时): over the done assignments, the working days after the 交办 day
  up to and including the completion date (the day of the standing 办结申请).

**Per person** (as the units' users are recorded in the events they sent: ``unit/username``):

- ``accepted`` (签收件数): assignments they signed for (签收) by ``as_of``;
- ``fed_back`` (反馈件数): assignments they sent at least one feedback on by ``as_of``;
- ``completed`` (申请办结件数): done assignments whose standing 办结申请 they made (the unit's 第一责任人);
  of those ``done_on_time`` and ``done_late``;
- ``handled`` (经办件数): distinct assignments with any of the three by them (a 办结申请 still awaiting the
  督查室's confirmation at ``as_of`` counts here too);
- ``overdue`` (超时未办): assignments they signed for that are overdue at ``as_of``;
- ``avg_feedback_workdays``: over the assignments whose first feedback was theirs; ``avg_completion_workdays``:
  over the assignments they completed — each counted as for a unit.

A year with no holiday notice loaded (and none in the ``chinesecalendar``
package) is refused with CalendarMissing (HTTP 422) naming the year: never a guess. A year after the
current one is refused (400)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from duban.bulletins.figures import Task, by_unit, rate
from duban.bulletins.repository import BulletinRepository
from duban.bulletins.service import unit_names
from duban.context import TenantContext
from duban.errors import InvalidInput
from duban.review.schemas import PersonReview, Review, UnitReview


def _mean(values: list[int]) -> float | None:
    if not values:
        return None
    return float((Decimal(sum(values)) / Decimal(len(values))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _unit_row(unit: str, name: str, tasks: list[Task], end: date, cal: Any) -> UnitReview:
    done = [t for t in tasks if t.done(end)]
    on_time = sum(t.on_time(end) for t in done)
    feedback = [cal.workdays_between(t.assigned_on, first[0]) for t in tasks if (first := t.first_feedback(end))]
    completion = [cal.workdays_between(t.assigned_on, t.completion_on) for t in done]
    return UnitReview(unit=unit, name=name, handled=len(tasks), done=len(done), done_on_time=on_time,
                      done_late=len(done) - on_time, in_progress=len(tasks) - len(done),
                      overdue=sum(t.overdue(end) for t in tasks), on_time_rate=rate(on_time, len(done)),
                      avg_feedback_workdays=_mean(feedback), avg_completion_workdays=_mean(completion))


def _person_rows(tasks: list[Task], end: date, cal: Any, names: dict[str, str], order: dict[str, int]
                 ) -> list[PersonReview]:
    people: dict[str, dict[str, Any]] = {}

    def of(ref: str) -> dict[str, Any]:
        return people.setdefault(ref, {"handled": set(), "accepted": 0, "fed_back": 0, "completed": 0, "on_time": 0,
                                        "overdue": 0, "feedback_days": [], "completion_days": []})

    for t in tasks:
        if t.accepted_by and t.accepted_on and t.accepted_on <= end:
            p = of(t.accepted_by)
            p["handled"].add(t.id)
            p["accepted"] += 1
            p["overdue"] += t.overdue(end)
        for author in sorted({who for on, who in t.feedback if on <= end}):
            p = of(author)
            p["handled"].add(t.id)
            p["fed_back"] += 1
        if (first := t.first_feedback(end)) is not None:
            of(first[1])["feedback_days"].append(cal.workdays_between(t.assigned_on, first[0]))
        if t.completion_by and (t.done(end) or t.awaiting(end)):
            of(t.completion_by)["handled"].add(t.id)
        if t.done(end) and t.completion_by:
            p = of(t.completion_by)
            p["completed"] += 1
            p["on_time"] += t.on_time(end)
            p["completion_days"].append(cal.workdays_between(t.assigned_on, t.completion_on))
    rows = []
    for ref, p in people.items():
        unit, _, username = ref.partition("/")
        rows.append(PersonReview(
            person=ref, username=username, unit=unit, unit_name=names.get(unit, unit), handled=len(p["handled"]),
            accepted=p["accepted"], fed_back=p["fed_back"], completed=p["completed"], done_on_time=p["on_time"],
            done_late=p["completed"] - p["on_time"], overdue=p["overdue"],
            avg_feedback_workdays=_mean(p["feedback_days"]), avg_completion_workdays=_mean(p["completion_days"])))
    return sorted(rows, key=lambda r: (order.get(r.unit, len(order)), r.unit, r.username))


async def review(ctx: TenantContext, year: int) -> Review:
    """The review of ``year`` (see the module's docstring for every figure)."""
    today = ctx.time.today()
    if year > today.year:
        raise InvalidInput(f"{year}年度尚未开始，无考评数据 (the year {year} has not begun)")
    ctx.calendar.notice(year)  # CalendarMissing (422) for a year without calendar data: said at once
    end = min(today, date(year, 12, 31))
    tasks = await BulletinRepository(ctx.session, ctx.tenant).tasks(date(year, 1, 1), date(year, 12, 31))
    names = unit_names(ctx)
    order = {code: n for n, code in enumerate(names)}
    units = sorted(by_unit(tasks).items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    return Review(
        year=year, as_of=end,
        units=[_unit_row(unit, names.get(unit, unit), mine, end, ctx.calendar) for unit, mine in units],
        total=_unit_row("", "合计", tasks, end, ctx.calendar),
        persons=_person_rows(tasks, end, ctx.calendar, names, order))
