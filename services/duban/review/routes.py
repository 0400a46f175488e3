"""HTTP routes for the annual review (第十二条): as JSON and as an Excel workbook."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from litestar import Controller, Response, get
from litestar.params import QueryParameter

from duban.review import service
from duban.review.schemas import Review
from duban.review.xlsx import XLSX_TYPE, review_workbook
from duban.web import Ctx

Year = Annotated[int, QueryParameter(ge=2000, le=2100, description="the year reviewed (交办 in it)")]


class ReviewController(Controller):
    path = "/api"
    tags = ["review"]

    @get("/review")
    async def review(self, ctx: Ctx, year: Year) -> Review:
        """The year's review per unit and per person: handled, on time, late, overdue, average working days to
        first feedback and to completion (review/service.py defines each figure)."""
        ctx.policy.authorize(ctx.actor, "review", "read")
        return await service.review(ctx, year)

    @get("/review.xlsx", media_type=XLSX_TYPE)
    async def review_xlsx(self, ctx: Ctx, year: Year) -> Response[bytes]:
        """The same review as an Excel workbook (sheets 单位, 个人, 说明)."""
        ctx.policy.authorize(ctx.actor, "review", "read")
        found = await service.review(ctx, year)
        body = await anyio.to_thread.run_sync(review_workbook, found)
        return Response(body, media_type=XLSX_TYPE, headers={
            "Content-Disposition": f"attachment; filename=\"review-{year}.xlsx\"; "
                                   f"filename*=UTF-8''{year}%E5%B9%B4%E5%BA%A6%E8%80%83%E8%AF%84.xlsx"})
