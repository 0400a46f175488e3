"""Appending to the audit log, and proving it whole.

A row's ``hash`` is SHA-256 over the previous row's hash and the row's own fields (canonical JSON), its
``sm3`` SM3 over the same bytes where OpenSSL has SM3 (NULL where not; audit/chain.py). Its
number comes from the tenant's gapless counter, taken in the caller's transaction: concurrent writers
queue on the counter row, so each reads its predecessor committed, and a rolled-back write leaves no
hole. The table refuses UPDATE and DELETE (a trigger); ``verify`` finds what was done around it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from duban.audit.chain import GENESIS, Verdict, link, links, stamp, walk
from duban.audit.models import AuditEntry
from duban.audit.repository import AuditRepository
from duban.numbering.repository import CounterRepository

__all__ = ["GENESIS", "Verdict", "digest", "fields", "record", "verify"]


def fields(row: Any) -> list[Any]:
    """What the digests of one row are taken over (``row``: an AuditEntry or a row with the same fields)."""
    return [row.seq, stamp(row.at), row.actor, row.action, row.target, row.detail]


def digest(prev_hash: str, row: Any) -> str:
    """The chain link (SHA-256) of one row."""
    return link(prev_hash, fields(row))


async def record(session: AsyncSession, tenant: str, actor: str, action: str, target: str, at: datetime,
                 detail: str = "") -> AuditEntry:
    """Append one row in the caller's transaction."""
    repo = AuditRepository(session, tenant)
    seq = await CounterRepository(session, tenant).next("audit")
    prev = (await repo.hash_of(seq - 1) if seq > 1 else GENESIS) or GENESIS
    target, detail = target[:300], detail[:2000]
    entry = AuditEntry(seq=seq, at=at, actor=actor[:100], action=action, target=target, detail=detail,
                       prev_hash=prev)
    entry.hash, entry.sm3 = links(prev, fields(entry))
    repo.add(entry)
    return entry


async def verify(session: AsyncSession, tenant: str) -> Verdict:
    """Walk the chain from the first row; name the first row that was changed, removed or inserted."""
    return await walk(AuditRepository(session, tenant).in_order(), fields,
                      lambda: CounterRepository(session, tenant).peek("audit"))
