"""SQL for the audit log of one tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from duban.audit.models import AuditEntry, HistoryHead
from duban.items.models import HistoryEntry


async def in_order(session: AsyncSession, model: Any, chunk: int = 1000) -> AsyncIterator[Any]:
    """Every row of a chained table by sequence number, read a chunk at a time."""
    after = 0
    while True:
        rows = list(await session.scalars(
            select(model).where(model.seq > after).order_by(model.seq).limit(chunk)))
        for row in rows:
            yield row
        if len(rows) < chunk:
            return
        after = rows[-1].seq


class AuditRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def hash_of(self, seq: int) -> str | None:
        return await self.session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))

    def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    def in_order(self, chunk: int = 1000) -> AsyncIterator[AuditEntry]:
        """Every row by sequence number, read a chunk at a time."""
        return in_order(self.session, AuditEntry, chunk)

    async def latest(self, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
        return list(await self.session.scalars(
            select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)))


class HistoryChainRepository:
    """SQL for the chain of the items' history (audit/history.py)."""

    @staticmethod
    def take(session: Session, count: int) -> tuple[int, str]:
        """Take ``count`` numbers in the caller's transaction (a flush: sync ``Session``); returns the
        last number taken before them and that row's hash. One statement, an UPDATE of the head row: on
        PostgreSQL a concurrent taker waits on its lock and then reads the committed row, so two
        transactions never chain onto the same row, and a rolled-back one leaves no hole."""
        table = HistoryHead.__table__
        seq, head = session.execute(
            update(table).where(table.c.id == 1).values(seq=table.c.seq + count)
            .returning(table.c.seq, table.c.hash)).one()
        return seq - count, head

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def in_order(self, chunk: int = 1000) -> AsyncIterator[HistoryEntry]:
        return in_order(self.session, HistoryEntry, chunk)

    async def last(self) -> int:
        """The last number handed out."""
        return await self.session.scalar(select(HistoryHead.seq).where(HistoryHead.id == 1)) or 0
