"""Notifications of one tenant's users, and their delivery through each channel.

- ``Notification``: what one user is told (a 催办 reminder, a 督办 record, an 延期 decision …). The user
  reads it in the platform (unread until ``read_at``); ``dedup_key`` makes a repeated notify a no-op.
- ``Delivery``: one notification through one channel (log, e-mail, later SMS or 政务 IM). The dispatcher
  makes one per channel configured on the node (``Notification.dispatched_at`` says it did) and sends
  them: ``pending`` (waiting, or waiting for a retry: ``attempts`` and ``last_error`` say why),
  ``sent``, or ``failed`` (given up, ``last_error`` says why).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from duban.db.base import Base, UTCDateTime, new_id, utcnow

PENDING, SENT, FAILED = "pending", "sent", "failed"
DELIVERY_STATES = (PENDING, SENT, FAILED)


class Notification(Base):
    __tablename__ = "notifications"
    # One row per (recipient, key): the same reminder to the same person is stored once, whoever asks
    # again. Rows without a key (NULL) never collide.
    __table_args__ = (
        UniqueConstraint("recipient", "dedup_key"),
        Index("ix_notifications_recipient_created_at", "recipient", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    recipient: Mapped[str] = mapped_column(String(64))  # a username of this tenant
    kind: Mapped[str] = mapped_column(String(32))  # reminder | supervision | extension | …
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    item_ref: Mapped[str | None] = mapped_column(String(80))
    assignment_id: Mapped[str | None] = mapped_column(String(36))
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    deliveries: Mapped[list[Delivery]] = relationship(lazy="raise", order_by="Delivery.channel")


class Delivery(Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        Index("ix_notification_deliveries_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)  # one of DELIVERY_STATES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # When the dispatcher may take it next: a retry's backoff, or the lease of the dispatcher sending it
    # now (a dispatcher that dies mid-send leaves it to be taken again when the lease ends).
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
