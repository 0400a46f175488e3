"""Counting a tenant's own work, reporting it to the city when it changed, and the city's overview."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from duban.context import EventContext, TenantContext
from duban.errors import Refused
from duban.events.envelope import Envelope, FiguresReported
from duban.events.repository import OutboxRepository
from duban.figures.models import FigureReport
from duban.figures.repository import FigureRepository
from duban.figures.schemas import FiguresRead
from duban.tenancy.registry import Registry

COUNTS = ("open", "done", "overdue", "done_on_time",
          "received_open", "received_done", "received_overdue", "received_done_on_time")


def root_of(registry: Registry) -> str:
    """The tenant at the top of the network (the city 督查室's)."""
    return next(t.code for t in registry.tenants if t.parent is None)


async def current(session: AsyncSession, tenant: str, now: datetime, today) -> FiguresReported:  # noqa: ANN001
    repo = FigureRepository(session, tenant)
    own, received = await repo.count_items(today), await repo.count_received(today)
    return FiguresReported(tenant, *own, *received, as_of=now)


def _keep(row: FigureReport, figures: FiguresReported) -> None:
    for name in COUNTS:
        setattr(row, name, getattr(figures, name))
    row.as_of = figures.as_of


async def report(session: AsyncSession, tenant: str, registry: Registry, now: datetime, today, actor: str  # noqa: ANN001
                 ) -> bool:
    """Count this tenant's work; if it changed since the last report, keep it and send it to the city
    (in the caller's transaction). Returns whether anything was sent or kept."""
    figures = await current(session, tenant, now, today)
    repo = FigureRepository(session, tenant)
    mine = await repo.get(tenant)
    if mine is not None and all(getattr(mine, n) == getattr(figures, n) for n in COUNTS):
        return False
    if mine is None:
        mine = FigureReport(tenant=tenant)
        repo.add(mine)
    _keep(mine, figures)
    root = root_of(registry)
    if root != tenant:
        await OutboxRepository(session, tenant).add(kind="figures.reported", to_tenant=root,
                                                    item_ref=f"figures/{tenant}", actor=actor, payload=figures,
                                                    occurred_at=now)
    return True


async def on_reported(ctx: EventContext, env: Envelope, p: FiguresReported) -> None:
    """A tenant's figures reached the city: keep the newest."""
    if p.tenant != env.from_tenant:
        raise Refused(f"{env.from_tenant} reported figures for {p.tenant}")
    repo = FigureRepository(ctx.session, ctx.tenant)
    row = await repo.get(p.tenant)
    if row is None:
        row = FigureReport(tenant=p.tenant)
        repo.add(row)
    elif row.as_of > p.as_of:
        return
    _keep(row, p)


HANDLERS = {"figures.reported": on_reported}


async def overview(ctx: TenantContext) -> list[FiguresRead]:
    """Every tenant's figures as this tenant holds them (at the city: the whole network's)."""
    return [FiguresRead.of(r, ctx.registry) for r in await FigureRepository(ctx.session, ctx.tenant).all()]
