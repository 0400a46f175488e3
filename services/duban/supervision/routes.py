"""HTTP route for 督办 records (they are read with the item and the assignment)."""

from __future__ import annotations

from litestar import Controller, post

from duban.supervision import service
from duban.supervision.schemas import SupervisionCreate, SupervisionRead
from duban.web import Ctx, FromPath, JSONBody


class SupervisionController(Controller):
    path = "/api/items/{item_id:str}/supervisions"
    tags = ["supervision"]

    @post("")
    async def record(self, ctx: Ctx, item_id: FromPath[str], data: JSONBody[SupervisionCreate]) -> SupervisionRead:
        """Record a 督办 (written, on-site, research or joint) on the item or one of its units."""
        ctx.policy.authorize(ctx.actor, "item", "supervise")
        return SupervisionRead.of(await service.record(ctx, item_id, data))
