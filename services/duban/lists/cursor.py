"""Keyset paging: a list is ordered by a unique key (a sort column, then the id) and a page starts after
the last row of the page before, named by an opaque cursor.

Unlike an offset, a cursor stays right while rows come and go: page 2 starts after the row page 1 ended
with, so a row inserted meanwhile neither pushes an old row onto page 2 twice nor hides one, and seeking
costs one index descent however deep the page.

The cursor is base64url of ``[list, key values…]`` in JSON with an 8-byte SHA-256 check in front. The
check catches a cursor that was cut, edited or made for another list (400, never a 500); it is not a
secret signature: a made-up cursor only names a position in the caller's own list, its values are
checked for type and bound as parameters, so forging one gains nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Select, bindparam, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from duban.errors import InvalidInput

T = TypeVar("T")
MAX_CURSOR = 400  # characters; a real one is under 150
_CHECK = 8
_DOMAIN = b"duban-list-cursor/1\n"
BAD_CURSOR = "分页游标无效，请从第一页重新查询 (invalid cursor: start again from the first page)"


def _check(raw: bytes) -> bytes:
    return hashlib.sha256(_DOMAIN + raw).digest()[:_CHECK]


def encode(kind: str, values: Sequence[object]) -> str:
    """The cursor after a row whose sort key is ``values`` in list ``kind``."""
    raw = json.dumps([kind, *(_plain(v) for v in values)], ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(_check(raw) + raw).rstrip(b"=").decode()


def decode(token: str, kind: str, types: Sequence[type]) -> tuple:
    """The sort key a cursor names, checked against the list and the key's types; InvalidInput if not."""
    if not token or len(token) > MAX_CURSOR or not token.isascii():
        raise InvalidInput(BAD_CURSOR)
    try:
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInput(BAD_CURSOR) from None
    check, raw = blob[:_CHECK], blob[_CHECK:]
    if len(check) < _CHECK or _check(raw) != check:
        raise InvalidInput(BAD_CURSOR)
    try:
        found = json.loads(raw)
    except ValueError:
        raise InvalidInput(BAD_CURSOR) from None
    if not isinstance(found, list) or len(found) != len(types) + 1 or found[0] != kind:
        raise InvalidInput(f"分页游标不属于这个列表 (cursor of another list): {BAD_CURSOR}")
    return tuple(_typed(v, t) for v, t in zip(found[1:], types, strict=True))


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _typed(value: Any, kind: type) -> object:
    """One key value from JSON, of the column's type (a timestamp must say its zone)."""
    try:
        if kind is datetime and isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is not None:
                return parsed
        elif kind is date and isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
        elif kind is str and isinstance(value, str) and 0 < len(value) <= 64:
            return value
        elif kind is int and isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**62:
            return value
    except ValueError:
        pass
    raise InvalidInput(BAD_CURSOR)


@dataclass(frozen=True)
class PageRequest:
    """How many rows, and after which (None: the first page)."""

    limit: int = 100
    cursor: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    next_cursor: str | None  # None on the last page


class Keyset:
    """One list's order: ``columns`` (the last one unique, the id), all ascending or all descending."""

    def __init__(self, kind: str, columns: Sequence[InstrumentedAttribute], *, descending: bool,
                 types: Sequence[type]) -> None:
        self.kind, self.columns, self.descending, self.types = kind, tuple(columns), descending, tuple(types)

    def select(self, query: Select, page: PageRequest) -> Select:
        """``query`` in this order, after the cursor, one row more than the page (to know if one follows)."""
        order = [c.desc() if self.descending else c.asc() for c in self.columns]
        query = query.order_by(*order).limit(page.limit + 1)
        if page.cursor is not None:
            after = decode(page.cursor, self.kind, self.types)
            # A row value comparison: one range on the composite index (PostgreSQL and SQLite ≥ 3.15).
            row = tuple_(*self.columns)
            key = tuple_(*(literal(v, c.type) for v, c in zip(after, self.columns, strict=True)))
            query = query.where(row < key if self.descending else row > key)
        return query

    def prepared(self, query: Select, after: bool) -> Select:
        """``select`` for a prepared statement: the page's size and the cursor's key as named parameters
        (``limit``, ``after_0``…; ``values`` gives them)."""
        order = [c.desc() if self.descending else c.asc() for c in self.columns]
        query = query.order_by(*order).limit(bindparam("limit", type_=Integer()))
        if after:
            row = tuple_(*self.columns)
            key = tuple_(*(bindparam(f"after_{n}", type_=c.type) for n, c in enumerate(self.columns)))
            query = query.where(row < key if self.descending else row > key)
        return query

    def values(self, page: PageRequest) -> dict[str, object]:
        """The parameters of ``prepared`` for this page (the cursor checked: InvalidInput if bad)."""
        values: dict[str, object] = {"limit": page.limit + 1}
        if page.cursor is not None:
            after = decode(page.cursor, self.kind, self.types)
            values.update((f"after_{n}", v) for n, v in enumerate(after))
        return values

    def page(self, rows: Sequence[T], page: PageRequest, key: Callable[[T], Sequence[object]] | None = None) -> Page[T]:
        """The rows of the page and the cursor after its last row, if more follow."""
        rows = list(rows)
        if len(rows) <= page.limit:
            return Page(rows, None)
        rows = rows[:page.limit]
        last = rows[-1]
        values = key(last) if key else [getattr(last, c.key) for c in self.columns]
        return Page(rows, encode(self.kind, values))
