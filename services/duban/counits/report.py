"""What a lead unit's result report carries of its co-units' views, and how the assigner keeps them
(imported by the items domain, so it depends on nothing but its own repository)."""

from __future__ import annotations

import msgspec

from duban.context import EventContext, TenantContext
from duban.counits.models import CoView
from duban.counits.repository import CoViewRepository
from duban.counits.schemas import CoViewRead
from duban.errors import Refused
from duban.events.envelope import CoViewsSent, Envelope
from duban.items.models import Assignment


async def for_report(ctx: TenantContext, a: Assignment) -> list[dict]:
    """The views the lead unit holds, to go with its result report."""
    if a.role != "lead":
        return []
    return [msgspec.to_builtins(CoViewsSent(v.id, v.assignment_id, v.text, v.author, v.sent_at, v.due, v.on_time))
            | {"co_unit": v.co_unit} for v in await CoViewRepository(ctx.session, ctx.tenant).of_item(a.item_ref)]


async def keep_reported(ctx: EventContext, env: Envelope, a: Assignment, views: list[dict]) -> None:
    """At the assigner: keep the views the lead's report carried (each once), for co-units of this item."""
    repo = CoViewRepository(ctx.session, ctx.tenant)
    co_units = {u["unit"] for u in a.plan_units or [] if u.get("role") == "co"}
    for raw in views:
        unit = raw.get("co_unit")
        if unit not in co_units:
            raise Refused(f"the report carries views of {unit}, not a co-unit of this item")
        p = msgspec.convert({k: v for k, v in raw.items() if k != "co_unit"}, CoViewsSent)
        if await repo.get(p.view_id) is None:
            repo.add(CoView(id=p.view_id, item_ref=env.item_ref, assignment_id=p.assignment_id, co_unit=unit,
                            lead_unit=env.from_tenant, text=p.text, author=p.author, sent_at=p.sent_at, due=p.due,
                            on_time=p.on_time))


async def views_of(ctx: TenantContext, item_ref: str) -> list[CoViewRead]:
    """Every co-unit's views this tenant holds on the item."""
    return [CoViewRead.of(v) for v in await CoViewRepository(ctx.session, ctx.tenant).of_item(item_ref)]
