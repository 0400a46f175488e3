"""A SHA-256 chain of rows, shared by the audit log and the items' history.

Each row carries a gapless number ``seq`` (1, 2, 3 …), the previous row's ``hash`` (``prev_hash``; the
first row's is ``GENESIS``) and its own ``hash``: SHA-256 over the previous hash and the row's fields as
canonical JSON. ``walk`` goes through the rows in order and names the first broken link: a row changed
(its hash no longer matches), removed (a gap, or fewer rows than the last number handed out) or
inserted (it does not follow its predecessor)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

GENESIS = "0" * 64


def stamp(at: datetime) -> str:
    """A timestamp as it is hashed: UTC, to the microsecond."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def link(prev_hash: str, fields: list[Any]) -> str:
    """The hash of one row: SHA-256 over the previous row's hash and the row's fields."""
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + text).encode()).hexdigest()


class Chained(Protocol):
    seq: int
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Verdict:
    rows: int
    problem: str | None  # the first broken link, in words; None when the chain holds

    @property
    def ok(self) -> bool:
        return self.problem is None


async def walk(rows: AsyncIterator[Chained], digest: Callable[[str, Any], str], last: Callable[[], Any]) -> Verdict:
    """Walk ``rows`` (in ``seq`` order) from the first; ``digest(prev_hash, row)`` recomputes a row's
    hash, ``last()`` (awaited) gives the last number handed out, to find rows removed from the end."""
    expected_seq, prev, count = 1, GENESIS, 0
    async for row in rows:
        count += 1
        if row.seq != expected_seq:
            return Verdict(count, f"row {expected_seq} is missing (the next one is {row.seq}): removed")
        if row.prev_hash != prev:
            return Verdict(count, f"row {row.seq} does not follow row {row.seq - 1}: inserted or replaced")
        if digest(prev, row) != row.hash:
            return Verdict(count, f"row {row.seq} was changed after it was written")
        prev, expected_seq = row.hash, expected_seq + 1
    end = await last()
    if end >= expected_seq:
        return Verdict(count, f"rows {expected_seq}–{end} are missing: removed from the end")
    return Verdict(count, None)
