"""Loading a year's holiday notice into the node, and keeping the node's ``WorkCalendar`` current.

The calendar is reference data of the whole network, yet storage is per tenant: a load writes the
same notice into every tenant the node hosts, each in a transaction of its own (a node's tenants never
share one), so it is not a unit of work of the caller's tenant and commits by itself. Loading a year
again replaces it. The node's calendar takes, per year, the newest load found in its tenants' tables.

A load made elsewhere (``duban calendar load`` from a shell, another node on the same database) reaches
a running node within ``REFRESH_SECONDS`` (``watch``), and at once for a request that asks through
``current``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from duban.calendar.models import CalendarYear
from duban.calendar.notice import Notice, NoticeError, notice_from_data
from duban.calendar.repository import CalendarRepository
from duban.calendar.workdays import LoadedNotice, WorkCalendar
from duban.db.base import utcnow
from duban.db.database import Database
from duban.errors import Forbidden, ServiceUnavailable
from duban.policy.policy import Actor
from duban.tenancy.registry import Registry

if TYPE_CHECKING:
    from duban.platform import Platform

log = logging.getLogger("duban.calendar")
REFRESH_SECONDS = 30.0


@dataclass
class LoadResult:
    """What a load did: the notice as stored, the tenants that hold it now, and those that failed."""

    loaded: LoadedNotice
    tenants: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def root_tenant(registry: Registry) -> str:
    """The registry's root tenant (the city office): the only one whose administrator loads the calendar."""
    return next(t.code for t in registry.tenants if t.parent is None)


# Called in each tenant's load transaction with the corrected calendar: moves what was counted on the old one.
Corrected = Callable[[AsyncSession, str, WorkCalendar], Awaitable[object]]


async def load_notice(db: Database, notice: Notice, loaded_by: str, base: WorkCalendar | None = None,
                      corrected: Corrected | None = None) -> LoadResult:
    """Write the notice into every tenant of ``db``, each in its own transaction; failures are collected.
    With ``corrected``, each tenant's due dates move to ``base`` corrected by the notice in the same
    transaction (a calendar correction, deadlines/correction.py)."""
    result = LoadResult(LoadedNotice(notice, loaded_by, utcnow()))
    fixed = (base or WorkCalendar()).with_loaded(result.loaded)
    for tenant in db.tenants:
        try:
            async with db.transaction(tenant) as session:
                await CalendarRepository(session, tenant).put(notice, loaded_by, result.loaded.loaded_at)
                if corrected is not None:
                    await corrected(session, tenant, fixed)
        except SQLAlchemyError as exc:
            log.error("calendar %s not stored in %s: %s", notice.year, tenant, exc)
            result.failed[tenant] = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        else:
            result.tenants.append(tenant)
    if result.tenants:
        log.info("calendar %s (%s) loaded by %s into %d tenants", notice.year, notice.notice, loaded_by,
                 len(result.tenants))
    return result


def incomplete(result: LoadResult) -> ServiceUnavailable:
    """The error for a load that some tenants did not take (loading again is safe)."""
    failed = "; ".join(f"{t}: {why}" for t, why in result.failed.items())
    return ServiceUnavailable(
        f"{result.loaded.notice.year}年节假日安排只写入了 {len(result.tenants)} 个单位，{len(result.failed)} 个失败"
        f"（数据库是否已执行 duban migrate？），请排除后重新载入，重复载入是安全的 (stored in {len(result.tenants)} "
        f"tenants, failed in {len(result.failed)}: {failed}; loading again is safe)",
        detail={"tenants": result.tenants, "failed": result.failed},
    )


def _loaded(row: CalendarYear, tenant: str) -> LoadedNotice | None:
    try:
        notice = notice_from_data(row.notice, f"{tenant}: calendar_years {row.year}")
    except NoticeError as exc:  # refused, so the year counts as missing: never computed from a bad row
        log.error("%s", exc.message)
        return None
    return LoadedNotice(notice, row.loaded_by, row.loaded_at)


