"""Counters that hand out numbers which never repeat and never skip (编号, event sequence numbers)."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base


class Counter(Base):
    """The last number given under one key (``item_serial:2026``, ``outbox_seq:<to>:<item_ref>``).

    A number is taken by incrementing the row in the caller's transaction: a transaction that rolls
    back gives its number back, and concurrent takers queue on the row, so the series has no gaps
    and no collisions on SQLite and PostgreSQL alike."""

    __tablename__ = "counters"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
