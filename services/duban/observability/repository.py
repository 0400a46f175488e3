"""SQL of what the operator reads of one tenant: the outbox's backlog, the 催办 steps due, the received
events that wait for a decision, the last event from each sender. Every query is an aggregate over an
index (or, for the CLI's per-sender view, one pass over the inbox) and reads nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from duban.deadlines.models import OPEN, Clock
from duban.events.models import CONFLICT, PARKED, REJECTED, InboxEvent, OutboxEvent
from duban.items.models import Assignment

# Received events an operator may have to look at: waiting for an earlier one, or not applied.
WAITING = (PARKED, CONFLICT, REJECTED)
REFUSED = (REJECTED, CONFLICT)


@dataclass(frozen=True)
class Backlog:
    count: int
    oldest: datetime | None  # when the oldest unsent event was written


@dataclass(frozen=True)
class Sender:
    from_tenant: str
    last_received: datetime
    events: int


class ObservabilityRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def ping(self) -> None:
        """The cheapest statement the database must answer."""
        await self.session.execute(text("SELECT 1"))

    async def backlog(self) -> Backlog:
        """Events written but not yet acknowledged by NATS (the index on ``sent_at``)."""
        count, oldest = (await self.session.execute(
            select(func.count(), func.min(OutboxEvent.created_at)).where(OutboxEvent.sent_at.is_(None)))).one()
        return Backlog(count, oldest)

    async def reminders_due(self, today: date) -> int:
        """Open clocks of assignments this tenant issued whose next 催办 day has come (what the reminder
        scan would send now, inside working hours)."""
        return (await self.session.execute(
            select(func.count()).select_from(Clock).join(Assignment, Assignment.id == Clock.assignment_id)
            .where(Clock.state == OPEN, Clock.next_reminder_on <= today, Assignment.assigner == self.tenant)
        )).scalar_one()

    async def inbox_waiting(self) -> dict[str, int]:
        """How many received events are parked, in conflict or rejected (the index on ``status``)."""
        rows = await self.session.execute(
            select(InboxEvent.status, func.count()).where(InboxEvent.status.in_(WAITING)).group_by(InboxEvent.status))
        return {status: 0 for status in WAITING} | {status: n for status, n in rows}

    async def senders(self) -> list[Sender]:
        """Per sending tenant: when its last event arrived here, and how many came in all."""
        rows = await self.session.execute(
            select(InboxEvent.from_tenant, func.max(InboxEvent.received_at), func.count())
            .group_by(InboxEvent.from_tenant).order_by(InboxEvent.from_tenant))
        return [Sender(sender, last, n) for sender, last, n in rows]

    async def refused(self, limit: int) -> tuple[int, list[InboxEvent]]:
        """Rejected and conflicting events, how many and the newest ``limit``."""
        count = (await self.session.execute(
            select(func.count()).select_from(InboxEvent).where(InboxEvent.status.in_(REFUSED)))).scalar_one()
        rows = await self.session.scalars(
            select(InboxEvent).where(InboxEvent.status.in_(REFUSED))
            .order_by(InboxEvent.received_at.desc(), InboxEvent.id.desc()).limit(limit))
        return count, list(rows)
