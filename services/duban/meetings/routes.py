"""HTTP routes for meetings: record one with its agreed list (every entry becomes an item), list them,
read one with its items' progress."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import QueryParameter

from duban.meetings import service
from duban.meetings.repository import MeetingRepository
from duban.meetings.schemas import MeetingCreate, MeetingDetail, MeetingKind, MeetingRead
from duban.web import Ctx, FromPath, JSONBody, Limit, Offset

KindFilter = Annotated[MeetingKind | None, QueryParameter(name="kind", description="only this kind of meeting")]


class MeetingController(Controller):
    path = "/api/meetings"
    tags = ["meetings"]

    @post("")
    async def create(self, ctx: Ctx, data: JSONBody[MeetingCreate]) -> MeetingDetail:
        """Record a meeting; every entry of its agreed list becomes an item (all of them, or none)."""
        ctx.policy.authorize(ctx.actor, "meeting", "create")
        if data.submit:
            ctx.policy.authorize(ctx.actor, "item", "submit")
        meeting, _ = await service.record(ctx, data)
        return await service.detail(ctx, meeting.id)

    @get("")
    async def list_meetings(self, ctx: Ctx, kind: KindFilter = None, limit: Limit = 100,
                            offset: Offset = 0) -> list[MeetingRead]:
        """Meetings, the latest first, with the number of items each made."""
        ctx.policy.authorize(ctx.actor, "meeting", "read")
        found = await MeetingRepository(ctx.session, ctx.tenant).list(kind, limit, offset)
        return [MeetingRead.of(meeting, n) for meeting, n in found]

    @get("/{meeting_id:str}")
    async def read(self, ctx: Ctx, meeting_id: FromPath[str]) -> MeetingDetail:
        """One meeting with its agreed items' progress (state, light, due dates)."""
        ctx.policy.authorize(ctx.actor, "meeting", "read")
        return await service.detail(ctx, meeting_id)
