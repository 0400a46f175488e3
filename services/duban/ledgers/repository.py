"""SQL of the 台账: the imported rows of one tenant, and the last report of each assignment an export shows."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.items.models import Feedback
from duban.ledgers.models import LedgerImport

CHUNK = 500  # ids in one IN (…): well inside every database's limit on parameters


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i:i + CHUNK] for i in range(0, len(values), CHUNK)]


class LedgerRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    def add(self, row: LedgerImport) -> None:
        self.session.add(row)

    async def flush(self) -> None:
        await self.session.flush()

    async def imported(self, keys: list[str]) -> dict[str, str]:
        """Of these import keys, those imported before: key → the item it became."""
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(set(keys))):
            rows = await self.session.execute(
                select(LedgerImport.row_key, LedgerImport.item_id).where(LedgerImport.row_key.in_(chunk)))
            found.update({k: i for k, i in rows.all()})
        return found

    async def of_batch(self, batch: str) -> list[LedgerImport]:
        """The rows one import created, in sheet order."""
        return list(await self.session.scalars(
            select(LedgerImport).where(LedgerImport.batch == batch).order_by(LedgerImport.sheet_row)))

    async def last_reports(self, assignment_ids: list[str]) -> dict[str, str]:
        """Each assignment's latest feedback text (what the 台账 calls 进展情况), for those that have one."""
        found: dict[str, str] = {}
        for chunk in _chunks(assignment_ids):
            latest = (select(Feedback.assignment_id, func.max(Feedback.submitted_at).label("at"))
                      .where(Feedback.assignment_id.in_(chunk)).group_by(Feedback.assignment_id).subquery())
            rows = await self.session.execute(
                select(Feedback.assignment_id, Feedback.text)
                .join(latest, (Feedback.assignment_id == latest.c.assignment_id)
                      & (Feedback.submitted_at == latest.c.at))
                .order_by(Feedback.assignment_id, Feedback.id))
            for assignment_id, text in rows.all():
                found[assignment_id] = text
        return found
