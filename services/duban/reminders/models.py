"""催办 (reminders): what was sent to a unit about one of its due dates, and when.

The assigner keeps each reminder it sends; the unit keeps the copy it received (same id). The unique
key (clock, step, due date) makes a second sending of the same step for the same due date impossible,
also when a node dies in the middle of a scan. A hand-written 催办 has no clock and no step."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime


class Reminder(Base):
    __tablename__ = "reminders"
    # The flagged list, newest first (lists/cursor.py: keyset paging).
    __table_args__ = (UniqueConstraint("clock_id", "step", "due"),
                      Index("ix_reminders_flagged_at_id", "flagged", "at", "id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_ref: Mapped[str] = mapped_column(String(80), index=True)
    assignment_id: Mapped[str] = mapped_column(String(36), index=True)
    clock_id: Mapped[str | None] = mapped_column(String(36))  # None: a 催办 by hand
    clock_kind: Mapped[str | None] = mapped_column(String(16))
    due: Mapped[date | None] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(16))  # before:3 | before:1 | on | after:1 | after:5 | manual
    audience: Mapped[list] = mapped_column(JSON, default=list)  # roles at the unit it goes to
    note: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(100))  # "<tenant>/<username>", or "<tenant>/scheduler"
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # At the assigner: still late 5 working days after the due date → named in the next 通报.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
