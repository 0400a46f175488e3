"""The caller's own notifications: list, count the unread, mark read. Nobody sees anyone else's."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import QueryParameter

from duban.notifications import service
from duban.notifications.schemas import NotificationRead, NotificationSummary, ReadAllRead
from duban.web import Ctx, FromPath, Limit, Offset

UnreadFilter = Annotated[bool, QueryParameter(description="only the unread ones")]


class NotificationController(Controller):
    path = "/api/notifications"
    tags = ["notifications"]

    @get("")
    async def list_notifications(self, ctx: Ctx, unread: UnreadFilter = False, limit: Limit = 100,
                                 offset: Offset = 0) -> list[NotificationRead]:
        """The caller's notifications, newest first (``unread=true``: only the unread)."""
        ctx.policy.authorize(ctx.actor, "notification", "read")
        return [NotificationRead.of(n) for n in await service.list_mine(ctx, unread, limit, offset)]

    @get("/summary")
    async def summary(self, ctx: Ctx) -> NotificationSummary:
        """How many of the caller's notifications are unread."""
        ctx.policy.authorize(ctx.actor, "notification", "read")
        return NotificationSummary(await service.unread_count(ctx))

    @post("/{notification_id:str}/read", status_code=200)
    async def read(self, ctx: Ctx, notification_id: FromPath[str]) -> NotificationRead:
        """Mark one of the caller's notifications read."""
        ctx.policy.authorize(ctx.actor, "notification", "update")
        return NotificationRead.of(await service.mark_read(ctx, notification_id))

    @post("/read-all", status_code=200)
    async def read_all(self, ctx: Ctx) -> ReadAllRead:
        """Mark all of the caller's notifications read."""
        ctx.policy.authorize(ctx.actor, "notification", "update")
        return ReadAllRead(await service.mark_all_read(ctx))
