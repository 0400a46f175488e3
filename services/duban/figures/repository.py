"""SQL for the figures: counting one tenant's own work, and keeping the reports."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.deadlines.models import Clock
from duban.figures.models import FigureReport
from duban.items.models import Assignment, Item

OPEN_ITEMS = ("registered", "assigned", "in_progress", "completion_review")
DONE_ITEMS = ("completed", "archived", "closed")
DONE_ASSIGNMENTS = ("done", "closed")
OPEN_ASSIGNMENTS = ("issued", "accepted", "in_progress", "returned", "completion_requested")


class FigureRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def count_items(self, today: date) -> tuple[int, int, int, int]:
        """(open, done, overdue, done on time) of the items this tenant runs."""
        late = exists().where(Assignment.item_id == Item.id, Clock.assignment_id == Assignment.id,
                              Clock.kind == "completion", Clock.on_time.is_(False))
        row = (await self.session.execute(select(
            func.count(case((Item.state.in_(OPEN_ITEMS), 1))),
            func.count(case((Item.state.in_(DONE_ITEMS), 1))),
            func.count(case((and_(Item.state.in_(OPEN_ITEMS), Item.deadline < today), 1))),
            func.count(case((and_(Item.state.in_(DONE_ITEMS), ~late), 1))),
        ))).one()
        return tuple(int(v) for v in row)  # type: ignore[return-value]

    async def count_received(self, today: date) -> tuple[int, int, int, int]:
        """(open, done, overdue, done on time) of the assignments this tenant received."""
        on_time = exists().where(Clock.assignment_id == Assignment.id, Clock.kind == "completion",
                                 Clock.on_time.is_(True))
        row = (await self.session.execute(select(
            func.count(case((Assignment.state.in_(OPEN_ASSIGNMENTS), 1))),
            func.count(case((Assignment.state.in_(DONE_ASSIGNMENTS), 1))),
            func.count(case((and_(Assignment.state.in_(OPEN_ASSIGNMENTS), Assignment.state != "completion_requested",
                                  Assignment.deadline < today), 1))),
            func.count(case((and_(Assignment.state.in_(DONE_ASSIGNMENTS), on_time), 1))),
        ).where(Assignment.unit == self.tenant))).one()
        return tuple(int(v) for v in row)  # type: ignore[return-value]

    async def get(self, tenant: str) -> FigureReport | None:
        return await self.session.get(FigureReport, tenant)

    def add(self, report: FigureReport) -> None:
        self.session.add(report)

    async def all(self) -> list[FigureReport]:
        return list(await self.session.scalars(select(FigureReport).order_by(FigureReport.tenant)))
