"""HTTP routes for 延期申请: the unit asks on its assignment; the assigner decides on its item."""

from __future__ import annotations

from litestar import Controller, post

from duban.extensions import service
from duban.extensions.schemas import ExtensionApprove, ExtensionCreate, ExtensionRead
from duban.items.schemas import Reason
from duban.web import Ctx, FromPath, JSONBody


class ExtensionRequestController(Controller):
    path = "/api/assignments/{assignment_id:str}/extensions"
    tags = ["extensions"]

    @post("")
    async def request(self, ctx: Ctx, assignment_id: FromPath[str], data: JSONBody[ExtensionCreate]) -> ExtensionRead:
        """延期申请: before the due date, with the reason, the date needed and the progress so far."""
        ctx.policy.authorize(ctx.actor, "assignment", "request_extension")
        return ExtensionRead.of(await service.request(ctx, assignment_id, data))


class ExtensionDecisionController(Controller):
    path = "/api/items/{item_id:str}/extensions/{extension_id:str}"
    tags = ["extensions"]

    @post("/approve", status_code=200)
    async def approve(self, ctx: Ctx, item_id: FromPath[str], extension_id: FromPath[str],
                      data: JSONBody[ExtensionApprove | None] = None) -> ExtensionRead:
        """Approve (the date asked for, or ``new_due``)."""
        ctx.policy.authorize(ctx.actor, "item", "decide_extension")
        return ExtensionRead.of(await service.approve(ctx, item_id, extension_id, data or ExtensionApprove()))

    @post("/refuse", status_code=200)
    async def refuse(self, ctx: Ctx, item_id: FromPath[str], extension_id: FromPath[str],
                     data: JSONBody[Reason]) -> ExtensionRead:
        """Refuse, with the reason."""
        ctx.policy.authorize(ctx.actor, "item", "decide_extension")
        return ExtensionRead.of(await service.refuse(ctx, item_id, extension_id, data.reason))
