"""SQL for the notifications of one tenant and their deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from duban.accounts.models import User
from duban.db.base import new_id
from duban.errors import NotFound
from duban.notifications.models import FAILED, PENDING, SENT, Delivery, Notification


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for sending, with what the channel needs."""

    delivery_id: int
    channel: str
    attempts: int
    notification: Notification
    user: User | None  # None: no such user in the tenant (any more)


class NotificationRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    def _dialect(self):  # noqa: ANN202
        return postgresql if self.session.bind.dialect.name == "postgresql" else sqlite

    # -- what users see ------------------------------------------------------------------------
    async def add(self, *, recipient: str, kind: str, title: str, body: str, item_ref: str | None,
                  assignment_id: str | None, dedup_key: str | None, at: datetime) -> Notification:
        """Store one notification in the caller's transaction; with a ``dedup_key`` the recipient already
        has, nothing is written and the existing one is returned.

        ``INSERT … ON CONFLICT DO NOTHING``: on PostgreSQL a concurrent insert of the same key waits for
        the other transaction and then finds its row, so two schedulers never store the same reminder."""
        table = Notification.__table__
        values = dict(id=new_id(), recipient=recipient, kind=kind, title=title, body=body, item_ref=item_ref,
                      assignment_id=assignment_id, dedup_key=dedup_key, created_at=at)
        statement = (
            self._dialect().insert(table).values(**values)
            .on_conflict_do_nothing(index_elements=[table.c.recipient, table.c.dedup_key])
            .returning(table.c.id)
        )
        new = (await self.session.execute(statement)).scalar_one_or_none()
        query = select(Notification).where(Notification.id == new) if new is not None else select(
            Notification).where(Notification.recipient == recipient, Notification.dedup_key == dedup_key)
        return (await self.session.scalars(query.options(selectinload(Notification.deliveries)))).one()

    async def list_for(self, recipient: str, unread_only: bool = False, limit: int = 100,
                       offset: int = 0) -> list[Notification]:
        """One user's notifications, newest first."""
        query = (select(Notification).options(selectinload(Notification.deliveries))
                 .where(Notification.recipient == recipient)
                 .order_by(Notification.created_at.desc(), Notification.id).limit(limit).offset(offset))
        if unread_only:
            query = query.where(Notification.read_at.is_(None))
        return list(await self.session.scalars(query))

    async def get_for(self, recipient: str, notification_id: str) -> Notification:
        """One of the user's notifications, or NotFound (also when it is someone else's)."""
        found = await self.session.scalar(
            select(Notification).options(selectinload(Notification.deliveries))
            .where(Notification.id == notification_id, Notification.recipient == recipient))
        if found is None:
            raise NotFound("通知不存在 (no such notification)")
        return found

    async def unread_count(self, recipient: str) -> int:
        """How many of the user's notifications are unread."""
        return await self.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.recipient == recipient, Notification.read_at.is_(None))) or 0

    async def mark_all_read(self, recipient: str, at: datetime) -> int:
        """Mark every unread notification of the user read; returns how many."""
        result = await self.session.execute(
            update(Notification).where(Notification.recipient == recipient, Notification.read_at.is_(None))
            .values(read_at=at))
        return result.rowcount

    # -- what the dispatcher does ------------------------------------------------------------------
    async def fan_out(self, channels: Sequence[str], at: datetime, limit: int) -> int:
        """Give notifications not dispatched yet one pending delivery per channel; returns how many."""
        rows = list(await self.session.scalars(
            select(Notification.id).where(Notification.dispatched_at.is_(None))
            .order_by(Notification.created_at).limit(limit).with_for_update(skip_locked=True)))
        if not rows:
            return 0
        if channels:
            table = Delivery.__table__
            await self.session.execute(
                self._dialect().insert(table)
                .values([dict(notification_id=n, channel=c, state=PENDING, attempts=0, next_attempt_at=at)
                         for n in rows for c in channels])
                .on_conflict_do_nothing(index_elements=[table.c.notification_id, table.c.channel]))
        await self.session.execute(update(Notification).where(Notification.id.in_(rows)).values(dispatched_at=at))
        return len(rows)

    async def claim(self, channels: Sequence[str], now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
        """Take the pending deliveries that are due, for ``lease`` (another dispatcher skips them meanwhile;
        if this one dies they are due again when it ends)."""
        deliveries = list(await self.session.scalars(
            select(Delivery).where(Delivery.state == PENDING, Delivery.next_attempt_at <= now,
                                   Delivery.channel.in_(channels))
            .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit).with_for_update(skip_locked=True)))
        if not deliveries:
            return []
        await self.session.execute(update(Delivery).where(Delivery.id.in_([d.id for d in deliveries]))
                                   .values(next_attempt_at=now + lease))
        notifications = {n.id: n for n in await self.session.scalars(
            select(Notification).where(Notification.id.in_({d.notification_id for d in deliveries})))}
        users = {u.username: u for u in await self.session.scalars(
            select(User).where(User.username.in_({n.recipient for n in notifications.values()})))}
        return [Claimed(d.id, d.channel, d.attempts, n, users.get(n.recipient))
                for d in deliveries for n in [notifications[d.notification_id]]]

    async def next_due(self, channels: Sequence[str]) -> datetime | None:
        """When the earliest pending delivery is due (None: nothing pending)."""
        return await self.session.scalar(select(func.min(Delivery.next_attempt_at)).where(
            Delivery.state == PENDING, Delivery.channel.in_(channels)))

    async def mark_sent(self, delivery_id: int, at: datetime) -> None:
        await self._set(delivery_id, state=SENT, sent_at=at, attempts=Delivery.attempts + 1)

    async def mark_retry(self, delivery_id: int, error: str, at: datetime) -> None:
        """A failed attempt; tried again at ``at``."""
        await self._set(delivery_id, last_error=error, next_attempt_at=at, attempts=Delivery.attempts + 1)

    async def mark_failed(self, delivery_id: int, error: str) -> None:
        """Given up: the reason stays on the delivery."""
        await self._set(delivery_id, state=FAILED, last_error=error, attempts=Delivery.attempts + 1)

    async def postpone(self, delivery_id: int, at: datetime) -> None:
        """Not attempted (its channel just failed another message): due again at ``at``."""
        await self._set(delivery_id, next_attempt_at=at)

    async def _set(self, delivery_id: int, **values: object) -> None:
        await self.session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.state == PENDING)
                                   .values(**values))

    async def deliveries_of(self, notification_id: str) -> list[Delivery]:
        """The deliveries of one notification, by channel."""
        return list(await self.session.scalars(
            select(Delivery).where(Delivery.notification_id == notification_id).order_by(Delivery.channel)))
