"""A co-unit's views on an item (kept by the co-unit, the lead unit and, with the lead's report, the assigner)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime


class CoView(Base):
    __tablename__ = "co_views"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_ref: Mapped[str] = mapped_column(String(80), index=True)
    assignment_id: Mapped[str] = mapped_column(String(36))  # the co-unit's assignment
    co_unit: Mapped[str] = mapped_column(String(32))
    lead_unit: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due: Mapped[date | None] = mapped_column(Date)  # the co-unit's own feedback due date
    on_time: Mapped[bool | None] = mapped_column(Boolean)
