"""The audit log of one tenant (第六、七条; ARCHITECTURE §5): every write request, login (success and
failure) and denied decision, each row chained to the one before by SHA-256 (SM3 as a second digest
where available), so a row changed, removed or inserted behind the platform's back breaks the chain at
that row (``duban audit verify``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # 1, 2, 3 … without gaps
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))  # "<tenant>/<username>", or a login name tried
    action: Mapped[str] = mapped_column(String(24))  # write | login | login_failed | denied
    target: Mapped[str] = mapped_column(String(300))  # "POST /api/items/…/approve", or the account
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sm3: Mapped[str | None] = mapped_column(String(64))  # SM3 over what ``hash`` hashes; NULL without SM3


class HistoryHead(Base):
    """The end of the items' history chain (audit/history.py): one row (``id`` 1) with the last number
    handed out and the hash of that row. A transaction takes its numbers by updating this row, so
    concurrent writers queue on it; a trigger copies each new history row's hash into it."""

    __tablename__ = "history_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
