"""Read models of items and assignments with their clocks and traffic lights (computed here, at read
time, from the clocks and today's date; never stored)."""

from __future__ import annotations

from duban.context import TenantContext
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


async def assignment_views(ctx: TenantContext, assignments: list[Assignment]) -> list[AssignmentRead]:
    """Assignments with their clocks and lights (one query for all the clocks)."""
    today, until = warn_until(ctx)
    clocks = await ClockRepository(ctx.session, ctx.tenant).of([a.id for a in assignments])
    by_assignment: dict[str, list] = {}
    for c in clocks:
        by_assignment.setdefault(c.assignment_id, []).append(c)
    return [AssignmentRead.of(a, today, by_assignment.get(a.id, []),
                              deadlines.light(by_assignment.get(a.id, []), a.state, today, until))
            for a in assignments]


async def item_views(ctx: TenantContext, items: list[Item]) -> list[ItemRead]:
    """Items with their light: the worst of their units'."""
    repo = ItemRepository(ctx.session, ctx.tenant)
    by_item: dict[str, list[AssignmentRead]] = {}
    for view in await assignment_views(ctx, await repo.assignments_of_items([i.id for i in items])):
        by_item.setdefault(view.item_ref.rpartition("/")[2], []).append(view)
    today = ctx.time.today()
    return [ItemRead.of(i, ctx.tenant, today, deadlines.worst([v.light for v in by_item.get(i.id, [])]))
            for i in items]
