"""Telling people things: ``notify`` stores notifications in the caller's transaction; the ``Dispatcher``
sends them out through the node's channels after commit.

A reminder and its notification commit together or not at all, so a notification is never lost
(the dispatcher finds every committed one, also after a restart) and never doubled (a ``dedup_key``
the recipient already has stores nothing). Each channel gets the notification at least once: a node
that dies between sending and recording it sends it again when its lease on the delivery ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from duban.context import TenantContext
from duban.db.base import utcnow
from duban.db.database import Database
from duban.errors import InvalidInput
from duban.notifications.channels import Channel, OutgoingMessage, Undeliverable
from duban.notifications.models import Notification
from duban.notifications.repository import Claimed, NotificationRepository

log = logging.getLogger("duban.notifications")
BATCH = 50
TITLE_MAX = 200


async def notify(
    session: AsyncSession, tenant: str, recipients: str | Iterable[str], kind: str, title: str, body: str,
    item_ref: str | None = None, assignment_id: str | None = None, dedup_key: str | None = None,
    *, at: datetime | None = None,
) -> list[Notification]:
    """Store a notification for each recipient (usernames of ``tenant``) in the caller's transaction.

    With a ``dedup_key`` a recipient already has, nothing is stored for them and their existing
    notification is returned. The node's dispatcher sends them through its channels once the
    transaction commits (woken by ``Platform.committed(tenant)``, or by its periodic sweep)."""
    recipients = [recipients] if isinstance(recipients, str) else list(recipients)
    if not all(isinstance(r, str) and 0 < len(r) <= 64 for r in recipients):
        raise InvalidInput(f"recipients must be usernames of 1–64 characters, not {recipients!r}")
    if not kind or len(kind) > 32:
        raise InvalidInput(f"notification kind must be 1–32 characters, not {kind!r}")
    if dedup_key is not None and not 0 < len(dedup_key) <= 200:
        raise InvalidInput("dedup_key must be 1–200 characters")
    if len(title) > TITLE_MAX:
        title = title[:TITLE_MAX - 1] + "…"
    repo = NotificationRepository(session, tenant)
    return [await repo.add(recipient=r, kind=kind, title=title, body=body, item_ref=item_ref,
                           assignment_id=assignment_id, dedup_key=dedup_key, at=at or utcnow())
            for r in dict.fromkeys(recipients)]


# -- the caller's own notifications (routes) -----------------------------------------------------------
async def list_mine(ctx: TenantContext, unread_only: bool, limit: int, offset: int) -> list[Notification]:
    """The caller's notifications, newest first."""
    return await NotificationRepository(ctx.session, ctx.tenant).list_for(ctx.actor.username, unread_only,
                                                                          limit, offset)


async def unread_count(ctx: TenantContext) -> int:
    """How many of the caller's notifications are unread."""
    return await NotificationRepository(ctx.session, ctx.tenant).unread_count(ctx.actor.username)


async def mark_read(ctx: TenantContext, notification_id: str) -> Notification:
    """Mark one of the caller's notifications read (again is a no-op; someone else's is NotFound)."""
    found = await NotificationRepository(ctx.session, ctx.tenant).get_for(ctx.actor.username, notification_id)
    if found.read_at is None:
        found.read_at = utcnow()
    return found


async def mark_all_read(ctx: TenantContext) -> int:
    """Mark all of the caller's notifications read; returns how many were unread."""
    return await NotificationRepository(ctx.session, ctx.tenant).mark_all_read(ctx.actor.username, utcnow())


