"""Generated documents (公文) of an item: 《领导批办事项通知单》 per unit at 交办, 催办通知书, 《督查专报》 and a
unit's 办理情况报告 — each numbered in its own per-tenant, per-year series, with the data it was built from
kept as it was (``snapshot``), so the paper reads the same whenever it is printed (第六、七条: a document,
once issued, is never edited; a correction is a new one). The table refuses UPDATE and DELETE.

A rendition (DOCX or PDF) is made from the snapshot on first download and kept in the tenant's bucket
with its SHA-256 (``document_renditions``, insert-only too); renditions are deterministic, so a rendition
made again (for the archive, or after losing the object) hashes the same."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime

KINDS = {
    "notice": "领导批办事项通知单",
    "reminder_notice": "催办通知书",
    "special_report": "督查专报",
    "result_report": "办理情况报告",
}
FORMATS = ("docx", "pdf")


class GeneratedDocument(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("kind", "year", "seq"),  # a series never repeats …
        Index("ix_documents_item_id_created_at", "item_id", "created_at"),  # an item's documents, in order
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # notice | reminder_notice | special_report | result_report
    year: Mapped[int] = mapped_column(Integer)  # the year of its series (China time)
    seq: Mapped[int] = mapped_column(Integer)  # its place in the series (numbering/: gapless)
    number: Mapped[str] = mapped_column(String(64))  # as printed: 督办〔2026〕12号
    title: Mapped[str] = mapped_column(String(300))
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"))
    assignment_id: Mapped[str | None] = mapped_column(String(36), index=True)  # the unit's share it is about
    unit: Mapped[str | None] = mapped_column(String(32))  # the unit it is addressed to or comes from
    snapshot: Mapped[dict] = mapped_column(JSON)  # what it was built from (builders.py reads only this)
    created_by: Mapped[str] = mapped_column(String(100))  # tenant/username, or the sending unit's actor
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Rendition(Base):
    """One format of a document as stored in the tenant's bucket."""

    __tablename__ = "document_renditions"

    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    format: Mapped[str] = mapped_column(String(8), primary_key=True)  # docx | pdf
    bucket: Mapped[str] = mapped_column(String(63))
    key: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
