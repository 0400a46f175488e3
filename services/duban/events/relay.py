"""Outbox → NATS. Reads unsent events in a short transaction, publishes them with
``Nats-Msg-Id`` = event id, then marks them sent. A crash between publishing and marking only
causes a re-publish, which the stream's dedup window and the receiver's inbox both absorb."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

from duban.db.database import Database
from duban.events.bus import Bus
from duban.events.envelope import decode, encode, subject_for
from duban.events.keys import Keyring
from duban.events.repository import OutboxRepository

log = logging.getLogger("duban.events")
BATCH = 100


class Relay:
    """Publishes every hosted tenant's outbox."""

    def __init__(self, db: Database, bus: Bus, tenants: list[str], poll_seconds: float = 2.0,
                 keys: Keyring | None = None) -> None:
        self.db, self.bus, self.tenants, self.poll_seconds = db, bus, list(tenants), poll_seconds
        self.keys = keys
        self._dirty: set[str] = set(self.tenants)
        self._wake = asyncio.Event()
        # (tenant, kind, the stream had it already) → events published: read by /metrics (observability/).
        self.published: Counter[tuple[str, str, bool]] = Counter()

    def wake(self, tenant: str) -> None:
        """A transaction of ``tenant`` committed: look at its outbox now."""
        self._dirty.add(tenant)
        self._wake.set()

    async def flush(self, tenant: str) -> int:
        """Publish one batch of the tenant's pending events; returns how many were sent."""
        async with self.db.transaction(tenant) as session:
            rows = [(r.id, subject_for(r.to_tenant, tenant, r.kind), r.body, r.kind) for r in
                    await OutboxRepository(session, tenant).pending(BATCH)]
        sent: list[str] = []
        try:
            for event_id, subject, body, kind in rows:
                duplicate = await self.bus.publish(subject, self.signed(body.encode()), event_id)
                sent.append(event_id)
                self.published[(tenant, kind, duplicate)] += 1
        finally:
            if sent:
                async with self.db.transaction(tenant) as session:
                    await OutboxRepository(session, tenant).mark_sent(sent)
        return len(sent)

    def signed(self, body: bytes) -> bytes:
        """The outbox's envelope with the sender's signature (Ed25519 is deterministic: a re-publish
        after a crash carries the same bytes)."""
        if self.keys is None:
            return body
        return encode(self.keys.sign(decode(body)))

    async def run(self) -> None:
        """Forever: publish what is pending; sleep until woken or the poll interval passes."""
        backoff = 0.0
        while True:
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            failed = False
            for tenant in sorted(dirty):
                try:
                    if await self.flush(tenant) == BATCH:
                        self._dirty.add(tenant)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    failed = True
                    self._dirty.add(tenant)
                    log.warning("relay: %s outbox not published yet (%s); will retry", tenant, exc)
            if self._dirty and not failed:
                continue
            backoff = min(max(backoff * 2, 0.2), 5.0) if failed else 0.0
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that arrives as
            # the event fires, and the node would then take seconds to stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(backoff or self.poll_seconds):
                    await self._wake.wait()
            if not self._wake.is_set():
                # Periodic sweep: picks up events left by a process that died before waking us.
                self._dirty.update(self.tenants)
