"""延期申请 (PRACTICE.md, 催办 and 延期): a unit asks the assigner to move one of its due dates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime

PENDING, APPROVED, REFUSED = "pending", "approved", "refused"


class Extension(Base):
    """Kept by the unit that asked and by the assigner that decides (same id on both sides)."""

    __tablename__ = "extensions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_ref: Mapped[str] = mapped_column(String(80), index=True)
    assignment_id: Mapped[str] = mapped_column(String(36), index=True)
    clock_id: Mapped[str] = mapped_column(String(36))
    clock_kind: Mapped[str] = mapped_column(String(16))
    current_due: Mapped[date] = mapped_column(Date)  # the due date when asked
    requested_due: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    progress: Mapped[str] = mapped_column(Text, default="")  # what has been done so far
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    new_due: Mapped[date | None] = mapped_column(Date)  # the date approved (may differ from the one asked)
    decision_note: Mapped[str | None] = mapped_column(Text)  # the refusal's reason, or a note with the approval
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
