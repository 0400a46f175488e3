"""One imported 台账 row: the key that makes a second import of the same row create nothing, the item it
became, and what the sheet said that the item has no field for (责任人/联系电话, 进展情况). Written once,
never changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime


class LedgerImport(Base):
    __tablename__ = "ledger_imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # SHA-256 over the row's normalised cells (sheet.row_key): the same row imported again is found here.
    row_key: Mapped[str] = mapped_column(String(64), unique=True)
    item_id: Mapped[str] = mapped_column(String(36), index=True)
    batch: Mapped[str] = mapped_column(String(36), index=True)  # one import (one upload) — its rows share it
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    sheet_row: Mapped[int] = mapped_column(Integer)  # the row number in the sheet (as Excel shows it)
    contact: Mapped[str | None] = mapped_column(String(200))  # 责任人/联系电话, as written
    progress: Mapped[str | None] = mapped_column(Text)  # 进展情况, as written
    imported_by: Mapped[str] = mapped_column(String(100))  # tenant/username
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
