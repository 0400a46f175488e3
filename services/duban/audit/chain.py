"""A SHA-256 chain of rows, with SM3 as a second digest, shared by the audit log and the items' history.

Each row carries a gapless number ``seq`` (1, 2, 3 …), the previous row's ``hash`` (``prev_hash``; the
first row's is ``GENESIS``) and its own ``hash``: SHA-256 over the previous hash and the row's fields as
canonical JSON. Where OpenSSL offers SM3 (``HAS_SM3``), the row also carries ``sm3``: SM3 over exactly
the same bytes (a second digest of the same link; the chain itself runs on SHA-256). Where it does not,
``sm3`` stays empty (NULL) and rows are checked by SHA-256 only. ``walk`` goes through the rows in
order and names the first broken link: a row changed (a digest no longer matches, or its SM3 is gone
once SM3 was in use), removed (a gap, or fewer rows than the last number handed out) or inserted (it
does not follow its predecessor)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from duban.archive.dossier import HAS_SM3

GENESIS = "0" * 64


def stamp(at: datetime) -> str:
    """A timestamp as it is hashed: UTC, to the microsecond."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _payload(prev_hash: str, fields: list[Any]) -> bytes:
    """The bytes both digests of a link are taken over: the previous hash and the fields as canonical JSON."""
    return (prev_hash + json.dumps(fields, ensure_ascii=False, separators=(",", ":"))).encode()


def link(prev_hash: str, fields: list[Any]) -> str:
    """The hash of one row: SHA-256 over the previous row's hash and the row's fields."""
    return hashlib.sha256(_payload(prev_hash, fields)).hexdigest()


def sm3_available() -> bool:
    """Whether this machine can make and check SM3 digests (OpenSSL's; see archive/dossier.py)."""
    return HAS_SM3


def links(prev_hash: str, fields: list[Any]) -> tuple[str, str | None]:
    """Both digests of one row (SHA-256, and SM3 or None), from one canonical text."""
    data = _payload(prev_hash, fields)
    return hashlib.sha256(data).hexdigest(), hashlib.new("sm3", data).hexdigest() if sm3_available() else None


class Chained(Protocol):
    seq: int
    prev_hash: str
    hash: str
    sm3: str | None


@dataclass(frozen=True)
class Verdict:
    rows: int
    problem: str | None  # the first broken link, in words; None when the chain holds
    checked: str = "checked by SHA-256"  # which digests were checked, in words

    @property
    def ok(self) -> bool:
        return self.problem is None


async def walk(rows: AsyncIterator[Chained], fields: Callable[[Any], list[Any]], last: Callable[[], Any]) -> Verdict:
    """Walk ``rows`` (in ``seq`` order) from the first; ``fields(row)`` gives what a row's digests are
    taken over, ``last()`` (awaited) the last number handed out, to find rows removed from the end.

    With SM3 available every row's SM3 is checked too. A row without one is taken as written where SM3
    was not available only before the first row that has one; after it, a missing SM3 is a broken link."""
    sm3 = sm3_available()
    expected_seq, prev, count = 1, GENESIS, 0
    sm3_from: int | None = None  # the first row with an SM3 digest

    def verdict(problem: str | None) -> Verdict:
        if not sm3:
            checked = "checked by SHA-256 only (SM3 is not available here)"
        elif sm3_from is None and count:
            checked = "checked by SHA-256 only (no row has an SM3 digest)"
        elif sm3_from is None or sm3_from == 1:
            checked = "checked by SHA-256 and SM3"
        else:
            checked = f"checked by SHA-256, and by SM3 from row {sm3_from} on (the rows before it have none)"
        return Verdict(count, problem, checked)

    async for row in rows:
        count += 1
        if row.seq != expected_seq:
            return verdict(f"row {expected_seq} is missing (the next one is {row.seq}): removed")
        if row.prev_hash != prev:
            return verdict(f"row {row.seq} does not follow row {row.seq - 1}: inserted or replaced")
        sha, sm3_digest = links(prev, fields(row))
        if sha != row.hash:
            return verdict(f"row {row.seq} was changed after it was written")
        if sm3:
            if row.sm3 is None:
                if sm3_from is not None:
                    return verdict(f"row {row.seq}: its SM3 digest is missing")
            else:
                if sm3_from is None:
                    sm3_from = row.seq
                if row.sm3 != sm3_digest:
                    return verdict(f"row {row.seq}: its SM3 digest does not match")
        prev, expected_seq = row.hash, expected_seq + 1
    end = await last()
    if end >= expected_seq:
        return verdict(f"rows {expected_seq}–{end} are missing: removed from the end")
    return verdict(None)
