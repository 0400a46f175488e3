"""The figures of a 《督查通报》 (and of the annual review, review/): what each number counts, exactly.

Everything is computed from this tenant's own records of the work it assigned — the assignments it issued
(承办任务, as the assigner holds them, mirrored from the units' events), their deadline clocks and the
feedback copied up — never typed in. Times are the platform's (交办, 签收, 反馈 and 办结申请 carry the
moment they happened); a day is a calendar date in China.

**Which work a bulletin covers.** The period is two dates, ``from`` and ``to`` (both included; ``to`` not
after today). A bulletin covers the assignments this tenant issued (交办) on a day within the period, and
the items they belong to; an item's 交办 day is the day its assignments were issued. Assignments that
were closed (关闭: a part closed without being done, tree/) are left out, as are items never assigned.
Every figure describes that work **as of the end of the period's last day** (期末, ``to``), using what
the record says now about what happened by then.

For one assignment (one unit's share of one item), as of 期末:

- **completion date**: the day of the unit's 办结申请 that stands (the last one met on its completion clock;
  one sent back for rework by 退回重办 no longer stands).
- **办结 (done)**: the 督查室 has confirmed it (审核办结: the assignment's state is 已办结) and its
  completion date is on or before ``to``. (The confirmation itself may come after 期末.)
- **按期办结 (done on time)**: done, and the completion date is on or before its due date — the 办结时限 of
  its completion clock, an approved extension's new date included. **逾期办结 (done late)**: done, not on time.
- **待审核 (awaiting confirmation)**: not done, but the unit's 办结申请 stands and was made on or before
  ``to`` (the assignment's state is 已申请办结): it is neither overdue nor behind.
- **在办 (in progress)**: not done (待审核 included).
- **超时未办 (overdue)**: in progress, not awaiting confirmation, and its 办结时限 lies before ``to`` (a
  deadline on ``to`` itself is not yet overdue, as the traffic light turns red only the day after).
  ``overdue_workdays``: the working days after the 办结时限 up to and including ``to``.
- **进度滞后 (behind)**: in progress, neither awaiting confirmation nor overdue, and one of its other clocks
  — 签收, 反馈, a periodic progress report — fell due before ``to`` and was not met by the end of ``to``
  (a clock replaced by a restart or made moot by a 办结申请 is not counted).

For one item, as of 期末: **done** when every one of its assignments in the bulletin is done; **on time**
when done and every one of them was done on time; otherwise in progress, and then **overdue** when one of
them is overdue; else **awaiting** when each of them is done or awaiting; else **behind** when one of them
is behind.

The counts: ``assigned`` (交办件数 / 承办件数: items, or for a unit its assignments), ``done`` (办结数),
``done_on_time``, ``done_late``, ``in_progress`` (在办数 = assigned − done), ``overdue`` (超时未办数, part
of in progress), ``awaiting`` (待审核), ``behind`` (进度滞后). The rates, in per cent with one decimal
(half up), ``None`` when their base is 0: ``completion_rate`` (完成率) = done / assigned; ``on_time_rate``
(按期办结率) = done_on_time / done.

总体情况 counts items, in total and per source kind (第三条); the 附件 table counts each unit's
assignments (承办单位 | 承办件数 | 办结数 | 在办数 | 超时未办数 | 按期办结率, with a 合计 row); 存在问题
names, per unit, the items (by 编号 and title) overdue, done late, and behind; a protected (敏感, 第八条)
item is counted like any other but named by its 编号 only: a bulletin goes to every unit, and its title is
need-to-know.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from duban.deadlines.models import SUPERSEDED

SOURCE_LABELS = {
    "guidance": "指导事项", "major_decision": "重大决策部署", "meeting_item": "会议议定事项",
    "instruction": "领导批示交办事项", "suggestion_proposal": "建议提案", "other": "其他事项",
}
SOURCE_ORDER = tuple(SOURCE_LABELS)
PROGRESS_CLOCKS = ("accept", "feedback", "progress")


@dataclass(frozen=True)
class ClockFact:
    kind: str
    due: date
    state: str
    met_on: date | None


@dataclass(frozen=True)
class Task:
    """One assignment this tenant issued, with what its record says happened (dates in China)."""

    id: str
    item_id: str
    serial: str  # the item's 编号
    title: str
    source_kind: str
    unit: str
    state: str
    assigned_on: date
    deadline: date  # the 办结时限 now (an approved extension's date included)
    completion_on: date | None  # the day of the standing 办结申请
    completion_due: date | None  # the due date of the completion clock it met
    clocks: tuple[ClockFact, ...] = ()
    accepted_by: str | None = None  # who signed for it (签收), "unit/username"
    accepted_on: date | None = None
    feedback: tuple[tuple[date, str], ...] = ()  # (day, author) of every feedback, in order
    completion_by: str | None = None  # who made the standing 办结申请 (the unit's 第一责任人)
    protected: bool = False  # a 敏感 item (第八条): counted, named by 编号 only

    # -- as of the end of the day ``end`` ---------------------------------------------------------------
    def done(self, end: date) -> bool:
        return self.state == "done" and self.completion_on is not None and self.completion_on <= end

    def on_time(self, end: date) -> bool:
        return self.done(end) and self.completion_due is not None and self.completion_on <= self.completion_due

    def awaiting(self, end: date) -> bool:
        return (self.state == "completion_requested" and self.completion_on is not None
                and self.completion_on <= end)

    def overdue(self, end: date) -> bool:
        return not self.done(end) and not self.awaiting(end) and self.deadline < end

    def behind(self, end: date) -> bool:
        if self.done(end) or self.awaiting(end) or self.overdue(end):
            return False
        return any(c.kind in PROGRESS_CLOCKS and c.state != SUPERSEDED and c.due < end
                   and (c.met_on is None or c.met_on > end) for c in self.clocks)

    def first_feedback(self, end: date) -> tuple[date, str] | None:
        """(day, author) of the first feedback, if it came by ``end``."""
        return self.feedback[0] if self.feedback and self.feedback[0][0] <= end else None


def rate(part: int, whole: int) -> float | None:
    """part / whole in per cent, one decimal, half up; None when whole is 0."""
    if whole == 0:
        return None
    return float((Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def percent(value: float | None) -> str:
    """A rate as printed: 66.7%, or — when there is nothing to divide by."""
    return "—" if value is None else f"{value:.1f}%"


def _counts(assigned: int, done: int, on_time: int, overdue: int, awaiting: int, behind: int) -> dict[str, Any]:
    return {"assigned": assigned, "done": done, "done_on_time": on_time, "done_late": done - on_time,
            "in_progress": assigned - done, "overdue": overdue, "awaiting": awaiting, "behind": behind,
            "completion_rate": rate(done, assigned), "on_time_rate": rate(on_time, done)}


def task_counts(tasks: Iterable[Task], end: date) -> dict[str, Any]:
    """The counts over assignments."""
    tasks = list(tasks)
    return _counts(len(tasks), sum(t.done(end) for t in tasks), sum(t.on_time(end) for t in tasks),
                   sum(t.overdue(end) for t in tasks), sum(t.awaiting(end) for t in tasks),
                   sum(t.behind(end) for t in tasks))


def item_counts(items: Iterable[list[Task]], end: date) -> dict[str, Any]:
    """The counts over items, each given as its assignments."""
    assigned = done = on_time = overdue = awaiting = behind = 0
    for tasks in items:
        if not tasks:
            continue
        assigned += 1
        if all(t.done(end) for t in tasks):
            done += 1
            on_time += all(t.on_time(end) for t in tasks)
        elif any(t.overdue(end) for t in tasks):
            overdue += 1
        elif all(t.done(end) or t.awaiting(end) for t in tasks):
            awaiting += 1
        elif any(t.behind(end) for t in tasks):
            behind += 1
    return _counts(assigned, done, on_time, overdue, awaiting, behind)


def by_item(tasks: Iterable[Task]) -> dict[str, list[Task]]:
    found: dict[str, list[Task]] = {}
    for t in tasks:
        found.setdefault(t.item_id, []).append(t)
    return found


def by_unit(tasks: Iterable[Task]) -> dict[str, list[Task]]:
    found: dict[str, list[Task]] = {}
    for t in tasks:
        found.setdefault(t.unit, []).append(t)
    return found


CLOCK_LABELS = {"accept": "签收", "feedback": "反馈", "progress": "进度报告"}


PROTECTED_TITLE = "（敏感事项，标题不公开）"


def _serial(t: Task) -> str:
    return t.serial or t.item_id[:8]


def _title(t: Task) -> str:
    return PROTECTED_TITLE if t.protected else t.title


def bulletin_figures(tasks: list[Task], start: date, end: date, units: dict[str, str], cal: Any) -> dict[str, Any]:
    """The snapshot a bulletin keeps: the period, 总体情况 (items, in total and per source kind), the 附件
    table (per unit, in ``units`` order: code → name) with its 合计, and 存在问题 per unit. ``cal``: the
    working-day calendar (CalendarMissing if a year it needs is not loaded)."""
    items = by_item(tasks)
    order = {code: n for n, code in enumerate(units)}
    per_unit = sorted(by_unit(tasks).items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    problems = []
    for unit, mine in per_unit:
        mine = sorted(mine, key=_serial)
        overdue = [{"serial": _serial(t), "title": _title(t), "deadline": t.deadline.isoformat(),
                    "overdue_workdays": cal.workdays_between(t.deadline, end)} for t in mine if t.overdue(end)]
        late = [{"serial": _serial(t), "title": _title(t), "deadline": t.completion_due.isoformat(),
                 "completed_on": t.completion_on.isoformat(),
                 "late_workdays": cal.workdays_between(t.completion_due, t.completion_on)}
                for t in mine if t.done(end) and not t.on_time(end)]
        behind = [{"serial": _serial(t), "title": _title(t),
                   "missed": sorted({CLOCK_LABELS[c.kind] for c in t.clocks if c.kind in PROGRESS_CLOCKS
                                     and c.state != SUPERSEDED and c.due < end
                                     and (c.met_on is None or c.met_on > end)})}
                  for t in mine if t.behind(end)]
        if overdue or late or behind:
            problems.append({"unit": unit, "name": units.get(unit, unit), "overdue": overdue, "late": late,
                             "behind": behind})
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "overall": item_counts(items.values(), end),
        "by_source": [{"source_kind": kind, "label": SOURCE_LABELS[kind],
                       **item_counts([i for i in items.values() if i[0].source_kind == kind], end)}
                      for kind in SOURCE_ORDER if any(i[0].source_kind == kind for i in items.values())],
        "units": [{"unit": unit, "name": units.get(unit, unit), **task_counts(mine, end)} for unit, mine in per_unit],
        "units_total": task_counts(tasks, end),
        "problems": problems,
    }
