"""``duban network status``: the network as this node's databases know it — every hosted tenant's
outbox backlog (how many events wait to be sent, since when), the last event received from each sending
tenant, and the received events refused (rejected, or kept as a conflict), with how to replay them.
Read from the databases only: it works while NATS or the node itself is down."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from duban.db.database import Database
from duban.events.models import CONFLICT
from duban.observability.repository import ObservabilityRepository, Sender
from duban.timesource import time_source

SECONDS = 10.0  # a tenant's database must answer within this


@dataclass
class Refused:
    id: str
    status: str
    kind: str
    from_tenant: str
    received_at: datetime
    reason: str


@dataclass
class TenantStatus:
    tenant: str
    backlog: int = 0
    oldest_unsent: datetime | None = None
    oldest_age_seconds: float = 0.0
    senders: list[Sender] | None = None
    refused_count: int = 0
    refused: list[Refused] | None = None
    error: str | None = None  # the database did not answer


async def gather_status(db: Database, now: datetime, limit: int = 20) -> list[TenantStatus]:
    """What each hosted tenant's database says (one tenant's failure is reported, not raised)."""
    found = []
    for tenant in db.tenants:
        status = TenantStatus(tenant)
        try:
            async with asyncio.timeout(SECONDS), db.transaction(tenant, snapshot=True) as session:
                repo = ObservabilityRepository(session, tenant)
                backlog = await repo.backlog()
                status.backlog, status.oldest_unsent = backlog.count, backlog.oldest
                if backlog.oldest is not None:
                    status.oldest_age_seconds = max(0.0, (now - backlog.oldest).total_seconds())
                status.senders = await repo.senders()
                status.refused_count, rows = await repo.refused(limit)
                status.refused = [Refused(r.id, r.status, r.kind, r.from_tenant, r.received_at,
                                          (r.reason or "").splitlines()[0][:160] if r.reason else "") for r in rows]
        except Exception as exc:  # noqa: BLE001 — one tenant's database away must not hide the others
            status.error = f"{type(exc).__name__}: {exc}"[:300]
        found.append(status)
    return found


def _age(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def render(statuses: list[TenantStatus], now: datetime) -> str:
    """The report as text, one block per tenant, then how to replay."""
    lines = [f"network status at {now:%Y-%m-%d %H:%M:%S} UTC — {len(statuses)} hosted tenants", ""]
    lines.append("outbox backlog (events written, not yet sent):")
    for s in statuses:
        if s.error:
            lines.append(f"  {s.tenant:<14} DATABASE NOT ANSWERING: {s.error}")
        elif s.backlog:
            lines.append(f"  {s.tenant:<14} {s.backlog} waiting, oldest {_age(s.oldest_age_seconds)} "
                         f"({s.oldest_unsent:%Y-%m-%d %H:%M:%S})")
        else:
            lines.append(f"  {s.tenant:<14} 0 waiting")
    total = sum(s.backlog for s in statuses)
    lines += [f"  total {total} waiting", "", "last event received, per sending tenant:"]
    for s in statuses:
        if s.error:
            continue
        if not s.senders:
            lines.append(f"  {s.tenant:<14} nothing received yet")
        for sender in s.senders or []:
            ago = max(0.0, (now - sender.last_received).total_seconds())
            lines.append(f"  {s.tenant:<14} from {sender.from_tenant:<14} {sender.last_received:%Y-%m-%d %H:%M:%S} "
                         f"({_age(ago)} ago), {sender.events} events in all")
    lines += ["", "refused events (rejected for good, or kept as a conflict):"]
    conflicts = []
    for s in statuses:
        if s.error or not s.refused_count:
            continue
        shown = len(s.refused or [])
        more = f", newest {shown} shown" if shown < s.refused_count else ""
        lines.append(f"  {s.tenant}: {s.refused_count}{more}")
        for r in s.refused or []:
            lines.append(f"    {r.status:<8} {r.id}  {r.kind} from {r.from_tenant} at "
                         f"{r.received_at:%Y-%m-%d %H:%M:%S}: {r.reason}")
            if r.status == CONFLICT:
                conflicts.append((s.tenant, r.id))
    if not any(s.refused_count for s in statuses if not s.error):
        lines.append("  none")
    lines += ["", "after fixing a conflict's cause, replay it:  duban inbox replay <tenant> <event_id>",
              "or decide not to apply it:                   duban inbox skip <tenant> <event_id> --reason …",
              "(a rejected event is refused for good — not signed, not allowed, or unreadable — and is not "
              "replayed; its sender sends again)"]
    if conflicts:
        tenant, event_id = conflicts[0]
        lines.append(f"e.g.  duban inbox replay {tenant} {event_id}")
    return "\n".join(lines)


def as_json(statuses: list[TenantStatus], now: datetime) -> str:
    return json.dumps({"at": now.isoformat(), "tenants": [asdict(s) for s in statuses],
                       "replay": "duban inbox replay <tenant> <event_id>"}, ensure_ascii=False, default=str, indent=2)


async def network_status(settings, *, limit: int = 20, as_json_output: bool = False) -> int:  # noqa: ANN001
    """The ``duban network status`` command; 0, or 1 when a tenant's database did not answer."""
    from duban.platform import build_database

    db = build_database(settings)
    now = time_source(settings.fixed_time).now()
    try:
        statuses = await gather_status(db, now, limit)
    finally:
        await db.dispose()
    print(as_json(statuses, now) if as_json_output else render(statuses, now))
    return 1 if any(s.error for s in statuses) else 0
