"""What the API takes and gives for items, assignments and feedback (XCreate / XUpdate / XRead)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from duban.attachments.schemas import AttachmentRead
from duban.deadlines.models import Clock
from duban.deadlines.schemas import ClockRead
from duban.extensions.schemas import ExtensionRead
from duban.items.models import Assignment, Feedback, HistoryEntry, Item
from duban.openapi import AnyOf
from duban.reminders.schemas import ReminderRead
from duban.supervision.schemas import SupervisionRead

SourceKind = Literal["guidance", "major_decision", "meeting_item", "instruction", "suggestion_proposal", "other"]
# 密级 (confidentiality/levels.py): sensitive is protected; the state-secret levels are named only to be refused.
Confidentiality = Literal["public", "internal", "sensitive", "confidential", "secret", "top_secret"]
Retention = Literal["permanent", "30y", "10y"]
Text = Annotated[str, msgspec.Meta(max_length=20000)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ProgressReports = Annotated[str, msgspec.Meta(
    pattern=r"^(weekly|monthly:([1-9]|1[0-9]|2[0-8]))$", description="定期进度报告: weekly, or monthly:DD (day 1–28)")]
Light = Literal["green", "yellow", "red"]


# -- the six sources of 第三条, each with the details an office records -------------------------------
class GuidanceSource(msgspec.Struct, forbid_unknown_fields=True):
    """1. 指导: guidance of a subordinate supervision body."""

    tenant: Annotated[str, msgspec.Meta(max_length=32)] = ""
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class MajorDecisionSource(msgspec.Struct, forbid_unknown_fields=True):
    """2. 重大决策部署: a decision or work deployment of the higher government or the city."""

    document: Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="文件名称或文号")]
    issued_by: Annotated[str, msgspec.Meta(max_length=200)] = ""


class MeetingItemSource(msgspec.Struct, forbid_unknown_fields=True):
    """3. 会议议定事项: agreed at a 全体（扩大）会议 / 常务会议 / 市长专题会议."""

    meeting_kind: Literal["plenary", "executive", "mayor_topic"]
    meeting_date: date
    session_number: Annotated[str, msgspec.Meta(min_length=1, max_length=50, description="第几次会议")]
    agreed_text: Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
    feedback_due: date | None = None  # the date the meeting set for the answer (else the plan's 办结时限)
    # the meeting record it was created from (meetings/), if any
    meeting_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class InstructionSource(msgspec.Struct, forbid_unknown_fields=True):
    """4. 领导批示/交办: a leader's instruction, 批示 or assigned matter."""

    leader: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    instruction_text: Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
    instructed_on: date
    document: Annotated[str, msgspec.Meta(max_length=200)] = ""


class SuggestionProposalSource(msgspec.Struct, forbid_unknown_fields=True):
    """5. 建议提案: an NPC deputy's suggestion or a CPPCC member's proposal."""

    kind: Literal["suggestion", "proposal"]
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    proposer: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    session: Annotated[str, msgspec.Meta(max_length=100)] = ""
    # the proposal record it was registered from (proposals/), if any
    proposal_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class OtherSource(msgspec.Struct, forbid_unknown_fields=True):
    """6. 其他: other matters assigned by city leaders."""

    leader: Annotated[str, msgspec.Meta(max_length=100)] = ""
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


SOURCE_SCHEMAS: dict[str, type[msgspec.Struct]] = {
    "guidance": GuidanceSource,
    "major_decision": MajorDecisionSource,
    "meeting_item": MeetingItemSource,
    "instruction": InstructionSource,
    "suggestion_proposal": SuggestionProposalSource,
    "other": OtherSource,
}
# ``source``: the details of the kind ``source_kind`` names, checked against its struct above (items.service).
Source = Annotated[dict[str, Any], AnyOf(*SOURCE_SCHEMAS.values(), description=(
    "来源详情：其结构由 source_kind 决定 (the details of the source: the schema of the kind source_kind names — "
    "guidance: GuidanceSource, major_decision: MajorDecisionSource, meeting_item: MeetingItemSource, "
    "instruction: InstructionSource, suggestion_proposal: SuggestionProposalSource, other: OtherSource)"))]


class UnitPlan(msgspec.Struct, forbid_unknown_fields=True):
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=32, description="tenant code")]
    role: Literal["lead", "co"] = "lead"


class ItemCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    source_kind: SourceKind
    division: Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="责任处室")]
    deadline: date
    units: Annotated[list[UnitPlan], msgspec.Meta(min_length=1, max_length=50)]
    # 第四条2: the 督查组; without it, the group of the issuing leader's portfolio (registry [[leaders]]).
    group: Annotated[str, msgspec.Meta(min_length=1, max_length=32, description="督查组 code")] | None = None
    issuing_leader: Annotated[str, msgspec.Meta(min_length=1, max_length=32, description="交办领导 code")] | None = None
    source: Source = {}
    content: Text = ""
    requirements: Text = ""
    confidentiality: Confidentiality = "internal"
    retention: Retention = "30y"
    progress_reports: ProgressReports | None = None


