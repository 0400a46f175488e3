"""Appending to the audit log, and proving it whole.

A row's ``hash`` is SHA-256 over the previous row's hash and the row's own fields (canonical JSON). Its
number comes from the tenant's gapless counter, taken in the caller's transaction: concurrent writers
queue on the counter row, so each reads its predecessor committed, and a rolled-back write leaves no
hole. The table refuses UPDATE and DELETE (a trigger); ``verify`` finds what was done around it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from duban.audit.chain import GENESIS, Verdict, link, stamp, walk
from duban.audit.models import AuditEntry
from duban.audit.repository import AuditRepository
from duban.numbering.repository import CounterRepository

__all__ = ["GENESIS", "Verdict", "digest", "record", "verify"]


def digest(prev_hash: str, seq: int, at: datetime, actor: str, action: str, target: str, detail: str) -> str:
    """The chain link of one row."""
    return link(prev_hash, [seq, stamp(at), actor, action, target, detail])


async def record(session: AsyncSession, tenant: str, actor: str, action: str, target: str, at: datetime,
                 detail: str = "") -> AuditEntry:
    """Append one row in the caller's transaction."""
    repo = AuditRepository(session, tenant)
    seq = await CounterRepository(session, tenant).next("audit")
    prev = (await repo.hash_of(seq - 1) if seq > 1 else GENESIS) or GENESIS
    target, detail = target[:300], detail[:2000]
    entry = AuditEntry(seq=seq, at=at, actor=actor[:100], action=action, target=target, detail=detail,
                       prev_hash=prev, hash=digest(prev, seq, at, actor[:100], action, target, detail))
    repo.add(entry)
    return entry


async def verify(session: AsyncSession, tenant: str) -> Verdict:
    """Walk the chain from the first row; name the first row that was changed, removed or inserted."""
    return await walk(AuditRepository(session, tenant).in_order(),
                      lambda prev, r: digest(prev, r.seq, r.at, r.actor, r.action, r.target, r.detail),
                      lambda: CounterRepository(session, tenant).peek("audit"))
