"""会议议定事项 (第三条3): a meeting of the city government and the items created from its agreed list.

- ``Meeting``: one 市政府全体（扩大）会议, 常务会议 or 市长专题会议 — kind, date, session number (第N次), title,
  the minutes' document number, the leader who chaired it, who recorded it.
- ``MeetingItem``: the link from a meeting to the items of its agreed list, in the list's order. The
  items themselves are ordinary items (source kind ``meeting_item``) and live their own life.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime, new_id

KINDS = {"plenary": "市政府全体（扩大）会议", "executive": "市政府常务会议", "mayor_topic": "市长专题会议"}


class Meeting(Base):
    __tablename__ = "meetings"
    # The same meeting recorded twice (a form sent again) would double its items.
    __table_args__ = (UniqueConstraint("kind", "held_on", "session_number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))  # plenary | executive | mayor_topic
    held_on: Mapped[date] = mapped_column(Date, index=True)
    session_number: Mapped[int] = mapped_column(Integer)  # 第N次
    title: Mapped[str] = mapped_column(String(200))
    minutes_number: Mapped[str] = mapped_column(String(100), default="")  # 会议纪要文号
    chair: Mapped[str | None] = mapped_column(String(32))  # the leader (registry code) who chaired it
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MeetingItem(Base):
    __tablename__ = "meeting_items"

    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)  # its number in the agreed list, from 1
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id"), unique=True)
