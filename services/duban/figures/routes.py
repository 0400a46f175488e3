"""HTTP routes for the figures of the network's supervision work (第九条)."""

from __future__ import annotations

from litestar import Controller, get, post

from duban.figures import service
from duban.figures.schemas import FiguresRead
from duban.web import Ctx


class FiguresController(Controller):
    path = "/api/figures"
    tags = ["figures"]

    @get("")
    async def overview(self, ctx: Ctx) -> list[FiguresRead]:
        """Each tenant's own supervision work: open, done, overdue, on-time rate (at the city: every tenant)."""
        ctx.policy.authorize(ctx.actor, "figures", "read")
        return await service.overview(ctx)

    @post("/report", status_code=200)
    async def report_now(self, ctx: Ctx) -> list[FiguresRead]:
        """Count this tenant's work now and send it to the city if it changed (the job does it every
        ``figures_report_minutes``)."""
        ctx.policy.authorize(ctx.actor, "figures", "report")
        await service.report(ctx.session, ctx.tenant, ctx.registry, ctx.time.now(), ctx.time.today(), ctx.actor.ref)
        return [r for r in await service.overview(ctx) if r.tenant == ctx.tenant]
