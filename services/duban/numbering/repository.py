"""SQL for the counters of one tenant."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from duban.numbering.models import Counter


class CounterRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def next(self, key: str) -> int:
        """Take the next number under ``key`` (1 for a new key) in the caller's transaction.

        One statement, ``INSERT … ON CONFLICT DO UPDATE … RETURNING``: on PostgreSQL a concurrent
        taker waits on the row lock and then sees the committed value, so two transactions never
        get the same number, and a rolled-back one never leaves a hole."""
        dialect = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        table = Counter.__table__
        statement = (
            dialect.insert(table).values(key=key, value=1)
            .on_conflict_do_update(index_elements=[table.c.key], set_={"value": table.c.value + 1})
            .returning(table.c.value)
        )
        return (await self.session.execute(statement)).scalar_one()

    async def peek(self, key: str) -> int:
        """The last number taken under ``key`` (0 if none)."""
        row = await self.session.get(Counter, key)
        return row.value if row else 0
