"""SQL for the audit log of one tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.audit.models import AuditEntry


class AuditRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def hash_of(self, seq: int) -> str | None:
        return await self.session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))

    def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    async def in_order(self, chunk: int = 1000) -> AsyncIterator[AuditEntry]:
        """Every row by sequence number, read a chunk at a time."""
        after = 0
        while True:
            rows = list(await self.session.scalars(
                select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(chunk)))
            for row in rows:
                yield row
            if len(rows) < chunk:
                return
            after = rows[-1].seq

    async def latest(self, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
        return list(await self.session.scalars(
            select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)))