def correction(notice: Notice, by: str, today: date, registry: Registry | None) -> Corrected:
    """What a load does to the due dates already counted: recompute them on the corrected calendar."""
    from duban.deadlines.correction import recompute

    reason = f"法定节假日安排更正（{notice.notice or notice.year}）(calendar corrected)"

    async def move(session: AsyncSession, tenant: str, cal: WorkCalendar) -> int:
        return await recompute(session, tenant, cal, reason, by, today, registry)

    return move


async def read_calendar(db: Database) -> WorkCalendar:
    """The calendar of the tenants of ``db``: the package's data, and per year the newest load in their
    tables. For ``Platform.start`` and for commands that run without a node."""
    newest: dict[int, LoadedNotice] = {}
    for tenant in db.tenants:
        try:
            async with db.transaction(tenant) as session:
                rows = await CalendarRepository(session, tenant).all()
        except SQLAlchemyError as exc:
            raise ServiceUnavailable(
                f"无法读取单位 {tenant} 的节假日表，数据库是否已执行 duban migrate？ (cannot read calendar_years of "
                f"{tenant}: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}; run `duban migrate`)") from exc
        for row in rows:
            if row.year not in newest or row.loaded_at > newest[row.year].loaded_at:
                entry = _loaded(row, tenant)
                if entry is not None:
                    newest[row.year] = entry
    return WorkCalendar(newest.values())


async def _take_newer(platform: Platform, session: AsyncSession, tenant: str) -> bool:
    repo = CalendarRepository(session, tenant)
    known = platform.calendar.loaded_at()
    newer = [year for year, at in (await repo.versions()).items() if year not in known or at > known[year]]
    if not newer:
        return False
    entries = [e for e in (_loaded(row, tenant) for row in await repo.of_years(newer)) if e is not None]
    if entries:
        platform.calendar = platform.calendar.with_loaded(*entries)
        log.info("calendar: took the newer load of %s from %s", ", ".join(str(e.notice.year) for e in entries),
                 tenant)
    return bool(entries)


async def current(platform: Platform, session: AsyncSession, tenant: str) -> WorkCalendar:
    """The node's calendar, after taking any newer load that this tenant's table holds (one small query
    in the caller's transaction)."""
    await _take_newer(platform, session, tenant)
    return platform.calendar


async def refresh(platform: Platform) -> bool:
    """Take any newer load from every hosted tenant's table; True if the calendar changed."""
    changed = False
    for tenant in platform.tenants:
        async with platform.db.transaction(tenant) as session:
            changed |= await _take_newer(platform, session, tenant)
    return changed


async def watch(platform: Platform, every: float = REFRESH_SECONDS) -> None:
    """Background task of a running node: look for loads made elsewhere every ``every`` seconds."""
    while True:
        await asyncio.sleep(every)
        try:
            await refresh(platform)
        except Exception:  # noqa: BLE001 — a database hiccup must not end the watch; the next round retries
            log.warning("calendar refresh failed; retrying in %.0f s", every, exc_info=True)


async def load(platform: Platform, actor: Actor, data: object) -> LoadedNotice:
    """The API's load: a notice (decoded JSON) into every hosted tenant, by an administrator of the
    registry's root tenant; the node's calendar takes it at once."""
    root = root_tenant(platform.registry)
    if actor.tenant != root:
        raise Forbidden(f"节假日安排由{platform.registry.get(root).name}的系统管理员统一载入 (only an administrator "
                        f"of {root} may load the calendar)")
    notice = notice_from_data(data)
    result = await load_notice(platform.db, notice, actor.ref, platform.calendar,
                               correction(notice, actor.ref, platform.time.today(), platform.registry))
    if result.tenants:
        platform.calendar = platform.calendar.with_loaded(result.loaded)
    if result.failed:
        raise incomplete(result)
    return result.loaded
