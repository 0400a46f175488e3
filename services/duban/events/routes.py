"""The operator's view of received events (rejected ones are kept here, not dropped)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery

from duban.events.repository import InboxRepository
from duban.web import Ctx


class InboxRead(msgspec.Struct):
    id: str
    kind: str
    from_tenant: str
    item_ref: str
    status: str
    reason: str | None
    duplicates: int
    received_at: datetime


class InboxController(Controller):
    path = "/api/inbox"
    tags = ["events"]

    @get("")
    async def list_inbox(self, ctx: Ctx,
                         status: FromQuery[Literal["applied", "rejected"] | None] = None) -> list[InboxRead]:
        """Events this tenant received."""
        ctx.policy.authorize(ctx.actor, "inbox", "read")
        rows = await InboxRepository(ctx.session, ctx.tenant).list(status)
        return [InboxRead(r.id, r.kind, r.from_tenant, r.item_ref, r.status, r.reason, r.duplicates, r.received_at)
                for r in rows]