class ItemUpdate(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | None = None
    source_kind: SourceKind | None = None
    source: Source | None = None
    division: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    group: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    issuing_leader: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    deadline: date | None = None
    units: Annotated[list[UnitPlan], msgspec.Meta(min_length=1, max_length=50)] | None = None
    content: Text | None = None
    requirements: Text | None = None
    confidentiality: Confidentiality | None = None
    retention: Retention | None = None
    progress_reports: ProgressReports | None = None


class Reason(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class Note(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class AcceptBody(msgspec.Struct, forbid_unknown_fields=True):
    leader_in_charge: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None  # 分管领导's username


class ReturnCreate(msgspec.Struct, forbid_unknown_fields=True):
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class FeedbackCreate(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
    kind: Literal["progress", "result"] = "progress"
    # Ids of files uploaded beforehand (POST /api/attachments) that no feedback carries yet.
    attachments: Annotated[list[Annotated[str, msgspec.Meta(max_length=36)]], msgspec.Meta(max_length=20)] = []


class FeedbackRead(msgspec.Struct):
    id: str
    assignment_id: str
    kind: str
    text: str
    author: str
    submitted_at: datetime
    attachments: list[AttachmentRead] = []

    @classmethod
    def of(cls, f: Feedback, attachments: dict[str, list[AttachmentRead]] | None = None) -> FeedbackRead:
        """``attachments``: by feedback id (attachments.service.of_feedback)."""
        return cls(f.id, f.assignment_id, f.kind, f.text, f.author, f.submitted_at,
                   (attachments or {}).get(f.id, []))


class AssignmentRead(msgspec.Struct):
    id: str
    item_ref: str
    assigner: str
    unit: str
    role: str
    serial: str | None
    title: str
    content: str
    requirements: str
    source_kind: str
    deadline: date
    state: str
    overdue: bool
    note: str | None
    assigned_at: datetime
    accepted_at: datetime | None
    accepted_by: str | None
    light: Light | None = None  # from the clocks, never stored; None once completion is asked for
    clocks: list[ClockRead] = []
    leader_in_charge: str | None = None

    @classmethod
    def of(cls, a: Assignment, today: date, clocks: list[Clock] | tuple = (), light: str | None = None
           ) -> AssignmentRead:
        overdue = a.deadline < today and a.state not in ("completion_requested", "done")
        return cls(
            a.id, a.item_ref, a.assigner, a.unit, a.role, a.serial, a.title, a.content, a.requirements,
            a.source_kind, a.deadline, a.state, overdue, a.note, a.assigned_at, a.accepted_at, a.accepted_by,
            light, [ClockRead.of(c) for c in clocks], a.leader_in_charge,
        )


class HistoryRead(msgspec.Struct):
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    note: str | None
    assignment_id: str | None

    @classmethod
    def of(cls, h: HistoryEntry) -> HistoryRead:
        return cls(h.at, h.actor, h.action, h.from_state, h.to_state, h.note, h.assignment_id)


class ItemRead(msgspec.Struct):
    id: str
    ref: str
    serial: str | None
    title: str
    source_kind: str
    source: Source
    content: str
    requirements: str
    division: str
    group: str
    deadline: date
    units: list[dict[str, str]]
    confidentiality: str
    retention: str
    state: str
    overdue: bool
    reject_reason: str | None
    archive: dict[str, Any] | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    progress_reports: str | None = None
    light: Light | None = None  # the worst of its units' lights
    issuing_leader: str | None = None  # 交办领导 (a leader code of the registry)

    @classmethod
    def of(cls, item: Item, tenant: str, today: date, light: str | None = None) -> ItemRead:
        overdue = item.deadline < today and item.state not in ("completed", "archived", "withdrawn")
        return cls(
            item.id, f"{tenant}/{item.id}", item.serial, item.title, item.source_kind, item.source,
            item.content, item.requirements, item.division, item.group_code, item.deadline, item.units,
            item.confidentiality, item.retention, item.state, overdue, item.reject_reason, item.archive,
            item.created_by, item.created_at, item.updated_at, item.progress_reports, light,
            issuing_leader=item.issuing_leader,
        )


class ItemDetail(msgspec.Struct):
    item: ItemRead
    assignments: list[AssignmentRead]
    feedback: list[FeedbackRead]
    history: list[HistoryRead]
    supervisions: list[SupervisionRead] = []
    extensions: list[ExtensionRead] = []
    reminders: list[ReminderRead] = []


class AssignmentDetail(msgspec.Struct):
    assignment: AssignmentRead
    feedback: list[FeedbackRead]
    history: list[HistoryRead]
    supervisions: list[SupervisionRead] = []
    extensions: list[ExtensionRead] = []
    reminders: list[ReminderRead] = []


class VerifyRead(msgspec.Struct):
    ok: bool
    bucket: str
    prefix: str
    archival_code: str
    files_checked: int
    problems: list[str]
