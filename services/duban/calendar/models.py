"""The platform's copy of each year's holiday notice, one table per tenant (every tenant holds the same)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime, utcnow


class CalendarYear(Base):
    """One loaded year: the notice as its file said it (JSON, dates as ``YYYY-MM-DD``), who loaded it and
    when. Loading the year again replaces the row; the newest ``loaded_at`` is what counts."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    notice: Mapped[dict] = mapped_column(JSON)
    loaded_by: Mapped[str] = mapped_column(String(100))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
