"""SQL for the reminders of one tenant, and the scan of the clocks whose 催办 day has come."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import exists, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from duban.confidentiality.repository import named_assignments
from duban.deadlines.models import OPEN, Clock
from duban.items.models import Assignment
from duban.lists.cursor import Keyset, Page, PageRequest
from duban.reminders.models import Reminder

# The flagged list, newest first (index ix_reminders_flagged_at_id: flagged, at, id).
FLAGGED_ORDER = Keyset("flagged", (Reminder.at, Reminder.id), descending=True, types=(datetime, str))


class ReminderRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def due_clocks(self, today: date, limit: int) -> list[tuple[Clock, Assignment]]:
        """Open clocks of assignments this tenant issued whose next 催办 day has come, locked for this
        scan (on PostgreSQL another scanner skips them rather than wait). Reads only what is due: the
        index on (state, next_reminder_on) starts and stops at the due ones."""
        query = (select(Clock, Assignment).join(Assignment, Assignment.id == Clock.assignment_id)
                 .where(Clock.state == OPEN, Clock.next_reminder_on <= today, Assignment.assigner == self.tenant)
                 .order_by(Clock.next_reminder_on).limit(limit))
        if self.session.bind.dialect.name == "postgresql":
            query = query.with_for_update(of=Clock, skip_locked=True)
        return [(c, a) for c, a in (await self.session.execute(query)).all()]

    async def add_once(self, reminder: Reminder) -> bool:
        """Store a reminder unless one of the same (clock, step, due date) exists; True if stored."""
        dialect = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        table = Reminder.__table__
        values = {c.name: getattr(reminder, c.key) for c in table.columns}
        stored = await self.session.execute(
            dialect.insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id))
        return stored.first() is not None

    def add(self, reminder: Reminder) -> None:
        self.session.add(reminder)

    async def get(self, reminder_id: str) -> Reminder | None:
        return await self.session.get(Reminder, reminder_id)

    async def of_assignments(self, assignment_ids: list[str]) -> list[Reminder]:
        """The reminders of some assignments, oldest first."""
        if not assignment_ids:
            return []
        return list(await self.session.scalars(
            select(Reminder).where(Reminder.assignment_id.in_(assignment_ids)).order_by(Reminder.at)))

    async def flagged(self, page: PageRequest = PageRequest(200), named_to: str | None = None) -> Page[Reminder]:
        """Reminders flagged for the next 通报, newest first, one page; ``named_to`` (a 分管领导, who reads only
        the work named to them: confidentiality/access.py): only the reminders of that work."""
        query = select(Reminder).where(Reminder.flagged == true())
        if named_to is not None:
            query = query.where(exists().where(Assignment.id == Reminder.assignment_id,
                                               named_assignments(self.tenant, named_to)))
        query = FLAGGED_ORDER.select(query, page)
        return FLAGGED_ORDER.page(await self.session.scalars(query), page)
