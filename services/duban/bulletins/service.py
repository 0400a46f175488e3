"""Issuing a 《督查通报》: check the period, compute its figures (figures.py) from the tenant's own work,
take the next 第N期 of the year from the gapless counter in the same transaction, keep the bulletin and
audit it. The renditions are made from the stored snapshot, off the event loop (documents/render.py)."""

from __future__ import annotations

from datetime import UTC, date

from duban.audit import service as audit
from duban.bulletins.document import bulletin_document
from duban.bulletins.figures import bulletin_figures
from duban.bulletins.models import Bulletin
from duban.bulletins.repository import BulletinRepository
from duban.bulletins.schemas import BulletinCreate
from duban.context import TenantContext
from duban.db.base import new_id
from duban.documents.render import DOCX_TYPE, PDF_TYPE, render_async
from duban.errors import InvalidInput
from duban.numbering.repository import CounterRepository

FORMATS = {"docx": DOCX_TYPE, "pdf": PDF_TYPE}
EARLIEST = date(2000, 1, 1)
MAX_DAYS = 3 * 366  # a bulletin covers at most about three years


def unit_names(ctx: TenantContext) -> dict[str, str]:
    """Every unit code → name, in the registry's order (the 附件 table's order)."""
    return {t.code: t.name for t in ctx.registry.tenants}


def check_period(start: date, end: date, today: date) -> None:
    if start > end:
        raise InvalidInput(f"统计期起始日 {start} 晚于截止日 {end} (the period's first day is after its last day)")
    if end > today:
        raise InvalidInput(f"统计期截止日 {end} 晚于今天 {today}：期末情况尚不可知 "
                           f"(the period must end today or earlier)")
    if start < EARLIEST:
        raise InvalidInput(f"统计期起始日 {start} 过早 (the period starts before {EARLIEST})")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("统计期不能超过三年 (a bulletin covers at most three years)")


async def issue(ctx: TenantContext, data: BulletinCreate) -> Bulletin:
    """Compute and keep the next bulletin of the year for the period."""
    today = ctx.time.today()
    check_period(data.period_from, data.period_to, today)
    requirements = (data.requirements or "").strip() or None
    repo = BulletinRepository(ctx.session, ctx.tenant)
    tasks = await repo.tasks(data.period_from, data.period_to)
    figures = bulletin_figures(tasks, data.period_from, data.period_to, unit_names(ctx), ctx.calendar)
    number = await CounterRepository(ctx.session, ctx.tenant).next(f"bulletin:{today.year}")
    now = ctx.time.now().astimezone(UTC)
    bulletin = Bulletin(id=new_id(), year=today.year, number=number, period_from=data.period_from,
                        period_to=data.period_to, requirements=requirements, figures=figures,
                        created_by=ctx.actor.ref, created_at=now)
    repo.add(bulletin)
    await audit.record(ctx.session, ctx.tenant, ctx.actor.ref, "bulletin_issued", f"bulletin/{bulletin.id}", now,
                       f"{today.year}年第{number}期 {data.period_from}至{data.period_to}")
    return bulletin


async def rendition(ctx: TenantContext, bulletin_id: str, fmt: str) -> tuple[Bulletin, bytes]:
    """The stored bulletin as DOCX or PDF bytes (rendered in a worker thread)."""
    bulletin = await BulletinRepository(ctx.session, ctx.tenant).get(bulletin_id)
    return bulletin, await render_async(bulletin_document(bulletin, ctx.registry, ctx.tenant), fmt)
