"""SQL for the deadline clocks of one tenant."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.db.prepared import Row, Shapes, chunked, ids_parameters
from duban.deadlines.models import OPEN, Clock


def _clocks_of(n: int) -> Select:
    return (select(*Clock.__table__.columns).where(Clock.assignment_id.in_(ids_parameters(n)))
            .order_by(Clock.assignment_id, Clock.due, Clock.kind, Clock.seq))


_CLOCKS_OF = Shapes(_clocks_of)


class ClockRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    def add(self, clock: Clock) -> None:
        self.session.add(clock)

    async def of(self, assignment_ids: list[str]) -> list[Clock]:
        """The clocks of some assignments, by assignment, kind and sequence."""
        if not assignment_ids:
            return []
        return list(await self.session.scalars(
            select(Clock).where(Clock.assignment_id.in_(assignment_ids))
            .order_by(Clock.assignment_id, Clock.due, Clock.kind, Clock.seq)))

    async def rows_of(self, assignment_ids: list[str]) -> list[Row]:
        """``of`` as rows, for read views (a prepared statement: db/prepared.py)."""
        rows: list[Row] = []
        for n, chunk in chunked(assignment_ids):
            rows += await _CLOCKS_OF(n).rows(self.session, **chunk)
        return rows

    async def open_of(self, assignment_id: str, *kinds: str) -> list[Clock]:
        """An assignment's open clocks of some kinds, earliest due first."""
        return list(await self.session.scalars(
            select(Clock).where(Clock.assignment_id == assignment_id, Clock.kind.in_(kinds), Clock.state == OPEN)
            .order_by(Clock.due, Clock.seq)))

    async def last_of(self, assignment_id: str, kind: str) -> Clock | None:
        """The most recent clock of a kind (the highest sequence number)."""
        return (await self.session.scalars(
            select(Clock).where(Clock.assignment_id == assignment_id, Clock.kind == kind)
            .order_by(Clock.seq.desc()).limit(1))).first()

    async def open_counted(self) -> list[Clock]:
        """Open clocks whose due date was counted on the calendar (those a calendar correction moves)."""
        return list(await self.session.scalars(
            select(Clock).where(Clock.state == OPEN, Clock.start.is_not(None)).order_by(Clock.due)))

    async def get(self, clock_id: str) -> Clock | None:
        return await self.session.get(Clock, clock_id)


def light_condition(assignment_id_column, light: str, today: date, warn_until: date):  # noqa: ANN001, ANN201
    """A WHERE clause choosing the assignments (by their id column) whose light is ``light``:
    red = an open clock past due; yellow = not red, an open clock due by ``warn_until``; green =
    neither (the caller also keeps only assignments still being worked on)."""
    def any_open(*where) -> object:  # noqa: ANN002
        return exists().where(Clock.assignment_id == assignment_id_column, Clock.state == OPEN, *where)

    red = any_open(Clock.due < today)
    due_soon = any_open(Clock.due <= warn_until)
    if light == "red":
        return red
    if light == "yellow":
        return and_(~red, due_soon)
    return ~due_soon
