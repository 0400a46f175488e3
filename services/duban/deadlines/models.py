"""Deadline clocks (第四条3): each assignment carries its clocks, each a rule plus its computed due date.

A clock is computed once at 交办 (by the assigner, and sent with the assignment so both tenants hold
the same clocks), and recomputed only by an explicit event — an approved extension, a return for
rework — recorded in history with the reason. ``original_due`` keeps what was first computed.

Kinds: ``accept`` (签收), ``feedback`` (the first written feedback, by source), ``progress`` (one per
period of a periodic report), ``completion`` (办结时限: the unit's completion request). States:
``open`` → ``met`` (with ``on_time`` and ``late_workdays``), or ``superseded`` when a return restarts it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime

OPEN, MET, SUPERSEDED = "open", "met", "superseded"


class Clock(Base):
    __tablename__ = "clocks"
    # The reminder scan and the light filters read only open clocks up to a date.
    __table_args__ = (Index("ix_clocks_state_due", "state", "due"),
                      Index("ix_clocks_state_next_reminder_on", "state", "next_reminder_on"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # accept | feedback | progress | completion
    seq: Mapped[int] = mapped_column(Integer, default=1)  # the period of a progress clock; a restart's number
    rule: Mapped[str] = mapped_column(String(40))  # how ``due`` was computed (rules.describe() says it in words)
    due: Mapped[date] = mapped_column(Date)
    original_due: Mapped[date] = mapped_column(Date)
    start: Mapped[date | None] = mapped_column(Date)  # what a calendar rule counts from (None: a fixed date)
    state: Mapped[str] = mapped_column(String(12), default=OPEN)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    late_workdays: Mapped[int | None] = mapped_column(Integer)  # 0 when on time; None if the calendar lacked the year
    # At the assigner: the day the next 催办 step of this clock is to go out (None: no step left, or the
    # unit's copy). The reminder scan reads only clocks whose day has come.
    next_reminder_on: Mapped[date | None] = mapped_column(Date)
