"""The operator's view of received events: what was applied, what waits, what needs a decision."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide

from duban.events.inbox import Gap
from duban.events.models import InboxEvent
from duban.events.repository import InboxRepository
from duban.lists.query import ListQuery, inbox_query
from duban.web import Ctx, FromPath, JSONBody, Node


class InboxRead(msgspec.Struct):
    id: str
    kind: str
    from_tenant: str
    item_ref: str
    seq: int | None
    status: str
    reason: str | None
    duplicates: int
    received_at: datetime
    parked_at: datetime | None
    applied_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None

    @classmethod
    def of(cls, r: InboxEvent) -> InboxRead:
        return cls(r.id, r.kind, r.from_tenant, r.item_ref, r.seq, r.status, r.reason, r.duplicates, r.received_at,
                   r.parked_at, r.applied_at, r.resolved_by, r.resolved_at)


class GapRead(msgspec.Struct):
    item_ref: str
    from_tenant: str
    last_applied: int
    missing: list[int]
    parked: list[str]
    waiting_since: datetime
    overdue: bool

    @classmethod
    def of(cls, g: Gap) -> GapRead:
        return cls(g.item_ref, g.from_tenant, g.last_applied, g.missing, g.parked, g.waiting_since, g.overdue)


class SkipBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class InboxController(Controller):
    path = "/api/inbox"
    tags = ["events"]

    @get("", dependencies={"list_query": Provide(inbox_query)})
    async def list_inbox(self, ctx: Ctx, list_query: NamedDependency[ListQuery]) -> Response[list[InboxRead]]:
        """Events this tenant received, newest first, one page (``status``, ``from_tenant``; the next page's
        cursor in ``X-Next-Cursor`` and ``Link``)."""
        ctx.policy.authorize(ctx.actor, "inbox", "read")
        listing = list_query.check(ctx)
        f = listing.filters
        page = await InboxRepository(ctx.session, ctx.tenant).list(f.status, listing.page, f.from_tenant)
        return listing.respond([InboxRead.of(r) for r in page.rows], page.next_cursor)

    @get("/summary")
    async def summary(self, ctx: Ctx) -> dict[str, int]:
        """How many received events are in each status."""
        ctx.policy.authorize(ctx.actor, "inbox", "read")
        return await InboxRepository(ctx.session, ctx.tenant).counts()

    @get("/gaps")
    async def gaps(self, ctx: Ctx, platform: Node) -> list[GapRead]:
        """Items whose events wait for an earlier one that has not arrived (``overdue`` past the alert)."""
        ctx.policy.authorize(ctx.actor, "inbox", "read")
        return [GapRead.of(g) for g in await platform.inbox.gaps(ctx.session, ctx.tenant)]

    @post("/{event_id:str}/replay", status_code=200)
    async def replay(self, ctx: Ctx, platform: Node, event_id: FromPath[str]) -> InboxRead:
        """Apply a conflict again once its cause is fixed (409 with the reason if it still can't)."""
        ctx.policy.authorize(ctx.actor, "inbox", "replay")
        return InboxRead.of(await platform.inbox.replay(ctx.session, ctx.tenant, event_id, ctx.actor.ref))

    @post("/{event_id:str}/skip", status_code=200)
    async def skip(self, ctx: Ctx, platform: Node, event_id: FromPath[str], data: JSONBody[SkipBody]) -> InboxRead:
        """Decide a conflict is not to be applied, or give up the events missing before a parked one."""
        ctx.policy.authorize(ctx.actor, "inbox", "replay")
        return InboxRead.of(await platform.inbox.skip(ctx.session, ctx.tenant, event_id, ctx.actor.ref, data.reason))
