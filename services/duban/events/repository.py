"""SQL for the outbox, the inbox and the inbox's streams of one tenant."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from duban.db.base import new_id, utcnow
from duban.events.envelope import Envelope, encode
from duban.events.models import PARKED, InboxEvent, InboxStream, OutboxEvent
from duban.lists.cursor import Keyset, Page, PageRequest
from duban.numbering.repository import CounterRepository

INBOX_ORDER = Keyset("inbox", (InboxEvent.received_at, InboxEvent.id), descending=True, types=(datetime, str))


def outbox_seq_key(to_tenant: str, item_ref: str) -> str:
    """The counter of one item's events to one receiving tenant."""
    return f"outbox_seq:{to_tenant}:{item_ref}"


class OutboxRepository:
    """Events one tenant has to send."""

    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    async def add(
        self, *, kind: str, to_tenant: str, item_ref: str, actor: str, payload: msgspec.Struct,
        occurred_at: datetime | None = None,
    ) -> Envelope:
        """Write an event in the caller's transaction; the relay sends it after commit.

        ``seq`` counts this item's events to this receiver, 1, 2, 3 …, whatever their kind, from a
        counter row taken in the same transaction: strictly increasing across restarts, never
        shared by two concurrent transactions, and without the holes a rolled-back one would leave."""
        seq = await CounterRepository(self.session, self.tenant).next(outbox_seq_key(to_tenant, item_ref))
        envelope = Envelope(
            id=new_id(), kind=kind, from_tenant=self.tenant, to_tenant=to_tenant, item_ref=item_ref,
            seq=seq, occurred_at=occurred_at or utcnow(), actor=actor, payload=msgspec.to_builtins(payload),
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
        query = select(OutboxEvent).order_by(OutboxEvent.created_at, OutboxEvent.seq)
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

    def add(self, envelope: Envelope | None, body: bytes, status: str, reason: str | None = None,
            fresh_id: bool = False) -> InboxEvent:
        """Record a received event with what became of it (``fresh_id``: under a new id, for a forgery
        that claims the id of an event received before)."""
        now = utcnow()
        row = InboxEvent(
            id=envelope.id if envelope and not fresh_id else new_id(),
            kind=envelope.kind if envelope else "(undecodable)",
            from_tenant=envelope.from_tenant if envelope else "?",
            item_ref=envelope.item_ref if envelope else "?",
            seq=envelope.seq if envelope else None,
            status=status, reason=reason, duplicates=0, body=body.decode("utf-8", "replace"), received_at=now,
            parked_at=now if status == PARKED else None,
        )
        self.session.add(row)
        return row

    async def list(self, status: str | None = None, page: PageRequest = PageRequest(200),
                   from_tenant: str | None = None) -> Page[InboxEvent]:
        """Received events, newest first, one page; optionally only of one status or sender."""
        query = select(InboxEvent)
        if status is not None:
            query = query.where(InboxEvent.status == status)
        if from_tenant is not None:
            query = query.where(InboxEvent.from_tenant == from_tenant)
        return INBOX_ORDER.page(await self.session.scalars(INBOX_ORDER.select(query, page)), page)

    async def counts(self) -> dict[str, int]:
        """How many received events are in each status."""
        rows = await self.session.execute(select(InboxEvent.status, func.count()).group_by(InboxEvent.status))
        return {status: n for status, n in rows}

    # -- streams: the order of one sender's events about one item -------------------------------
    async def stream(self, item_ref: str, from_tenant: str) -> InboxStream:
        """The stream's row, created at 0 if new, locked until the transaction ends (on PostgreSQL a
        second receiver of the same stream waits here; SQLite's write lock already serialises)."""
        dialect = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        table = InboxStream.__table__
        await self.session.execute(
            dialect.insert(table).values(item_ref=item_ref, from_tenant=from_tenant, last_seq=0)
            .on_conflict_do_nothing(index_elements=[table.c.item_ref, table.c.from_tenant])
        )
        return (await self.session.scalars(
            select(InboxStream).where(InboxStream.item_ref == item_ref, InboxStream.from_tenant == from_tenant)
            .with_for_update().execution_options(populate_existing=True)
        )).one()

    async def at_seq(self, item_ref: str, from_tenant: str, seq: int, status: str | None = None) -> InboxEvent | None:
        """The event of a stream with this sequence number (the first received, if several)."""
        query = select(InboxEvent).where(
            InboxEvent.item_ref == item_ref, InboxEvent.from_tenant == from_tenant, InboxEvent.seq == seq)
        if status is not None:
            query = query.where(InboxEvent.status == status)
        return (await self.session.scalars(query.order_by(InboxEvent.received_at).limit(1))).first()

    async def parked(self, item_ref: str | None = None, from_tenant: str | None = None) -> list[InboxEvent]:
        """Parked events, by stream and sequence number."""
        query = select(InboxEvent).where(InboxEvent.status == PARKED)
        if item_ref is not None:
            query = query.where(InboxEvent.item_ref == item_ref, InboxEvent.from_tenant == from_tenant)
        return list(await self.session.scalars(
            query.order_by(InboxEvent.item_ref, InboxEvent.from_tenant, InboxEvent.seq)))

    async def streams_of(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The last applied sequence number of each (item, sender) stream asked for."""
        found: dict[tuple[str, str], int] = {}
        for item_ref, from_tenant in keys:
            row = await self.session.get(InboxStream, (item_ref, from_tenant))
            found[(item_ref, from_tenant)] = row.last_seq if row else 0
        return found
