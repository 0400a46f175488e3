"""HTTP routes of the 台账: import a sheet of items, export the items or the queue as one, the template.
Each route: authorize, call one service function, return."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import IO, Annotated, Any, Literal
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter
from litestar.response import Stream

from duban.errors import TooLarge
from duban.ledgers import export, service, sheet
from duban.ledgers.schemas import LedgerImportRead
from duban.lists.query import ListQuery, item_query, queue_query
from duban.openapi import ErrorRead
from duban.policy.policy import Actor
from duban.web import Ctx

ModeQ = Annotated[Literal["all", "good-rows", "check"], QueryParameter(
    description="all: 任何一行有误则全部不导入 (all or nothing); good-rows: 只导入无误的行; check: 只检查，不导入")]
GroupQ = Annotated[str | None, QueryParameter(
    max_length=32, description="督查组 code: the group of the items (default: the group of each row's 责任领导)")]
DivisionQ = Annotated[str | None, QueryParameter(
    max_length=100, description="责任处室 the items record (default: the 督查组's name)")]
CHUNK = 64 * 1024
PROTECTED = {409: ResponseSpec(ErrorRead, description="所选范围含敏感事项，按第八条不得批量导出 (the selection holds "
                                                      "protected items: no bulk export)", generate_examples=False)}


def _download(name: str, ascii_name: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store"}


async def _chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := file.read(CHUNK):
            yield chunk
    finally:
        file.close()


def _stream(file: IO[bytes], rows: int, name: str, ascii_name: str) -> Stream:
    size = file.seek(0, 2)
    file.seek(0)
    return Stream(_chunks(file), media_type=sheet.XLSX,
                  headers={**_download(name, ascii_name), "Content-Length": str(size), "X-Rows": str(rows)})


async def _upload(request: Request[Actor, Any, Any]) -> tuple[str, bytes]:
    """The ``file`` part of a multipart/form-data request, read up to the limit (413 past it)."""
    from duban.attachments.upload import file_of  # noqa: PLC0415 — the streaming form reader uploads share

    limit_mb = -(-sheet.MAX_BYTES // (1024 * 1024))
    try:
        upload = await file_of(request, limit_mb)
    except TooLarge:
        raise sheet.too_large() from None
    data = bytearray()
    async for chunk in upload.chunks:
        data += chunk
        if len(data) > sheet.MAX_BYTES:
            raise sheet.too_large()
    return upload.filename, bytes(data)


class LedgerImportController(Controller):
    path = "/api/items/import"
    tags = ["ledgers"]

    # No body limit here: the file is read as it arrives and the 台账 limit applied to it (413 in Chinese).
    # The refusal of an all-or-nothing import (400) is an ErrorRead carrying the report's fields as well.
    @post("", status_code=200, request_max_body_size=None, responses={
        413: ResponseSpec(ErrorRead, description="台账文件超过上限 (the file is over the limit)",
                          generate_examples=False)})
    async def import_ledger(self, ctx: Ctx, request: Request[Actor, Any, Any], mode: ModeQ = "all",
                            group: GroupQ = None, division: DivisionQ = None) -> Response[LedgerImportRead]:
        """Import a 台账 (.xlsx, multipart/form-data, field ``file``): one draft item per row, as ``POST
        /api/items`` makes it; every bad row reported (row, column, reason); all or nothing unless
        ``mode=good-rows``; a row imported before is skipped. The report says what was created and skipped."""
        ctx.policy.authorize(ctx.actor, "item", "import")
        filename, data = await _upload(request)
        report = await service.import_ledger(ctx, filename, data, service.Options(mode, group, division))
        return Response(report, status_code=report.status_code)


class ItemLedgerExportController(Controller):
    path = "/api/items/export.xlsx"
    tags = ["ledgers"]

    @get("", dependencies={"list_query": Provide(item_query)}, media_type=sheet.XLSX, responses=PROTECTED)
    async def export(self, ctx: Ctx, list_query: NamedDependency[ListQuery]) -> Stream:
        """The items the filters select (the filters of ``GET /api/items``) as a 台账 workbook, in the 台账's
        columns, with each item's light and next due date. Refused (409) when the selection holds protected
        (敏感) items: 第八条 allows no bulk export of them."""
        ctx.policy.authorize(ctx.actor, "item", "export")
        file, rows = await export.export_items(ctx, list_query.check(ctx).filters)
        return _stream(file, rows, "督查事项台账.xlsx", "items.xlsx")


class AssignmentLedgerExportController(Controller):
    path = "/api/assignments/export.xlsx"
    tags = ["ledgers"]

    @get("", dependencies={"list_query": Provide(queue_query)}, media_type=sheet.XLSX, responses=PROTECTED)
    async def export(self, ctx: Ctx, list_query: NamedDependency[ListQuery]) -> Stream:
        """This tenant's queue as the filters select it (those of ``GET /api/assignments``) as a 台账 workbook,
        with each assignment's light and next due date. Refused (409) when it holds protected assignments."""
        ctx.policy.authorize(ctx.actor, "assignment", "export")
        file, rows = await export.export_assignments(ctx, list_query.check(ctx).filters)
        return _stream(file, rows, "承办任务台账.xlsx", "assignments.xlsx")


class LedgerTemplateController(Controller):
    path = "/api/ledgers"
    tags = ["ledgers"]

    @get("/template.xlsx", media_type=sheet.XLSX)
    async def template(self, ctx: Ctx) -> Response[bytes]:
        """The 台账 template to fill in and import: the header, a sample row, the 完成状态 list, the names of
        this tenant's units and the leaders."""
        ctx.policy.authorize(ctx.actor, "item", "import")
        body = await asyncio.to_thread(export.template, ctx)
        return Response(body, media_type=sheet.XLSX, headers=_download("督查事项台账导入模板.xlsx", "template.xlsx"))
