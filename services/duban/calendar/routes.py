"""The working-day calendar: read a year, count working days, load a year's notice."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.params import QueryParameter

from duban.calendar import service
from duban.calendar.schemas import AfterRead, CalendarYearRead
from duban.web import Ctx, FromPath, JSONBody, Node

Day = Annotated[date, QueryParameter(name="date", description="YYYY-MM-DD")]
Count = Annotated[int, QueryParameter(ge=-3650, le=3650, description="working days (negative: before)")]


class CalendarController(Controller):
    path = "/api/calendar"
    tags = ["calendar"]

    @get("/{year:int}")
    async def read(self, ctx: Ctx, platform: Node, year: FromPath[int]) -> CalendarYearRead:
        """A year's holidays and make-up working days, and where they come from (422 for a year without data)."""
        ctx.policy.authorize(ctx.actor, "calendar", "read")
        return CalendarYearRead.of(await service.current(platform, ctx.session, ctx.tenant), year)

    @get("/after")
    async def after(self, ctx: Ctx, platform: Node, day: Day, n: Count) -> AfterRead:
        """The date ``n`` working days after ``date`` (422 if it needs a year without data)."""
        ctx.policy.authorize(ctx.actor, "calendar", "read")
        return AfterRead(day, n, (await service.current(platform, ctx.session, ctx.tenant)).add_workdays(day, n))

    @post("", status_code=200)
    async def load(self, ctx: Ctx, platform: Node, data: JSONBody[dict[str, Any]]) -> CalendarYearRead:
        """Load (or replace) a year's 国务院办公厅 holiday notice into every tenant of this node; only an
        administrator of the city office. The body is the notice file's structure as JSON."""
        ctx.policy.authorize(ctx.actor, "calendar", "load")
        loaded = await service.load(platform, ctx.actor, data)
        return CalendarYearRead.of(platform.calendar, loaded.notice.year)
