"""督办 records (第四条4): a supervision action on an item, or on one unit's assignment of it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime

MODES = {"written": "书面督办", "on_site": "实地督办", "research": "调研督办", "joint": "联合督办"}


class Supervision(Base):
    """Kept by the assigner that recorded it and by each unit it concerns (same id on both sides)."""

    __tablename__ = "supervisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_ref: Mapped[str] = mapped_column(String(80), index=True)
    assignment_id: Mapped[str | None] = mapped_column(String(36), index=True)  # None: the whole item
    mode: Mapped[str] = mapped_column(String(16))  # written | on_site | research | joint
    on: Mapped[date] = mapped_column(Date)
    people: Mapped[list] = mapped_column(JSON, default=list)  # who carried it out
    joint_bodies: Mapped[list] = mapped_column(JSON, default=list)  # for a joint action: the other bodies
    findings: Mapped[str] = mapped_column(Text)
    follow_up_required: Mapped[bool] = mapped_column(Boolean, default=False)
    follow_up: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
