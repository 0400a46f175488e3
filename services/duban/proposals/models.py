"""建议提案 (第三条5): NPC deputies' suggestions (人大代表建议) and CPPCC members' proposals (政协委员提案).

- ``Proposal``: registered at the city with its number, proposer, session and handling units (主办/协办,
  分办 or 会办); its item goes the normal way (立项 → 交办). Each unit keeps a copy (same id), received
  with its assignment, tied to that assignment.
- ``ProposalReply``: a unit's reply (答复) with its class A/B/C, one per round; the proposer's rating
  (满意/基本满意/不满意) is entered on it by the city's registrar. 不满意 opens the next round.
- ``Consultation``: a 面商 with the proposer before replying (date, form, people, content).

Kept at the unit that wrote them and at the city, with the same ids (the events carry them across).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime

KINDS = {"suggestion": "人大代表建议", "proposal": "政协委员提案"}
MODES = {"separate": "分办", "joint": "会办"}
# PRACTICE.md: the class in the reply letter's top-right corner.
REPLY_CLASSES = {"A": "所提问题已经解决或基本解决", "B": "正在解决或列入计划逐步解决",
                 "C": "因条件限制或其他原因暂时不能解决"}
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
FORMS = {"visit": "走访", "survey": "调研", "meeting": "座谈", "other": "其他"}
STATES = {"registered": "已登记", "assigned": "办理中", "replied": "已答复待评价", "reopened": "不满意重办",
          "closed": "已办结"}


class Proposal(Base):
    __tablename__ = "proposals"
    __table_args__ = (UniqueConstraint("kind", "session", "number"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_ref: Mapped[str] = mapped_column(String(80), index=True)
    item_id: Mapped[str | None] = mapped_column(ForeignKey("items.id"), index=True)  # at the city
    assignment_id: Mapped[str | None] = mapped_column(String(36), index=True)  # at a unit: its assignment
    kind: Mapped[str] = mapped_column(String(16))  # suggestion | proposal
    number: Mapped[str] = mapped_column(String(32))  # 建议/提案编号
    proposer: Mapped[str] = mapped_column(String(200))  # 代表/委员 (several, for a jointly signed one)
    session: Mapped[str] = mapped_column(String(100))  # 届次/会次, e.g. 市十七届人大三次会议
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[str] = mapped_column(String(8))  # separate (分办) | joint (会办)
    units: Mapped[list] = mapped_column(JSON, default=list)  # [{"unit", "role"}], the lead (主办) first
    state: Mapped[str] = mapped_column(String(16))  # STATES
    round: Mapped[int] = mapped_column(Integer, default=1)  # the reply round under way (2 after a 不满意)
    registered_by: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProposalReply(Base):
    __tablename__ = "proposal_replies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), index=True)
    assignment_id: Mapped[str] = mapped_column(String(36))
    unit: Mapped[str] = mapped_column(String(32))
    round: Mapped[int] = mapped_column(Integer)
    reply_class: Mapped[str] = mapped_column(String(1))  # A | B | C
    text: Mapped[str] = mapped_column(Text)
    signed_by: Mapped[str] = mapped_column(String(100))  # the unit's principal leader, who signed the letter
    contact: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    replied_by: Mapped[str] = mapped_column(String(100))
    replied_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rating: Mapped[str | None] = mapped_column(String(24))  # RATINGS, entered at the city
    rating_note: Mapped[str | None] = mapped_column(Text)
    rated_by: Mapped[str | None] = mapped_column(String(100))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_due: Mapped[date | None] = mapped_column(Date)  # rated 不满意: the next reply is due by this date


class Consultation(Base):
    __tablename__ = "proposal_consultations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), index=True)
    assignment_id: Mapped[str] = mapped_column(String(36))
    unit: Mapped[str] = mapped_column(String(32))
    on: Mapped[date] = mapped_column(Date)
    form: Mapped[str] = mapped_column(String(16))  # FORMS
    people: Mapped[list] = mapped_column(JSON, default=list)
    content: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
