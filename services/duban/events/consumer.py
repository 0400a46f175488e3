"""NATS → inbox. For each message: in one transaction, record the event id in the inbox and apply
its effect; then ack. A second delivery of the same id changes nothing but a duplicate counter.
Events the policy refuses, or that make no sense here, are kept as ``rejected`` for the operator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import msgspec
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from duban.db.database import Database
from duban.errors import DubanError
from duban.events.bus import Bus
from duban.events.envelope import Envelope, decode, payload_of
from duban.events.repository import InboxRepository
from duban.policy.policy import Policy

log = logging.getLogger("duban.events")

Handler = Callable[[AsyncSession, str, Envelope, msgspec.Struct], Awaitable[None]]
MAX_DELIVERIES = 5


class Consumer:
    """Reads each hosted tenant's durable consumer and applies events through the handlers."""

    def __init__(
        self, db: Database, bus: Bus, policy: Policy, handlers: dict[str, Handler], tenants: list[str],
        on_commit: Callable[[str], None] | None = None,
    ) -> None:
        self.db, self.bus, self.policy, self.handlers = db, bus, policy, handlers
        self.tenants = list(tenants)
        self.on_commit = on_commit or (lambda tenant: None)
        self._subscriptions: dict[str, object] = {}
        self._stopping = False

    async def receive(self, tenant: str, body: bytes) -> str:
        """Apply one delivered event; returns ``applied``, ``duplicate`` or ``rejected``."""
        try:
            envelope = decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            async with self.db.transaction(tenant) as session:
                InboxRepository(session, tenant).add(None, body, "rejected", f"undecodable: {exc}")
            return "rejected"
        async with self.db.transaction(tenant) as session:
            inbox = InboxRepository(session, tenant)
            seen = await inbox.get(envelope.id)
            if seen is not None:
                seen.duplicates += 1
                return "duplicate"
            reason = self._refusal(tenant, envelope)
            if reason is None:
                try:
                    payload = payload_of(envelope)
                    async with session.begin_nested():
                        await self.handlers[envelope.kind](session, tenant, envelope, payload)
                except (msgspec.ValidationError, DubanError) as exc:
                    reason = getattr(exc, "message", None) or str(exc)
            inbox.add(envelope, body, "rejected" if reason else "applied", reason)
            if reason:
                log.warning("event %s (%s from %s) rejected at %s: %s",
                            envelope.id, envelope.kind, envelope.from_tenant, tenant, reason)
        self.on_commit(tenant)
        return "rejected" if reason else "applied"

    def _refusal(self, tenant: str, envelope: Envelope) -> str | None:
        if envelope.to_tenant != tenant:
            return f"addressed to {envelope.to_tenant}, delivered to {tenant}"
        if envelope.kind not in self.handlers:
            return f"unknown event kind {envelope.kind!r}"
        if not self.policy.may_send(envelope.from_tenant, tenant, envelope.kind):
            return f"{envelope.from_tenant} may not send {envelope.kind} to {tenant}"
        return None

    async def give_up(self, tenant: str, body: bytes, error: BaseException) -> None:
        """Keep an event that failed every delivery as rejected, so it is seen, not lost."""
        try:
            envelope: Envelope | None = decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            envelope = None
        async with self.db.transaction(tenant) as session:
            inbox = InboxRepository(session, tenant)
            if envelope is None or await inbox.get(envelope.id) is None:
                inbox.add(envelope, body, "rejected", f"failed {MAX_DELIVERIES} times: {error}")

    async def run_tenant(self, tenant: str) -> None:
        """Forever: fetch the tenant's events and apply them in order."""
        subscription = None
        # A flag, not only cancellation: nats-py's fetch can swallow a cancel and report a timeout.
        while not self._stopping:
            try:
                if subscription is None:
                    subscription = self._subscriptions[tenant] = await self.bus.subscription(tenant)
                messages = await subscription.fetch(batch=20, timeout=1.0)
            except TimeoutError:  # nats.errors.TimeoutError is a subclass; fetch raises both kinds
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer %s: cannot fetch (%s); retrying", tenant, exc)
                subscription = None
                await asyncio.sleep(0.5)
                continue
            for message in messages:
                await self._handle(tenant, message)

    async def _handle(self, tenant: str, message) -> None:  # noqa: ANN001
        """Apply, then ack; on failure nak for a later retry. Never raises: one bad event must not
        stop the tenant's loop."""
        try:
            try:
                await self.receive(tenant, message.data)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                deliveries = message.metadata.num_delivered if message.metadata else 1
                concurrent = isinstance(exc, IntegrityError)  # another node took the same id first
                log.warning("event at %s failed (delivery %s): %s", tenant, deliveries, exc)
                if deliveries < MAX_DELIVERIES or concurrent:
                    await message.nak(delay=min(0.5 * deliveries, 5.0))
                    return
                await self.give_up(tenant, message.data, exc)
            await message.ack()
        except asyncio.CancelledError:
            raise
        except Exception:
            # Not acked: JetStream redelivers after ack_wait, so nothing is lost.
            log.exception("event at %s could not be settled; it will be redelivered", tenant)

    async def run(self) -> None:
        """Run every hosted tenant's loop."""
        await asyncio.gather(*(self.run_tenant(t) for t in self.tenants))

    def stop(self) -> None:
        """Ask every loop to end after its current batch."""
        self._stopping = True

    async def close(self) -> None:
        """Drop the subscriptions (after the loops stopped), so draining the connection is quick."""
        for subscription in self._subscriptions.values():
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        self._subscriptions.clear()
