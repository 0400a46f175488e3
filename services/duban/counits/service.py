"""协办: the co-unit's views go to the lead unit (an event across the tree); the lead's result report
carries every view it holds to the assigner."""

from __future__ import annotations

from duban.context import EventContext, TenantContext
from duban.counits.models import CoView
from duban.counits.repository import CoViewRepository
from duban.db.base import new_id
from duban.deadlines.repository import ClockRepository
from duban.deadlines.service import china_date
from duban.errors import Conflict, Refused
from duban.events.envelope import CoViewsSent, Envelope
from duban.items import service as items
from duban.items.models import Assignment
from duban.items.repository import ItemRepository


def _lead_of(a: Assignment) -> str | None:
    return next((u["unit"] for u in a.plan_units or [] if u.get("role") == "lead"), None)


async def send(ctx: TenantContext, assignment_id: str, text: str) -> CoView:
    """A co-unit sends its views to the lead unit."""
    items.check_text({"text": text})
    repo = ItemRepository(ctx.session, ctx.tenant)
    a = await repo.assignment(assignment_id)
    if a.unit != ctx.tenant or a.role != "co":
        raise Conflict("只有协办单位可以向主办单位提出协办意见 (only a co-unit sends views to the lead unit)")
    if a.state not in ("accepted", "in_progress", "returned"):
        raise Conflict(f"当前状态为「{items.STATE_LABELS.get(a.state, a.state)}」，签收后才能提出协办意见 "
                       f"(cannot send views in state {a.state})")
    lead = _lead_of(a)
    if lead is None:
        raise Conflict("交办单未列明主办单位，无法发送协办意见 (the assignment names no lead unit)")
    at = ctx.time.now()
    clocks = [c for c in await ClockRepository(ctx.session, ctx.tenant).of([a.id]) if c.kind == "feedback"]
    due = min((c.due for c in clocks), default=None)
    view = CoView(id=new_id(), item_ref=a.item_ref, assignment_id=a.id, co_unit=ctx.tenant, lead_unit=lead,
                  text=text, author=ctx.actor.ref, sent_at=at, due=due,
                  on_time=None if due is None else china_date(at) <= due)
    CoViewRepository(ctx.session, ctx.tenant).add(view)
    repo.record(a.item_ref, "co_views", ctx.actor.ref, a.state, a.state, note=lead, assignment_id=a.id)
    await items.outbox_add(ctx, "co.views", lead, a.item_ref, CoViewsSent(
        view.id, a.id, view.text, view.author, view.sent_at, view.due, view.on_time), at)
    return view


async def on_views(ctx: EventContext, env: Envelope, p: CoViewsSent) -> None:
    """At the lead unit: keep the views of a co-unit of the same item (named in the plan we were sent)."""
    repo = ItemRepository(ctx.session, ctx.tenant)
    mine = [a for a in await repo.assignments_for_ref(env.item_ref) if a.unit == ctx.tenant and a.role == "lead"]
    named = mine and any(u.get("unit") == env.from_tenant and u.get("role") == "co" for u in mine[0].plan_units or [])
    if not named:
        raise Refused(f"{env.from_tenant} is not a co-unit of {env.item_ref} led by {ctx.tenant}")
    views = CoViewRepository(ctx.session, ctx.tenant)
    if await views.get(p.view_id) is not None:
        raise Conflict(f"views {p.view_id} already kept here")
    views.add(CoView(id=p.view_id, item_ref=env.item_ref, assignment_id=p.assignment_id, co_unit=env.from_tenant,
                     lead_unit=ctx.tenant, text=p.text, author=p.author, sent_at=p.sent_at, due=p.due,
                     on_time=p.on_time))
    repo.record(env.item_ref, "co_views", env.actor, None, None, note=env.from_tenant, assignment_id=mine[0].id)


async def of_item(ctx: TenantContext, item_ref: str) -> list[CoView]:
    return await CoViewRepository(ctx.session, ctx.tenant).of_item(item_ref)


HANDLERS = {"co.views": on_views}
