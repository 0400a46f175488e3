"""NATS → inbox. Each message is taken by ``Inbox.receive`` (one transaction: inbox row, order, effect),
then acked. What can go wrong on the way is the transport's business here:

- A node that dies holding fetched, unacked messages gets them back after the consumer's ``ack_wait``.
  That is kept short (``nats_ack_wait``, default 5 s) so a restarted node resumes in seconds; while a
  batch is being worked on, every message still waiting in it is told ``in progress`` regularly, so a
  slow batch is not redelivered behind our back.
- A failure that is not the event's fault (the database away, a lost race with another node) is
  nak'ed and retried; after ``MAX_DELIVERIES`` the event is kept as a conflict for an operator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

import msgspec
from sqlalchemy.exc import IntegrityError

from duban.db.database import Database
from duban.events.bus import Bus
from duban.events.envelope import decode
from duban.events.inbox import Inbox
from duban.events.models import CONFLICT, REJECTED
from duban.events.repository import InboxRepository

log = logging.getLogger("duban.events")

MAX_DELIVERIES = 5
BATCH = 20


class Consumer:
    """Reads each hosted tenant's durable consumer and hands every event to the inbox."""

    def __init__(self, db: Database, bus: Bus, inbox: Inbox, tenants: list[str],
                 on_commit=None, watch_seconds: float = 60.0) -> None:  # noqa: ANN001
        self.db, self.bus, self.inbox = db, bus, inbox
        self.tenants = list(tenants)
        self.on_commit = on_commit or (lambda tenant: None)
        self.watch_seconds = watch_seconds
        self._subscriptions: dict[str, object] = {}
        self._stopping = False
        self._raised: dict[tuple[str, str, str], object] = {}
        # Read by /ready and /metrics (observability/): the tenants whose durable consumer is being read,
        # and (tenant, kind, outcome) → deliveries taken.
        self.attached: set[str] = set()
        self.received: Counter[tuple[str, str, str]] = Counter()
        self._kinds = frozenset(getattr(inbox, "handlers", ()))

    def _kind(self, subject: str | None) -> str:
        """The event kind a subject names (duban.v1.<to>.<from>.<kind>), if it is one this node knows."""
        kind = subject.split(".", 4)[-1] if subject else ""
        return kind if kind in self._kinds else "other"

    async def receive(self, tenant: str, body: bytes, subject: str | None = None) -> str:
        """Take one event (also used by tests to deliver by hand); ``subject``: the NATS subject it came
        on, whose sender must be the envelope's ``from_tenant`` (events/inbox.py)."""
        outcome = await self.inbox.receive(tenant, body, subject)
        self.received[(tenant, self._kind(subject), outcome)] += 1
        self.on_commit(tenant)
        return outcome

    async def give_up(self, tenant: str, body: bytes, error: BaseException) -> None:
        """Keep an event that failed every delivery, so it is seen and can be replayed, not lost."""
        try:
            envelope = decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            envelope = None
        # A conflict can be replayed later: only an event its sender really signed may become one.
        forged = self.inbox.keys.verify(envelope) if envelope is not None else "undecodable"
        async with self.db.transaction(tenant) as session:
            inbox = InboxRepository(session, tenant)
            if envelope is None or await inbox.get(envelope.id) is None:
                inbox.add(envelope, body, REJECTED if forged else CONFLICT,
                          f"failed {MAX_DELIVERIES} times: {error}" + (f"; {forged}" if forged else ""))

    async def run_tenant(self, tenant: str) -> None:
        """Forever: fetch the tenant's events and take them one by one."""
        subscription = None
        # A flag, not only cancellation: nats-py's fetch can swallow a cancel and report a timeout.
        while not self._stopping:
            try:
                if subscription is None:
                    subscription = self._subscriptions[tenant] = await self.bus.subscription(tenant)
                    self.attached.add(tenant)
                messages = await subscription.fetch(batch=BATCH, timeout=1.0)
            except TimeoutError:  # nats.errors.TimeoutError is a subclass; fetch raises both kinds
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer %s: cannot fetch (%s); retrying", tenant, exc)
                subscription = None
                self.attached.discard(tenant)
                await asyncio.sleep(0.5)
                continue
            waiting = list(messages)
            keeper = asyncio.create_task(self._keep_in_progress(waiting))
            try:
                while waiting:
                    await self._handle(tenant, waiting[0])
                    waiting.pop(0)
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper

    async def _keep_in_progress(self, waiting: list) -> None:
        """Tell the server, every third of ``ack_wait``, that the fetched messages are being worked on."""
        while True:
            await asyncio.sleep(self.bus.ack_wait / 3)
            for message in list(waiting):
                with contextlib.suppress(Exception):
                    await message.in_progress()

    async def _handle(self, tenant: str, message) -> None:  # noqa: ANN001
        """Take, then ack; on failure nak for a later retry. Never raises: one bad event must not
        stop the tenant's loop."""
        deliveries = message.metadata.num_delivered if message.metadata else 1
        if deliveries > 1:
            log.info("consumer %s: redelivered event (delivery %s, stream seq %s)", tenant, deliveries,
                     message.metadata.sequence.stream if message.metadata else "?")
        try:
            try:
                await self.receive(tenant, message.data, message.subject)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                concurrent = isinstance(exc, IntegrityError)  # another node took the same id first
                log.warning("event at %s failed (delivery %s): %s", tenant, deliveries, exc)
                if deliveries < MAX_DELIVERIES or concurrent:
                    self.received[(tenant, self._kind(message.subject), "failed")] += 1
                    await message.nak(delay=min(0.5 * deliveries, 5.0))
                    return
                await self.give_up(tenant, message.data, exc)
                self.received[(tenant, self._kind(message.subject), "given_up")] += 1
            await message.ack()
        except asyncio.CancelledError:
            raise
        except Exception:
            # Not acked: JetStream redelivers after ack_wait, so nothing is lost.
            log.exception("event at %s could not be settled; it will be redelivered", tenant)

    async def watch(self) -> None:
        """Forever: raise every gap that stays open past the alert setting (once per gap) and log
        how many conflicts wait for an operator."""
        while not self._stopping:
            for tenant in self.tenants:
                with contextlib.suppress(Exception):
                    await self._raise_overdue(tenant)
            await asyncio.sleep(self.watch_seconds)

    async def _raise_overdue(self, tenant: str) -> None:
        async with self.db.transaction(tenant) as session:
            gaps = await self.inbox.gaps(session, tenant)
        for gap in gaps:
            key = (tenant, gap.item_ref, gap.from_tenant)
            if gap.overdue and self._raised.get(key) != gap.missing:
                self._raised[key] = gap.missing
                log.error("inbox %s: events of %s from %s are waiting since %s for seq %s that has not come "
                          "(see `duban inbox gaps %s`)", tenant, gap.item_ref, gap.from_tenant,
                          gap.waiting_since.isoformat(timespec="seconds"), gap.missing or "(rejected)", tenant)

    async def run(self) -> None:
        """Run every hosted tenant's loop and the watch (again after a ``stop``: a platform can restart)."""
        self._stopping = False
        await asyncio.gather(self.watch(), *(self.run_tenant(t) for t in self.tenants))

    def stop(self) -> None:
        """Ask every loop to end after its current batch."""
        self._stopping = True

    async def close(self) -> None:
        """Drop the subscriptions (after the loops stopped), so draining the connection is quick."""
        for subscription in self._subscriptions.values():
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        self._subscriptions.clear()
        self.attached.clear()
