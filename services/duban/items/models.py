"""督查事项 and everything that hangs off it at one tenant (ARCHITECTURE §3).

- ``Item``: owned by the tenant that registered it (立项).
- ``Assignment``: one unit's share (承办任务). The same id lives at the assigner (``assigner`` is this
  tenant; mirrors the unit's progress) and at the unit (``unit`` is this tenant; the unit works it).
- ``Feedback``: a unit's progress or result report (反馈), kept at the unit and copied up.
- ``HistoryEntry``: append-only record of every transition (第六、七条: attributed, never edited).

States (service.py moves them, schemas.py lists the source kinds of 第三条):
item ``draft → pending_approval → registered → assigned → in_progress → completion_review → completed
→ archived`` plus ``rejected`` and ``withdrawn``; assignment ``issued → accepted → in_progress →
completion_requested → done`` plus ``returned``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from duban.db.base import Base, UTCDateTime, new_id, utcnow


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (Index("ix_items_created_at_id", "created_at", "id"),)  # the list's order, newest first

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    serial: Mapped[str | None] = mapped_column(String(32), unique=True)  # 编号, given at 立项
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="")  # 交办内容 / 批示内容
    requirements: Mapped[str] = mapped_column(Text, default="")  # 办理要求
    source_kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[dict] = mapped_column(JSON, default=dict)  # details of the source, by kind
    division: Mapped[str] = mapped_column(String(100))  # 责任处室
    group_code: Mapped[str] = mapped_column(String(32))  # 督查组
    issuing_leader: Mapped[str | None] = mapped_column(String(32))  # 交办领导 (a leader code of the registry)
    deadline: Mapped[date] = mapped_column(Date)  # 办结时限
    progress_reports: Mapped[str | None] = mapped_column(String(16))  # weekly | monthly:DD (定期进度报告)
    units: Mapped[list] = mapped_column(JSON, default=list)  # planned units: [{"unit", "role"}]
    confidentiality: Mapped[str] = mapped_column(String(16), default="internal")
    retention: Mapped[str] = mapped_column(String(16), default="30y")
    state: Mapped[str] = mapped_column(String(24), default="draft", index=True)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    parent_ref: Mapped[str | None] = mapped_column(String(80))  # a part (分解): the item_ref it was split from
    parent_assignment_id: Mapped[str | None] = mapped_column(String(36), index=True)  # … and the assignment
    archive: Mapped[dict | None] = mapped_column(JSON)  # where the dossier lives, once archived
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Assignment(Base):
    __tablename__ = "assignments"
    # A unit's queue in order of what is due first (lists/cursor.py: keyset paging).
    __table_args__ = (UniqueConstraint("item_ref", "unit"),
                      Index("ix_assignments_unit_deadline_id", "unit", "deadline", "id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_ref: Mapped[str] = mapped_column(String(80), index=True)  # "<origin tenant>/<item id>"
    item_id: Mapped[str | None] = mapped_column(ForeignKey("items.id"), index=True)  # at the assigner
    assigner: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(8))  # lead | co
    serial: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="")
    requirements: Mapped[str] = mapped_column(Text, default="")
    source_kind: Mapped[str] = mapped_column(String(32))
    group_code: Mapped[str | None] = mapped_column(String(32))  # the item's 督查组, sent with 交办 (a list filter)
    issuing_leader: Mapped[str | None] = mapped_column(String(32))  # the item's 交办领导, sent with 交办 (a filter)
    deadline: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(24), default="issued", index=True)
    note: Mapped[str | None] = mapped_column(Text)  # the last return reason or completion note
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by: Mapped[str | None] = mapped_column(String(100))
    leader_in_charge: Mapped[str | None] = mapped_column(String(64))  # 分管领导 named at 签收 (a username here)
    plan_units: Mapped[list | None] = mapped_column(JSON)  # the item's units ({"unit", "role"}), as 交办 sent them
    # The item's 密级, sent with 交办: a protected item's copy at the unit is protected too (confidentiality/).
    confidentiality: Mapped[str] = mapped_column(String(16), default="internal", server_default="internal")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # progress | result
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HistoryEntry(Base):
    __tablename__ = "history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_ref: Mapped[str] = mapped_column(String(80), index=True)
    assignment_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(100))  # "<tenant>/<username>"
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The chain (audit/history.py fills these in at flush): a gapless number, the previous row's hash, its own.
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sm3: Mapped[str | None] = mapped_column(String(64))  # SM3 over what ``hash`` hashes; NULL without SM3
