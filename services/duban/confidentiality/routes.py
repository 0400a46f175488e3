"""HTTP routes of 第八条: the 批示件 register and the items export. Each route: authorize, call one service
function, return."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from duban.confidentiality import service
from duban.confidentiality.levels import LABELS
from duban.confidentiality.repository import ConfidentialityRepository
from duban.confidentiality.schemas import InstructionCreate, InstructionLink, InstructionRead
from duban.errors import InvalidInput
from duban.lists.cursor import MAX_CURSOR, PageRequest
from duban.lists.query import ListQuery, item_query
from duban.web import Ctx, FromPath, JSONBody

YearQ = Annotated[int | None, QueryParameter(ge=2000, le=2100, description="only this year's instructions")]
LevelQ = Annotated[str | None, QueryParameter(description="only this level: public, internal, sensitive")]
LeaderQ = Annotated[str | None, QueryParameter(max_length=64, description="only this leader (code or name)")]
CursorQ = Annotated[str | None, QueryParameter(max_length=MAX_CURSOR, description="X-Next-Cursor of the page before")]
LimitQ = Annotated[int, QueryParameter(ge=1, le=500, description="rows per page")]


class InstructionController(Controller):
    path = "/api/instructions"
    tags = ["confidentiality"]

    @post("")
    async def register(self, ctx: Ctx, data: JSONBody[InstructionCreate]) -> InstructionRead:
        """批示件登记 (第八条): the registrar records a leader's written instruction — number (unique in its
        year), date (not in the future), leader, level (普通/内部/敏感; 秘密/机密/绝密 are refused: they go
        through the 涉密 channel) — and optionally the item it became."""
        ctx.policy.authorize(ctx.actor, "instruction", "register")
        return InstructionRead.of(await service.register(ctx, data))

    @get("")
    async def list_register(self, request: Request, ctx: Ctx, year: YearQ = None, level: LevelQ = None,
                            leader: LeaderQ = None, cursor: CursorQ = None, limit: LimitQ = 100
                            ) -> Response[list[InstructionRead]]:
        """The register, newest first, one page; the next page's cursor in ``X-Next-Cursor`` and ``Link``."""
        ctx.policy.authorize(ctx.actor, "instruction", "read")
        if level is not None and level not in LABELS:
            raise InvalidInput(f"密级 {level} 无效，应为 {'、'.join(LABELS)} 之一 (unknown level)")
        page = await ConfidentialityRepository(ctx.session, ctx.tenant).register(
            PageRequest(limit, cursor), year, level, leader)
        rows = [InstructionRead.of(r) for r in page.rows]
        if page.next_cursor is None:
            return Response(rows)
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
        link = f"{request.url.path}?{urlencode([*params, ('cursor', page.next_cursor)])}"
        return Response(rows, headers={"X-Next-Cursor": page.next_cursor, "Link": f'<{link}>; rel="next"'})

    @get("/{record_id:str}")
    async def read(self, ctx: Ctx, record_id: FromPath[str]) -> InstructionRead:
        """One registered 批示件."""
        ctx.policy.authorize(ctx.actor, "instruction", "read")
        return InstructionRead.of(await ConfidentialityRepository(ctx.session, ctx.tenant).get(record_id))

    @post("/{record_id:str}/link", status_code=200)
    async def link(self, ctx: Ctx, record_id: FromPath[str], data: JSONBody[InstructionLink]) -> InstructionRead:
        """Link the 批示件 to the item made of it; a protected document makes a draft item protected too."""
        ctx.policy.authorize(ctx.actor, "instruction", "register")
        return InstructionRead.of(await service.link(ctx, record_id, data.item_id))


class ItemExportController(Controller):
    path = "/api/items/export"
    tags = ["items"]

    @get("", dependencies={"list_query": Provide(item_query)}, media_type="text/csv")  # the document says CSV
    async def export(self, ctx: Ctx, list_query: NamedDependency[ListQuery]) -> Response[str]:
        """The items the filters select (the filters of ``GET /api/items``), as one CSV file. Refused (409)
        when the selection holds protected (敏感) items: 第八条 allows no bulk export of them."""
        ctx.policy.authorize(ctx.actor, "item", "export")
        body = await service.export_items(ctx, list_query.check(ctx).filters)
        return Response(body, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f"attachment; filename=\"items.csv\"; filename*=UTF-8''{quote('督查事项.csv')}",
            "Cache-Control": "no-store"})
