"""Appending to the audit log, and proving it whole.

A row's ``hash`` is SHA-256 over the previous row's hash and the row's own fields (canonical JSON). Its
number comes from the tenant's gapless counter, taken in the caller's transaction: concurrent writers
queue on the counter row, so each reads its predecessor committed, and a rolled-back write leaves no
hole. The table refuses UPDATE and DELETE (a trigger); ``verify`` finds what was done around it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from duban.audit.models import AuditEntry
from duban.audit.repository import AuditRepository
from duban.numbering.repository import CounterRepository

GENESIS = "0" * 64


def digest(prev_hash: str, seq: int, at: datetime, actor: str, action: str, target: str, detail: str) -> str:
    """The chain link of one row."""
    fields = json.dumps([seq, at.astimezone(UTC).isoformat(timespec="microseconds"), actor, action, target, detail],
                        ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + fields).encode()).hexdigest()


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


@dataclass(frozen=True)
class Verdict:
    rows: int
    problem: str | None  # the first broken link, in words; None when the chain holds

    @property
    def ok(self) -> bool:
        return self.problem is None


async def verify(session: AsyncSession, tenant: str) -> Verdict:
    """Walk the chain from the first row; name the first row that was changed, removed or inserted."""
    expected_seq, prev, rows = 1, GENESIS, 0
    async for row in AuditRepository(session, tenant).in_order():
        rows += 1
        if row.seq != expected_seq:
            return Verdict(rows, f"row {expected_seq} is missing (the next one is {row.seq}): removed")
        if row.prev_hash != prev:
            return Verdict(rows, f"row {row.seq} does not follow row {row.seq - 1}: inserted or replaced")
        if digest(prev, row.seq, row.at, row.actor, row.action, row.target, row.detail) != row.hash:
            return Verdict(rows, f"row {row.seq} was changed after it was written")
        prev, expected_seq = row.hash, expected_seq + 1
    last = await CounterRepository(session, tenant).peek("audit")
    if last >= expected_seq:
        return Verdict(rows, f"rows {expected_seq}–{last} are missing: removed from the end")
    return Verdict(rows, None)
