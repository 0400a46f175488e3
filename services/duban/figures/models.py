"""The latest figures of each tenant, as the city holds them (and each tenant's own last report)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime, utcnow


class FigureReport(Base):
    __tablename__ = "figure_reports"

    tenant: Mapped[str] = mapped_column(String(32), primary_key=True)
    open: Mapped[int] = mapped_column(Integer)  # items this tenant runs, not finished
    done: Mapped[int] = mapped_column(Integer)
    overdue: Mapped[int] = mapped_column(Integer)  # open and past their 办结时限
    done_on_time: Mapped[int] = mapped_column(Integer)
    received_open: Mapped[int] = mapped_column(Integer)  # assignments it works for the level above
    received_done: Mapped[int] = mapped_column(Integer)
    received_overdue: Mapped[int] = mapped_column(Integer)
    received_done_on_time: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
