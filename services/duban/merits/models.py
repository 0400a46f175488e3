"""奖惩建议 (``merit_proposal``, 第十一条): what a tenant's supervision division proposes — a commendation
(奖励) or a sanction (惩处) of one of its units, and optionally a person there — with the reason and the
items and assignments it rests on. Filed once and never changed (第六、七条: a correction is a new
proposal); the table refuses UPDATE and DELETE."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime

KINDS = {"commend": "奖励", "sanction": "惩处"}


class MeritProposal(Base):
    __tablename__ = "merit_proposals"
    __table_args__ = (Index("ix_merit_proposals_filed_at_id", "filed_at", "id"),)  # the list, newest first

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # commend | sanction
    unit: Mapped[str] = mapped_column(String(32))  # the unit (tenant code): this tenant or one below it
    person: Mapped[str | None] = mapped_column(String(100))  # a person of that unit, if the proposal names one
    reason: Mapped[str] = mapped_column(Text)
    basis_items: Mapped[list] = mapped_column(JSON, default=list)  # ids of this tenant's items
    basis_assignments: Mapped[list] = mapped_column(JSON, default=list)  # ids of assignments this tenant holds
    filed_by: Mapped[str] = mapped_column(String(100))  # tenant/username
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)
