"""What the API takes and gives for 建议提案."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from duban.items.schemas import HistoryRead, Text, Title, UnitPlan
from duban.proposals.models import (
    FORMS,
    KINDS,
    MODES,
    RATINGS,
    REPLY_CLASSES,
    STATES,
    Consultation,
    Proposal,
    ProposalReply,
)

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class ProposalCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Register a suggestion or proposal and draft its item (the plan the 督查室 and 秘书长 then take on)."""

    kind: Literal["suggestion", "proposal"]
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=32, description="建议/提案编号")]
    proposer: Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="代表/委员")]
    session: Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="届次/会次")]
    title: Title
    units: Annotated[list[UnitPlan], msgspec.Meta(min_length=1, max_length=50, description="主办/协办单位")]
    division: Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="责任处室")]
    mode: Literal["separate", "joint"] = "joint"  # 分办: each unit replies; 会办: the lead replies for all
    content: Text = ""
    requirements: Text = ""
    deadline: date | None = None  # 办结时限; default 3 months from today (PRACTICE.md)
    group: Code | None = None
    issuing_leader: Code | None = None


class ConsultationCreate(msgspec.Struct, forbid_unknown_fields=True):
    on: date
    form: Literal["visit", "survey", "meeting", "other"]
    people: Annotated[list[Name], msgspec.Meta(min_length=1, max_length=50)]
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]


class ReplyCreate(msgspec.Struct, forbid_unknown_fields=True):
    reply_class: Literal["A", "B", "C"]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
    signed_by: Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="签发的单位主要负责人")]
    contact: Annotated[str, msgspec.Meta(max_length=100)] = ""
    phone: Annotated[str, msgspec.Meta(max_length=32)] = ""


class SatisfactionCreate(msgspec.Struct, forbid_unknown_fields=True):
    rating: Literal["satisfied", "basically_satisfied", "dissatisfied"]
    unit: Code | None = None  # whose reply (分办: one of the units; 会办: the lead, the default)
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    due: date | None = None  # 不满意: the second reply's due date (default: the tenant's second_reply_months)


class ProposalRead(msgspec.Struct):
    id: str
    item_ref: str
    item_id: str | None
    assignment_id: str | None
    kind: str
    kind_label: str
    number: str
    proposer: str
    session: str
    title: str
    content: str
    mode: str
    mode_label: str
    units: list[dict[str, str]]
    state: str
    state_label: str
    round: int
    registered_by: str
    registered_at: datetime

    @classmethod
    def of(cls, p: Proposal) -> ProposalRead:
        return cls(p.id, p.item_ref, p.item_id, p.assignment_id, p.kind, KINDS.get(p.kind, p.kind), p.number,
                   p.proposer, p.session, p.title, p.content, p.mode, MODES.get(p.mode, p.mode), p.units, p.state,
                   STATES.get(p.state, p.state), p.round, p.registered_by, p.registered_at)


class ReplyRead(msgspec.Struct):
    id: str
    assignment_id: str
    unit: str
    round: int
    reply_class: str
    class_label: str
    text: str
    signed_by: str
    contact: str
    phone: str
    replied_by: str
    replied_at: datetime
    rating: str | None
    rating_label: str | None
    rating_note: str | None
    rated_by: str | None
    rated_at: datetime | None
    next_due: date | None

    @classmethod
    def of(cls, r: ProposalReply) -> ReplyRead:
        return cls(r.id, r.assignment_id, r.unit, r.round, r.reply_class, REPLY_CLASSES.get(r.reply_class, ""),
                   r.text, r.signed_by, r.contact, r.phone, r.replied_by, r.replied_at, r.rating,
                   RATINGS.get(r.rating) if r.rating else None, r.rating_note, r.rated_by, r.rated_at, r.next_due)


class ConsultationRead(msgspec.Struct):
    id: str
    assignment_id: str
    unit: str
    on: date
    form: str
    form_label: str
    people: list[str]
    content: str
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, c: Consultation) -> ConsultationRead:
        return cls(c.id, c.assignment_id, c.unit, c.on, c.form, FORMS.get(c.form, c.form), c.people, c.content,
                   c.recorded_by, c.recorded_at)


class ProposalDetail(msgspec.Struct):
    proposal: ProposalRead
    replies: list[ReplyRead]
    consultations: list[ConsultationRead]
    history: list[HistoryRead]
