"""SQL for one tenant's loaded holiday notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.calendar.models import CalendarYear
from duban.calendar.notice import Notice


class CalendarRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def put(self, notice: Notice, loaded_by: str, loaded_at: datetime) -> None:
        """Store a year's notice, replacing any earlier load of that year."""
        row = await self.session.get(CalendarYear, notice.year)
        if row is None:
            row = CalendarYear(year=notice.year)
            self.session.add(row)
        row.notice, row.loaded_by, row.loaded_at = notice.to_builtins(), loaded_by, loaded_at
        await self.session.flush()

    async def all(self) -> list[CalendarYear]:
        """Every loaded year, oldest year first."""
        return list((await self.session.execute(select(CalendarYear).order_by(CalendarYear.year))).scalars())

    async def versions(self) -> dict[int, datetime]:
        """When each year was last loaded (a cheap look, to see whether anything changed)."""
        rows = await self.session.execute(select(CalendarYear.year, CalendarYear.loaded_at))
        return {year: at for year, at in rows}

    async def of_years(self, years: list[int]) -> list[CalendarYear]:
        """The rows of some years."""
        return list((await self.session.execute(select(CalendarYear).where(CalendarYear.year.in_(years)))).scalars())
