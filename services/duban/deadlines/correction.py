"""A calendar correction (a year's notice loaded or loaded again) is one of the two explicit events that
move a due date: every open clock whose rule counts working days, months or periods is computed again
on the new calendar, in the same transaction as the load, and each date that moves is recorded in the
item's history with the reason. Dates a person set never move."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from duban.deadlines import rules
from duban.deadlines.repository import ClockRepository
from duban.deadlines.schemas import KIND_LABELS
from duban.deadlines.service import schedule_reminders
from duban.errors import DubanError
from duban.items.repository import ItemRepository
from duban.tenancy.registry import Registry

log = logging.getLogger("duban.deadlines")


async def recompute(session: AsyncSession, tenant: str, cal: rules.Workdays, reason: str, by: str, today: date,
                    registry: Registry | None = None) -> int:
    """Move the open calendar-counted clocks of one tenant to the corrected calendar; returns how many moved."""
    clocks = ClockRepository(session, tenant)
    items = ItemRepository(session, tenant)
    entry = registry.get(tenant) if registry else None
    moved = 0
    for clock in await clocks.open_counted():
        try:
            due = rules.recompute(clock.rule, clock.start, cal)
        except DubanError as exc:  # a year still without data: the date stays as it was computed
            log.warning("clock %s not recomputed: %s", clock.id, exc.message)
            continue
        if due is None or due == clock.due:
            continue
        a = await items.find_assignment(clock.assignment_id)
        if a is None:
            continue
        items.record(a.item_ref, "recompute", by, None, None, assignment_id=a.id,
                     note=f"{KIND_LABELS.get(clock.kind, clock.kind)}时限 {clock.due} → {due}：{reason}")
        clock.due = due
        if clock.next_reminder_on is not None:  # the assigner's: its 催办 follows the new date
            schedule_reminders([clock], today, cal, entry.remind_before if entry else (3, 1))
        moved += 1
    if moved:
        log.info("calendar correction moved %s due dates at %s", moved, tenant)
    return moved
