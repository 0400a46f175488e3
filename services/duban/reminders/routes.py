"""HTTP routes for 催办: by hand on an item, and the list flagged for the next 通报."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide

from duban.confidentiality import access
from duban.lists.query import ListQuery, plain_query
from duban.reminders import service
from duban.reminders.repository import ReminderRepository
from duban.reminders.schemas import ReminderCreate, ReminderRead
from duban.web import Ctx, FromPath, JSONBody


class ReminderController(Controller):
    path = "/api"
    tags = ["reminders"]

    @post("/items/{item_id:str}/reminders")
    async def remind(self, ctx: Ctx, item_id: FromPath[str], data: JSONBody[ReminderCreate]) -> list[ReminderRead]:
        """催办 by hand, with a note, to one unit or every unit still working."""
        ctx.policy.authorize(ctx.actor, "item", "remind")
        return [ReminderRead.of(r) for r in await service.remind(ctx, item_id, data)]

    @get("/reminders/flagged", dependencies={"list_query": Provide(plain_query)})
    async def flagged(self, ctx: Ctx, list_query: NamedDependency[ListQuery]) -> Response[list[ReminderRead]]:
        """Units still late 5 working days after a due date: to be named in the next 通报; newest first, one
        page (the next page's cursor in ``X-Next-Cursor`` and ``Link``)."""
        ctx.policy.authorize(ctx.actor, "item", "read")
        listing = list_query.check(ctx)
        page = await ReminderRepository(ctx.session, ctx.tenant).flagged(listing.page, access.named_to(ctx))
        return listing.respond([ReminderRead.of(r) for r in page.rows], page.next_cursor)
