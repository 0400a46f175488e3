"""Transactional outbox and inbox (ARCHITECTURE §4), and the per-item order of what was received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime, utcnow

# What became of a received event (README, "What the operator sees in the inbox"):
APPLIED = "applied"  # its effect is in this tenant's tables
PARKED = "parked"  # it came ahead of an earlier event of its stream; applied when that one arrives
CONFLICT = "conflict"  # in order, but this tenant's copy was in a state it cannot apply to; replayable
REJECTED = "rejected"  # refused for good: undecodable, not allowed by the network policy, or no standing here
SKIPPED = "skipped"  # an operator decided a conflict (or the gap before a parked event) is not to be applied
DUPLICATE = "duplicate"  # a new event id carrying a sequence number that was already applied
STATUSES = (APPLIED, PARKED, CONFLICT, REJECTED, SKIPPED, DUPLICATE)


class OutboxEvent(Base):
    """An event written in the same transaction as the change it reports; the relay publishes it."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("item_ref", "to_tenant", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    to_tenant: Mapped[str] = mapped_column(String(32))
    item_ref: Mapped[str] = mapped_column(String(80), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 … per (item, receiving tenant): the receiver's order
    body: Mapped[str] = mapped_column(Text)  # the encoded envelope, exactly as published
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class InboxEvent(Base):
    """An event this tenant received; the unique id makes a second delivery a no-op."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_stream", "item_ref", "from_tenant", "seq"), Index("ix_inbox_status", "status"),
                      Index("ix_inbox_received_at_id", "received_at", "id"))  # the list's order, newest first

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    from_tenant: Mapped[str] = mapped_column(String(32))
    item_ref: Mapped[str] = mapped_column(String(80), index=True)
    seq: Mapped[int | None] = mapped_column(Integer)  # None only for an undecodable body
    status: Mapped[str] = mapped_column(String(16))  # one of STATUSES
    reason: Mapped[str | None] = mapped_column(Text)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # set if it ever waited for an earlier one
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))  # the operator who replayed or skipped it
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboxStream(Base):
    """How far one sender's events about one item have been taken, in order (``seq``)."""

    __tablename__ = "inbox_streams"

    item_ref: Mapped[str] = mapped_column(String(80), primary_key=True)
    from_tenant: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
