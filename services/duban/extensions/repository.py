"""SQL for the extension requests of one tenant."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.extensions.models import PENDING, Extension


class ExtensionRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    def add(self, extension: Extension) -> None:
        self.session.add(extension)

    async def get(self, extension_id: str) -> Extension | None:
        return await self.session.get(Extension, extension_id)

    async def pending_of(self, assignment_id: str) -> Extension | None:
        return (await self.session.scalars(select(Extension).where(
            Extension.assignment_id == assignment_id, Extension.state == PENDING))).first()

    async def of_assignments(self, assignment_ids: list[str]) -> list[Extension]:
        """The requests of some assignments, oldest first."""
        if not assignment_ids:
            return []
        return list(await self.session.scalars(
            select(Extension).where(Extension.assignment_id.in_(assignment_ids)).order_by(Extension.requested_at)))
