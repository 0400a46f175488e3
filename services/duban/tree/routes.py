"""HTTP routes for 分解 and the split tree."""

from __future__ import annotations

from litestar import Controller, get, post

from duban.items.routes import _read
from duban.items.schemas import ItemDetail, ItemRead, Reason
from duban.items.views import assignment_views, item_views
from duban.tree import service
from duban.tree.schemas import PartCreate, TreeRead
from duban.web import Ctx, FromPath, JSONBody


class PartController(Controller):
    path = "/api/assignments/{assignment_id:str}"
    tags = ["tree"]

    @post("/parts")
    async def split(self, ctx: Ctx, assignment_id: FromPath[str], data: JSONBody[PartCreate]) -> ItemDetail:
        """分解: a part of this received assignment for units below, assigned at once."""
        ctx.policy.authorize(ctx.actor, "assignment", "split")
        part, made = await service.split(ctx, assignment_id, data)
        return ItemDetail((await item_views(ctx, [part]))[0], await assignment_views(ctx, made), [], [])

    @get("/tree")
    async def tree(self, ctx: Ctx, assignment_id: FromPath[str]) -> TreeRead:
        """This level's subtree of a received assignment: its parts and every unit below them."""
        ctx.policy.authorize(ctx.actor, "assignment", "read")
        return await service.assignment_tree(ctx, assignment_id)


class TreeController(Controller):
    path = "/api/items/{item_id:str}"
    tags = ["tree"]

    @get("/tree")
    async def tree(self, ctx: Ctx, item_id: FromPath[str]) -> TreeRead:
        """The item's whole split tree: each unit at each level with state, due dates, light, last feedback."""
        ctx.policy.authorize(ctx.actor, "item", "read")
        return await service.item_tree(ctx, item_id)

    @post("/close", status_code=200)
    async def close(self, ctx: Ctx, item_id: FromPath[str], data: JSONBody[Reason]) -> ItemRead:
        """Close a part without waiting for its units (with the reason)."""
        ctx.policy.authorize(ctx.actor, "item", "close")
        return _read(ctx, await service.close_part(ctx, item_id, data.reason))
