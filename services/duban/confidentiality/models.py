"""The 批示件 register (批示件登记, 第八条): leaders' written instructions as the registrar records them on
arrival, before (or without) an item being made of them. One tenant's register; a number is unique in its
year."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime, new_id, utcnow


class InstructionRecord(Base):
    __tablename__ = "instruction_register"
    __table_args__ = (UniqueConstraint("year", "number"),
                      Index("ix_instruction_register_registered_at_id", "registered_at", "id"))  # the list's order

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    year: Mapped[int] = mapped_column(Integer)  # the year of the instruction's date: numbers restart each year
    number: Mapped[str] = mapped_column(String(64))  # 批示件编号, as the registrar writes it
    instructed_on: Mapped[date] = mapped_column(Date)  # 批示日期
    leader: Mapped[str] = mapped_column(String(64))  # a leader code of the registry, or the leader's name
    leader_name: Mapped[str] = mapped_column(String(100), default="")  # as the registry names the leader
    title: Mapped[str] = mapped_column(String(200), default="")  # 文件标题 / 事由
    level: Mapped[str] = mapped_column(String(16))  # public | internal | sensitive (levels.py)
    note: Mapped[str] = mapped_column(Text, default="")
    item_id: Mapped[str | None] = mapped_column(String(36), index=True)  # the item it became, once linked
    registered_by: Mapped[str] = mapped_column(String(100))  # "<tenant>/<username>"
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
