"""HTTP routes for 协办 views."""

from __future__ import annotations

from litestar import Controller, get, post

from duban.counits import service
from duban.counits.schemas import CoViewCreate, CoViewRead
from duban.items.repository import ItemRepository
from duban.items.service import item_ref
from duban.web import Ctx, FromPath, JSONBody


class CoViewController(Controller):
    path = "/api/assignments/{assignment_id:str}/co-views"
    tags = ["co-units"]

    @post("")
    async def send(self, ctx: Ctx, assignment_id: FromPath[str], data: JSONBody[CoViewCreate]) -> CoViewRead:
        """A co-unit sends its views to the lead unit (within its own feedback due date)."""
        ctx.policy.authorize(ctx.actor, "assignment", "feedback")
        return CoViewRead.of(await service.send(ctx, assignment_id, data.text))

    @get("")
    async def list_views(self, ctx: Ctx, assignment_id: FromPath[str]) -> list[CoViewRead]:
        """The co-units' views on this assignment's item, as this unit holds them."""
        ctx.policy.authorize(ctx.actor, "assignment", "read")
        a = await ItemRepository(ctx.session, ctx.tenant).assignment(assignment_id)
        return [CoViewRead.of(v) for v in await service.of_item(ctx, a.item_ref)]


class ItemCoViewController(Controller):
    path = "/api/items/{item_id:str}/co-views"
    tags = ["co-units"]

    @get("")
    async def list_views(self, ctx: Ctx, item_id: FromPath[str]) -> list[CoViewRead]:
        """The co-units' views the lead units' result reports carried to this item."""
        ctx.policy.authorize(ctx.actor, "item", "read")
        item = await ItemRepository(ctx.session, ctx.tenant).get(item_id)
        return [CoViewRead.of(v) for v in await service.of_item(ctx, item_ref(ctx.tenant, item.id))]
