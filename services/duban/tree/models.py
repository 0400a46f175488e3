"""What a tenant knows of the units below its own: one row per assignment deeper in the split tree,
kept up to date by ``tree.node`` events (the rows of its own parts' assignments live in ``assignments``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime, utcnow


class TreeNode(Base):
    __tablename__ = "tree_nodes"

    assignment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_ref: Mapped[str] = mapped_column(String(80), index=True)  # the item here whose tree it belongs to
    parent_assignment_id: Mapped[str] = mapped_column(String(36))  # the assignment its part was split from
    part_ref: Mapped[str] = mapped_column(String(80))
    part_serial: Mapped[str | None] = mapped_column(String(32))
    part_title: Mapped[str] = mapped_column(String(200))
    assigner: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(24))
    deadline: Mapped[date] = mapped_column(Date)
    clocks: Mapped[list] = mapped_column(JSON, default=list)
    last_feedback: Mapped[dict | None] = mapped_column(JSON)
    reported_by: Mapped[str] = mapped_column(String(32))  # the tenant directly below that sent it here
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the change happened, down there
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
