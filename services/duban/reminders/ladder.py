"""The escalation ladder of 催办 (第四条3–4; PRACTICE.md: remind before the deadline, a 催办通知书 the day
after it passes, still late after that → named in a 通报).

Each open clock of an assignment this tenant issued climbs these steps, each on its own working day:

| step | when | goes to (at the unit) |
|---|---|---|
| ``before:3`` | 3 working days before the due date | the handler |
| ``before:1`` | 1 working day before | the handler |
(the days before are the registry's ``remind_before`` of the assigner, default 3 and 1)
| ``on`` | on the due date | the leader in charge named at 签收 (分管领导, 第十条), and the handler |
| ``after:1`` | 1 working day after | the unit's 第一责任人 (chief), and the leader in charge |
| ``after:5`` | 5 working days after | the chief; flagged to the assigner's 督查室 for the next 通报 |

A step whose day has passed unsent (a clock set close to its due date, a node that was down) is not sent
late: only the latest step whose day has come goes out.
"""

from __future__ import annotations

from datetime import date

from duban.deadlines.rules import Workdays

BEFORE = (3, 1)
AFTER: list[tuple[str, int]] = [("on", 0), ("after:1", 1), ("after:5", 5)]
AUDIENCE = {"on": ["leader_in_charge", "handler"], "after:1": ["chief", "leader_in_charge"], "after:5": ["chief"],
            "manual": ["handler", "leader_in_charge"]}
FLAGGED_STEP = "after:5"
LABELS = {"on": "今日到期催办", "after:1": "逾期催办", "after:5": "逾期5个工作日，列入督查通报", "manual": "督查室催办"}


def audience(step: str) -> list[str]:
    """The roles at the unit a step goes to (every ``before:N`` step: the handler)."""
    return ["handler"] if step.startswith("before:") else AUDIENCE[step]


def label(step: str) -> str:
    """A step in words."""
    if step.startswith("before:"):
        return f"到期前{step.partition(':')[2]}个工作日提醒"
    return LABELS.get(step, step)


def steps(before: tuple[int, ...] = BEFORE) -> list[tuple[str, int]]:
    """The ladder: the days-before steps, furthest first, then the due date and after."""
    return [(f"before:{n}", -n) for n in sorted(set(before), reverse=True)] + AFTER


def step_days(due: date, cal: Workdays, before: tuple[int, ...] = BEFORE) -> list[tuple[str, date]]:
    """Each step with its day (raises ``CalendarMissing`` if a day falls in a year without data)."""
    return [(step, due if offset == 0 else cal.add_workdays(due, offset)) for step, offset in steps(before)]


def first_day(due: date, cal: Workdays, before: tuple[int, ...] = BEFORE) -> date:
    """The day the first step is due (where the scan first looks at a new clock)."""
    return step_days(due, cal, before)[0][1]


def current(due: date, today: date, cal: Workdays, before: tuple[int, ...] = BEFORE) -> tuple[str | None, date | None]:
    """The latest step whose day has come (None before the first), and the day of the next one
    (None after the last)."""
    days = step_days(due, cal, before)
    reached = [step for step, day in days if day <= today]
    later = [day for _, day in days if day > today]
    return (reached[-1] if reached else None), (min(later) if later else None)
