"""Transactional outbox and inbox (ARCHITECTURE §4)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime, utcnow


class OutboxEvent(Base):
    """An event written in the same transaction as the change it reports; the relay publishes it."""

    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    to_tenant: Mapped[str] = mapped_column(String(32))
    item_ref: Mapped[str] = mapped_column(String(80), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)  # the encoded envelope, exactly as published
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class InboxEvent(Base):
    """An event this tenant received; the unique id makes a second delivery a no-op."""

    __tablename__ = "inbox"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    from_tenant: Mapped[str] = mapped_column(String(32))
    item_ref: Mapped[str] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(16))  # applied | rejected
    reason: Mapped[str | None] = mapped_column(Text)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
