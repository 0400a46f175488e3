"""What the API gives for notifications."""

from __future__ import annotations

from datetime import datetime

import msgspec

from duban.notifications.models import Delivery, Notification


class DeliveryRead(msgspec.Struct):
    channel: str
    state: str  # pending | sent | failed
    attempts: int
    last_error: str | None
    sent_at: datetime | None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryRead:
        return cls(d.channel, d.state, d.attempts, d.last_error, d.sent_at)


class NotificationRead(msgspec.Struct):
    id: str
    kind: str
    title: str
    body: str
    item_ref: str | None
    assignment_id: str | None
    created_at: datetime
    read_at: datetime | None
    deliveries: list[DeliveryRead]

    @classmethod
    def of(cls, n: Notification) -> NotificationRead:
        return cls(n.id, n.kind, n.title, n.body, n.item_ref, n.assignment_id, n.created_at, n.read_at,
                   [DeliveryRead.of(d) for d in n.deliveries])


class NotificationSummary(msgspec.Struct):
    unread: int


class ReadAllRead(msgspec.Struct):
    marked: int  # how many were unread
