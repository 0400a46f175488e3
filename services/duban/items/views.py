"""Read models of items and assignments with their clocks and traffic lights (computed here, at read
time, from the clocks and today's date; never stored)."""

from __future__ import annotations

from collections.abc import Sequence

from duban.context import TenantContext
from duban.db.prepared import Row
from duban.deadlines import service as deadlines
from duban.deadlines.repository import ClockRepository
from duban.items.models import Assignment, Item
from duban.items.repository import ItemRepository
from duban.items.schemas import AssignmentRead, ItemRead


def warn_until(ctx: TenantContext):  # noqa: ANN201
    """(today, the last due date that shows yellow today) for the caller's tenant."""
    today = ctx.time.today()
    tenant = ctx.registry.get(ctx.tenant)
    return today, deadlines.warn_until(today, tenant.warn_workdays if tenant else 3, ctx.calendar)


async def assignment_views(ctx: TenantContext, assignments: Sequence[Assignment | Row]) -> list[AssignmentRead]:
    """Assignments (objects or rows) with their clocks and lights (one query for all the clocks)."""
    today, until = warn_until(ctx)
    clocks = await ClockRepository(ctx.session, ctx.tenant).rows_of([a.id for a in assignments])
    by_assignment: dict[str, list] = {}
    for c in clocks:
        by_assignment.setdefault(c.assignment_id, []).append(c)
    return [AssignmentRead.of(a, today, by_assignment.get(a.id, []),
                              deadlines.light(by_assignment.get(a.id, []), a.state, today, until))
            for a in assignments]


async def item_views(ctx: TenantContext, items: Sequence[Item | Row]) -> list[ItemRead]:
    """Items with their light: the worst of their units' (one query: each unit's earliest open due date)."""
    today, until = warn_until(ctx)
    lights: dict[str, list[str | None]] = {}
    for a in await ItemRepository(ctx.session, ctx.tenant).next_dues_of_items([i.id for i in items]):
        lights.setdefault(a.item_id, []).append(deadlines.light_of(a.state, a.next_due, today, until))
    return [ItemRead.of(i, ctx.tenant, today, deadlines.worst(lights.get(i.id, []))) for i in items]
