"""What a tenant does with an event it received: in order per (item, sender), exactly once.

Every sender numbers its events about one item to one receiver 1, 2, 3 … (``Envelope.seq``). Here,
in one transaction per delivery, an event is

- a **duplicate** if its id was seen before, or its ``seq`` was already taken (counted, no effect);
- **rejected** for good if it can't be read, is not signed by its sender tenant's key (checked first,
  before anything else is believed of it), the network policy does not let its sender send it,
  or its sender holds no standing for it here (it never advances its stream: a forged number must
  not move a real stream forward);
- **parked** if it came ahead of a gap: kept, and applied the moment the missing event arrives;
- otherwise applied through its handler: **applied**, or kept as a **conflict** with the reason when
  this tenant's copy is in a state the event cannot apply to. Either way its stream moves on, and the
  parked events behind it are taken in turn.

An operator can replay a conflict once its cause is fixed, or skip it (or the gap before a parked
event) with a reason; both are attributed. A gap open longer than ``gap_alert_minutes`` is raised.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from duban.context import EventContext
from duban.db.base import utcnow
from duban.db.database import Database
from duban.errors import Conflict, DubanError, InvalidInput, NotFound, Refused, ServiceUnavailable
from duban.events.envelope import Envelope, decode, payload_of, subject_for
from duban.events.keys import Keyring
from duban.events.models import (
    APPLIED,
    CONFLICT,
    DUPLICATE,
    PARKED,
    REJECTED,
    SKIPPED,
    InboxEvent,
    InboxStream,
)
from duban.events.repository import InboxRepository
from duban.policy.policy import Policy

log = logging.getLogger("duban.events")

Handler = Callable[[EventContext, Envelope, msgspec.Struct], Awaitable[None]]
Contexts = Callable[[AsyncSession, str], EventContext]


@dataclass(frozen=True)
class Gap:
    """A stream that has events waiting (parked) for an earlier one that has not come."""

    item_ref: str
    from_tenant: str
    last_applied: int
    missing: list[int]
    parked: list[str]  # the waiting events' ids, in order
    waiting_since: datetime
    overdue: bool  # open longer than the alert setting


class Inbox:
    """The receiving side's rules, shared by the NATS consumer, the API and the CLI."""

    def __init__(self, db: Database, policy: Policy, handlers: dict[str, Handler], keys: Keyring,
                 gap_alert: timedelta = timedelta(minutes=10), contexts: Contexts | None = None) -> None:
        self.db, self.policy, self.handlers, self.gap_alert = db, policy, handlers, gap_alert
        self.keys = keys  # every tenant's public keys: who really sent an event
        # What a handler is given besides the event: the session, and the node's registry, calendar, time.
        self.contexts = contexts or (lambda session, tenant: EventContext(tenant, session, None))

    # -- one delivery ------------------------------------------------------------------------------
    async def receive(self, tenant: str, body: bytes, subject: str | None = None) -> str:
        """Take one delivered event; returns what became of it (a status of ``events.models``).

        ``subject``: the NATS subject it came on (the consumer gives it; ``duban.v1.<to>.<from>.<kind>``,
        where NATS let only the node hosting ``<from>`` publish). An event whose subject names another
        sender than its signed ``from_tenant`` is rejected: a node may pass on only its own tenants'
        events, even when it holds a genuine one of another tenant."""
        try:
            envelope = decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            async with self.db.transaction(tenant) as session:
                InboxRepository(session, tenant).add(None, body, REJECTED, f"undecodable: {exc}")
            return REJECTED
        async with self.db.transaction(tenant) as session:
            outcome = await self._receive(session, tenant, envelope, body, subject)
        return outcome

    async def _receive(self, session: AsyncSession, tenant: str, envelope: Envelope, body: bytes,
                       subject: str | None = None) -> str:
        inbox = InboxRepository(session, tenant)
        seen = await inbox.get(envelope.id)
        # The signature first: nothing an envelope says (its id, number, sender, kind) is believed
        # before its sender tenant's key has verified it.
        forged = self.keys.verify(envelope) or self._misaddressed(envelope, subject)
        if forged is not None:
            if seen is not None and seen.status == REJECTED and seen.body == body.decode("utf-8", "replace"):
                seen.duplicates += 1  # the same forgery delivered again
                return REJECTED
            # Kept under an id of its own if it borrowed a real event's id.
            return self._reject(inbox, envelope, body, forged, fresh_id=seen is not None)
        if seen is not None:
            seen.duplicates += 1
            return DUPLICATE
        reason = self._refusal(tenant, envelope)
        if reason is not None:
            return self._reject(inbox, envelope, body, reason)
        stream = await inbox.stream(envelope.item_ref, envelope.from_tenant)
        if envelope.seq <= stream.last_seq:
            first = await inbox.at_seq(envelope.item_ref, envelope.from_tenant, envelope.seq)
            if first is not None:
                first.duplicates += 1
            else:
                inbox.add(envelope, body, DUPLICATE, f"seq {envelope.seq} was already taken")
            return DUPLICATE
        if envelope.seq > stream.last_seq + 1:
            inbox.add(envelope, body, PARKED, f"waiting for seq {stream.last_seq + 1}")
            log.info("event %s (%s seq %s from %s) parked at %s: waiting for seq %s", envelope.id, envelope.kind,
                     envelope.seq, envelope.from_tenant, tenant, stream.last_seq + 1)
            return PARKED
        row = inbox.add(envelope, body, APPLIED)
        outcome = await self._apply(session, tenant, envelope, row)
        if outcome == REJECTED:
            return REJECTED
        stream.last_seq = envelope.seq
        await self._drain(session, tenant, inbox, stream)
        return outcome

    @staticmethod
    def _misaddressed(envelope: Envelope, subject: str | None) -> str | None:
        """Does the subject's sender (checked by NATS) differ from the one the envelope names?"""
        if subject is None:
            return None
        parts = subject.split(".", 4)  # duban, v1, <to>, <from>, <kind> (the kind has dots of its own)
        sender = parts[3] if len(parts) == 5 else None
        if sender != envelope.from_tenant:
            return (f"sender mismatch: the subject {subject!r} names {sender or '(none)'}, "
                    f"the event says {envelope.from_tenant}")
        if subject != subject_for(envelope.to_tenant, envelope.from_tenant, envelope.kind):
            return f"subject {subject!r} does not match the event ({envelope.to_tenant}, {envelope.kind})"
        return None

    def _stored(self, row: InboxEvent) -> Envelope:
        """A kept event read back for applying: its stored body must still carry its sender's valid
        signature (a body changed in the database is not believed). Raises ``Refused``."""
        envelope = decode(row.body.encode())
        forged = self.keys.verify(envelope)
        if forged is not None:
            raise Refused(f"保存的事件签名无效，不能应用：{forged} (the stored event no longer verifies)")
        return envelope

    def _refusal(self, tenant: str, envelope: Envelope) -> str | None:
        if envelope.to_tenant != tenant:
            return f"addressed to {envelope.to_tenant}, delivered to {tenant}"
        if envelope.kind not in self.handlers:
            return f"unknown event kind {envelope.kind!r}"
        if not self.policy.may_send(envelope.from_tenant, tenant, envelope.kind):
            return f"{envelope.from_tenant} may not send {envelope.kind} to {tenant}"
        if envelope.seq < 1:
            return f"sequence number {envelope.seq} is not positive"
        return None

    @staticmethod
    def _reject(inbox: InboxRepository, envelope: Envelope, body: bytes, reason: str, fresh_id: bool = False) -> str:
        inbox.add(envelope, body, REJECTED, reason, fresh_id=fresh_id)
        log.warning("event %s (%s from %s) rejected at %s: %s",
                    envelope.id, envelope.kind, envelope.from_tenant, inbox.tenant, reason)
        return REJECTED

    async def _apply(self, session: AsyncSession, tenant: str, envelope: Envelope, row: InboxEvent) -> str:
        """Run the handler inside a savepoint and set the row's status from how it went."""
        try:
            payload = payload_of(envelope)
            ctx = self.contexts(session, tenant)
            ctx.sender = envelope.from_tenant
            async with session.begin_nested():
                await self.handlers[envelope.kind](ctx, envelope, payload)
        except msgspec.ValidationError as exc:
            row.status, row.reason = REJECTED, f"bad payload: {exc}"
        except ServiceUnavailable:
            # Not the event's fault (the object store is away): undo and let the delivery be retried.
            raise
        except Refused as exc:
            row.status, row.reason = REJECTED, exc.message
        except DubanError as exc:
            row.status, row.reason = CONFLICT, exc.message
        else:
            row.status, row.reason, row.applied_at = APPLIED, None, utcnow()
            return APPLIED
        log.warning("event %s (%s seq %s from %s) %s at %s: %s", envelope.id, envelope.kind, envelope.seq,
                envelope.from_tenant, row.status, tenant, row.reason)
        return row.status

    async def _drain(self, session: AsyncSession, tenant: str, inbox: InboxRepository, stream: InboxStream) -> None:
        """Apply the parked events that are now next in line, one after another."""
        while True:
            waiting = await inbox.at_seq(stream.item_ref, stream.from_tenant, stream.last_seq + 1, PARKED)
            if waiting is None:
                return
            try:
                envelope = self._stored(waiting)
            except (Refused, msgspec.ValidationError, msgspec.DecodeError) as exc:
                waiting.status, waiting.reason = REJECTED, getattr(exc, "message", None) or f"undecodable: {exc}"
                log.warning("parked event %s at %s rejected: %s", waiting.id, tenant, waiting.reason)
                return
            outcome = await self._apply(session, tenant, envelope, waiting)
            if outcome == REJECTED:
                return
            stream.last_seq = waiting.seq

    # -- the operator's tools (in the caller's transaction: the request or the CLI commits) ----------
    async def replay(self, session: AsyncSession, tenant: str, event_id: str, by: str) -> InboxEvent:
        """Apply a conflict again, once its cause is fixed. Raises ``Conflict`` with the reason if it
        still cannot apply (the caller's transaction then rolls back and the event stays a conflict)."""
        inbox = InboxRepository(session, tenant)
        row = await self._resolvable(inbox, event_id, (CONFLICT,))
        try:
            envelope = self._stored(row)  # the signature again: the stored body may have been changed
        except Refused as exc:
            raise Conflict(exc.message) from exc
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise Conflict(f"保存的事件无法解读，不能应用 (the stored event is undecodable: {exc})") from exc
        if await self._apply(session, tenant, envelope, row) != APPLIED:
            raise Conflict(f"重放未成功：{row.reason} (replay did not apply)")
        row.resolved_by, row.resolved_at = by, utcnow()
        log.info("event %s replayed at %s by %s", event_id, tenant, by)
        return row

    async def skip(self, session: AsyncSession, tenant: str, event_id: str, by: str, reason: str) -> InboxEvent:
        """Decide not to apply a conflict; or, for a parked event, give up on the events missing
        before it and take it (and what is parked behind it) now."""
        if not reason.strip():
            raise InvalidInput("请填写原因 (a reason is required)")
        inbox = InboxRepository(session, tenant)
        row = await self._resolvable(inbox, event_id, (CONFLICT, PARKED))
        if row.status == CONFLICT:
            row.status, row.reason = SKIPPED, f"{row.reason} — skipped: {reason}"
        else:
            stream = await inbox.stream(row.item_ref, row.from_tenant)
            log.warning("gap %s..%s of %s from %s skipped at %s by %s: %s", stream.last_seq + 1, row.seq - 1,
                        row.item_ref, row.from_tenant, tenant, by, reason)
            stream.last_seq = row.seq - 1
            await self._drain(session, tenant, inbox, stream)
            row.reason = f"{row.reason or ''} — gap before it skipped: {reason}".lstrip(" —")
        row.resolved_by, row.resolved_at = by, utcnow()
        return row

    @staticmethod
    async def _resolvable(inbox: InboxRepository, event_id: str, statuses: tuple[str, ...]) -> InboxEvent:
        row = await inbox.get(event_id)
        if row is None:
            raise NotFound("收到的事件不存在 (no such received event)")
        if row.status not in statuses:
            raise Conflict(f"该事件状态为 {row.status}，只能处理 {'/'.join(statuses)} "
                           f"(event is {row.status}; only {'/'.join(statuses)} can be handled)")
        return row

    async def gaps(self, session: AsyncSession, tenant: str) -> list[Gap]:
        """Every stream with parked events, with what it is missing."""
        now = utcnow()
        inbox = InboxRepository(session, tenant)
        parked = await inbox.parked()
        last = await inbox.streams_of({(r.item_ref, r.from_tenant) for r in parked})
        by_stream: dict[tuple[str, str], list[InboxEvent]] = {}
        for row in parked:
            by_stream.setdefault((row.item_ref, row.from_tenant), []).append(row)
        gaps = []
        for (item_ref, sender), rows in by_stream.items():
            have = {r.seq for r in rows}
            top = max(have)
            since = min(r.parked_at or r.received_at for r in rows)
            gaps.append(Gap(
                item_ref=item_ref, from_tenant=sender, last_applied=last[(item_ref, sender)],
                missing=[s for s in range(last[(item_ref, sender)] + 1, top) if s not in have],
                parked=[r.id for r in rows], waiting_since=since, overdue=now - since > self.gap_alert,
            ))
        return sorted(gaps, key=lambda g: g.waiting_since)
