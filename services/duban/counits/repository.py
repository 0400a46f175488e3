"""SQL for co-units' views."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.counits.models import CoView


class CoViewRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    def add(self, view: CoView) -> None:
        self.session.add(view)

    async def get(self, view_id: str) -> CoView | None:
        return await self.session.get(CoView, view_id)

    async def of_item(self, item_ref: str) -> list[CoView]:
        query = select(CoView).where(CoView.item_ref == item_ref).order_by(CoView.sent_at, CoView.id)
        return list(await self.session.scalars(query))
