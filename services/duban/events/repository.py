"""SQL for the outbox and the inbox of one tenant."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from duban.db.base import new_id, utcnow
from duban.events.envelope import Envelope, encode
from duban.events.models import InboxEvent, OutboxEvent


class OutboxRepository:
    """Events one tenant has to send."""

    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def add(
        self, *, kind: str, to_tenant: str, item_ref: str, actor: str, payload: msgspec.Struct
    ) -> Envelope:
        """Write an event in the caller's transaction; the relay sends it after commit."""
        last = await self.session.scalar(
            select(func.max(OutboxEvent.seq)).where(OutboxEvent.item_ref == item_ref)
        )
        envelope = Envelope(
            id=new_id(), kind=kind, from_tenant=self.tenant, to_tenant=to_tenant, item_ref=item_ref,
            seq=(last or 0) + 1, occurred_at=utcnow(), actor=actor, payload=msgspec.to_builtins(payload),
        )
        self.session.add(
            OutboxEvent(
                id=envelope.id, kind=kind, to_tenant=to_tenant, item_ref=item_ref, seq=envelope.seq,
                body=encode(envelope).decode(), created_at=envelope.occurred_at,
            )
        )
        return envelope

    async def pending(self, limit: int = 100) -> list[OutboxEvent]:
        """Events not yet acknowledged by the bus, oldest first."""
        rows = await self.session.scalars(
            select(OutboxEvent).where(OutboxEvent.sent_at.is_(None))
            .order_by(OutboxEvent.created_at, OutboxEvent.seq).limit(limit)
        )
        return list(rows)

    async def mark_sent(self, ids: list[str], at: datetime | None = None) -> None:
        """Record that the bus acknowledged these events."""
        if ids:
            await self.session.execute(
                update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(sent_at=at or utcnow())
            )

    async def list(self, item_ref: str | None = None) -> list[OutboxEvent]:
        """Sent and unsent events, optionally of one item."""
        query = select(OutboxEvent).order_by(OutboxEvent.created_at)
        if item_ref is not None:
            query = query.where(OutboxEvent.item_ref == item_ref)
        return list(await self.session.scalars(query))


class InboxRepository:
    """Events one tenant has received."""

    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def get(self, event_id: str) -> InboxEvent | None:
        """The inbox row of an event id, if it was received before."""
        return await self.session.get(InboxEvent, event_id)

    def add(self, envelope: Envelope | None, body: bytes, status: str, reason: str | None = None) -> InboxEvent:
        """Record a received event (applied or rejected)."""
        row = InboxEvent(
            id=envelope.id if envelope else new_id(),
            kind=envelope.kind if envelope else "(undecodable)",
            from_tenant=envelope.from_tenant if envelope else "?",
            item_ref=envelope.item_ref if envelope else "?",
            status=status, reason=reason, duplicates=0, body=body.decode("utf-8", "replace"),
        )
        self.session.add(row)
        return row

    async def list(self, status: str | None = None) -> list[InboxEvent]:
        """Received events, newest first, optionally only of one status."""
        query = select(InboxEvent).order_by(InboxEvent.received_at.desc())
        if status is not None:
            query = query.where(InboxEvent.status == status)
        return list(await self.session.scalars(query))
