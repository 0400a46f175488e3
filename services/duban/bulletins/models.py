"""A 《督查通报》 as issued: its number in the tenant's yearly series, the period it covers, the figures as
computed when it was made (a snapshot: the bulletin never changes when the data do) and the 督查室's
工作要求 paragraph. Issued once and never changed (第六、七条); the table refuses UPDATE and DELETE."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime


class Bulletin(Base):
    __tablename__ = "bulletins"
    __table_args__ = (UniqueConstraint("year", "number"),
                      Index("ix_bulletins_created_at_id", "created_at", "id"))  # the list, newest first

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)  # the year of issue: the series the number belongs to
    number: Mapped[int] = mapped_column(Integer)  # 第N期, gapless per tenant and year (numbering/)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    requirements: Mapped[str | None] = mapped_column(Text)  # 工作要求: the one paragraph the 督查室 writes
    figures: Mapped[dict] = mapped_column(JSON)  # figures.py: the snapshot every rendition is made from
    created_by: Mapped[str] = mapped_column(String(100))  # tenant/username
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the platform's clock: the issue date