# -- sending -----------------------------------------------------------------------------------------
class Dispatcher:
    """Sends every hosted tenant's pending deliveries through the node's channels.

    Woken after a commit (``wake``), and otherwise sweeping every ``poll_seconds`` and whenever a retry
    falls due. A failed attempt is retried after ``retry_seconds``, doubling up to ``max_retry_seconds``,
    and given up after ``max_attempts``; ``Undeliverable`` (no address, recipient refused) gives up at
    once. After one failure of a channel, its other deliveries of the same batch wait for the same retry
    instead of each waiting for the same dead server."""

    def __init__(self, db: Database, tenants: list[str], channels: dict[str, Channel], poll_seconds: float = 2.0,
                 *, retry_seconds: float = 5.0, max_retry_seconds: float = 3600.0, max_attempts: int = 20,
                 lease_seconds: float = 300.0, send_timeout: float = 120.0) -> None:
        self.db, self.tenants, self.channels = db, list(tenants), dict(channels)
        self.poll_seconds, self.retry_seconds, self.max_retry_seconds = poll_seconds, retry_seconds, max_retry_seconds
        self.max_attempts, self.lease_seconds, self.send_timeout = max_attempts, lease_seconds, send_timeout
        self._dirty: set[str] = set(self.tenants)
        self._due: dict[str, datetime] = {}
        self._wake = asyncio.Event()

    def wake(self, tenant: str) -> None:
        """A transaction of ``tenant`` committed: look for its new notifications now."""
        if tenant in self.tenants:
            self._dirty.add(tenant)
            self._wake.set()

    def backoff(self, attempts: int) -> timedelta:
        """How long to wait after the ``attempts``-th failed attempt."""
        return timedelta(seconds=min(self.retry_seconds * 2 ** (attempts - 1), self.max_retry_seconds))

    async def flush(self, tenant: str) -> int:
        """Dispatch new notifications and send one batch of due deliveries; returns how many were tried."""
        names = list(self.channels)
        now = utcnow()
        async with self.db.transaction(tenant) as session:
            repo = NotificationRepository(session, tenant)
            fanned = await repo.fan_out(names, now, BATCH)
            claimed = await repo.claim(names, now, timedelta(seconds=self.lease_seconds), BATCH) if names else []
            due = await repo.next_due(names) if names else None
        down: dict[str, datetime] = {}
        started = asyncio.get_running_loop().time()
        for job in claimed:
            if asyncio.get_running_loop().time() - started > self.lease_seconds / 2:
                # Slow channels: hand the rest back (due now) well before our lease on them ends, so no
                # other dispatcher takes one while we are still about to send it.
                down = dict.fromkeys(self.channels, utcnow())
            retry_at = await self._deliver(tenant, job, down)
            if retry_at is not None and (due is None or retry_at < due):
                due = retry_at
        if due is None:
            self._due.pop(tenant, None)
        else:
            self._due[tenant] = due
        if fanned == BATCH or len(claimed) == BATCH:
            self._dirty.add(tenant)
        return len(claimed)

    async def _deliver(self, tenant: str, job: Claimed, down: dict[str, datetime]) -> datetime | None:
        """Send one delivery and record the outcome; returns when it is due again, if it still is."""
        n, user = job.notification, job.user
        if job.channel in down:
            async with self.db.transaction(tenant) as session:
                await NotificationRepository(session, tenant).postpone(job.delivery_id, down[job.channel])
            return down[job.channel]
        message = OutgoingMessage(
            notification_id=n.id, tenant=tenant, recipient=n.recipient,
            display_name=user.display_name if user else n.recipient, email=user.email if user else None,
            kind=n.kind, title=n.title, body=n.body, item_ref=n.item_ref, assignment_id=n.assignment_id)
        retry_at = None
        try:
            if user is None:
                raise Undeliverable(f"用户 {n.recipient} 不存在 (no such user in {tenant})")
            async with asyncio.timeout(self.send_timeout):
                await self.channels[job.channel].send(message)
        except asyncio.CancelledError:
            raise
        except Undeliverable as exc:
            outcome, error = "failed", str(exc)
        except Exception as exc:  # the channel may work next time
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            attempts = job.attempts + 1
            if attempts >= self.max_attempts:
                outcome, error = "failed", f"gave up after {attempts} attempts: {error}"
            else:
                outcome, retry_at = "retry", utcnow() + self.backoff(attempts)
                down[job.channel] = retry_at
        else:
            outcome, error = "sent", ""
        async with self.db.transaction(tenant) as session:
            repo = NotificationRepository(session, tenant)
            if outcome == "sent":
                await repo.mark_sent(job.delivery_id, utcnow())
            elif outcome == "retry":
                await repo.mark_retry(job.delivery_id, error, retry_at)
            else:
                await repo.mark_failed(job.delivery_id, error)
        if outcome != "sent":
            log.warning("notification %s to %s/%s via %s: %s (%s)", n.id, tenant, n.recipient, job.channel,
                        f"retry at {retry_at:%H:%M:%S}" if retry_at else "not delivered", error)
        return retry_at

    async def run(self) -> None:
        """Forever: dispatch what is pending; sleep until woken, a retry is due, or the poll interval passes."""
        backoff = 0.0
        loop = asyncio.get_running_loop()
        last_sweep = loop.time()
        while True:
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            failed = False
            for tenant in sorted(dirty):
                try:
                    await self.flush(tenant)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    failed = True
                    self._dirty.add(tenant)
                    log.warning("dispatcher: %s notifications not sent yet (%s); will retry", tenant, exc)
            if self._dirty and not failed:
                continue
            backoff = min(max(backoff * 2, 0.2), 5.0) if failed else 0.0
            now = utcnow()
            soonest = min(self._due.values(), default=None)
            wait = backoff or self.poll_seconds
            if soonest is not None:
                wait = min(wait, max((soonest - now).total_seconds(), 0.01))
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that arrives as the
            # event fires, and the node's stop would then wait for this task in vain.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            now = utcnow()
            self._dirty.update(t for t, at in self._due.items() if at <= now)
            if loop.time() - last_sweep >= self.poll_seconds:
                # Periodic sweep: notifications committed by a caller that did not wake us.
                last_sweep = loop.time()
                self._dirty.update(self.tenants)
