"""SQL for the 督办 records of one tenant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.supervision.models import Supervision


class SupervisionRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    def add(self, record: Supervision) -> None:
        self.session.add(record)

    async def exists(self, record_id: str, assignment_id: str | None) -> bool:
        return (await self.session.scalars(select(Supervision.id).where(
            Supervision.id == record_id, Supervision.assignment_id == assignment_id))).first() is not None

    async def of_item(self, item_ref: str) -> list[Supervision]:
        """Every record of an item, oldest first."""
        return list(await self.session.scalars(
            select(Supervision).where(Supervision.item_ref == item_ref)
            .order_by(Supervision.on, Supervision.recorded_at)))

    async def of_assignment(self, assignment_id: str) -> list[Supervision]:
        """The records concerning one assignment, oldest first."""
        return list(await self.session.scalars(
            select(Supervision).where(Supervision.assignment_id == assignment_id)
            .order_by(Supervision.on, Supervision.recorded_at)))
