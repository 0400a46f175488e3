"""What the API takes and gives for meetings and their agreed lists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from duban.items.schemas import Confidentiality, Light, ProgressReports, Retention, Text, Title, UnitPlan
from duban.meetings.models import KINDS, Meeting

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
MeetingKind = Literal["plenary", "executive", "mayor_topic"]


class AgreedItem(msgspec.Struct, forbid_unknown_fields=True):
    """One entry of the agreed list (议定事项): the agreed text and the plan that supervises it."""

    title: Title
    agreed_text: Annotated[str, msgspec.Meta(min_length=1, max_length=20000, description="议定事项原文")]
    division: Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="责任处室")]
    deadline: date
    units: Annotated[list[UnitPlan], msgspec.Meta(min_length=1, max_length=50)]
    group: Code | None = None  # default: the group of the issuing leader (or of the meeting's chair)
    issuing_leader: Code | None = None  # default: the meeting's chair
    feedback_due: date | None = None  # the date the meeting set for the answer
    content: Text = ""
    requirements: Text = ""
    confidentiality: Confidentiality = "internal"
    retention: Retention = "30y"
    progress_reports: ProgressReports | None = None


class MeetingCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: MeetingKind
    held_on: date
    session_number: Annotated[int, msgspec.Meta(ge=1, le=9999, description="第N次会议")]
    title: Title
    items: Annotated[list[AgreedItem], msgspec.Meta(min_length=1, max_length=200)]
    minutes_number: Annotated[str, msgspec.Meta(max_length=100, description="会议纪要文号")] = ""
    chair: Code | None = None  # the leader who chaired it (registry code)
    submit: bool = False  # send every item for 审定 at once (else they stay drafts)


class MeetingRead(msgspec.Struct):
    id: str
    kind: str
    kind_label: str
    held_on: date
    session_number: int
    title: str
    minutes_number: str
    chair: str | None
    recorded_by: str
    recorded_at: datetime
    item_count: int

    @classmethod
    def of(cls, m: Meeting, item_count: int) -> MeetingRead:
        return cls(m.id, m.kind, KINDS.get(m.kind, m.kind), m.held_on, m.session_number, m.title, m.minutes_number,
                   m.chair, m.recorded_by, m.recorded_at, item_count)


class MeetingItemRead(msgspec.Struct):
    """One agreed item's progress, as the meeting page shows it."""

    position: int
    id: str
    ref: str
    serial: str | None
    title: str
    group: str
    issuing_leader: str | None
    units: list[dict[str, str]]
    state: str
    light: Light | None
    deadline: date  # 办结时限
    feedback_due: date | None  # the date the meeting set for the answer
    overdue: bool


class MeetingProgress(msgspec.Struct):
    """The agreed list in figures (督查通报: 完成率 per meeting)."""

    total: int
    completed: int  # completed or archived
    overdue: int
    by_state: dict[str, int]
    by_light: dict[str, int]


class MeetingDetail(msgspec.Struct):
    meeting: MeetingRead
    items: list[MeetingItemRead]
    progress: MeetingProgress
