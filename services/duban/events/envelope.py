"""The event envelope and the typed, versioned payload of every event kind (ARCHITECTURE §4)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

SUBJECT_ROOT = "duban.v1"


def subject_for(to_tenant: str, from_tenant: str, kind: str) -> str:
    """``duban.v1.<to_tenant>.<from_tenant>.<kind>``: the sender is in the subject, so NATS permissions
    can let a node publish only as the tenants it hosts (``duban nats config``)."""
    return f"{SUBJECT_ROOT}.{to_tenant}.{from_tenant}.{kind}"


class Envelope(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str  # also the Nats-Msg-Id
    kind: str
    from_tenant: str
    to_tenant: str
    item_ref: str  # "<origin tenant>/<item id>": stable across the whole split tree
    seq: int  # per item, per sender
    occurred_at: datetime
    actor: str
    payload: dict
    # The sender tenant's signature (events/keys.py): which of its keys, and the Ed25519 signature
    # (base64) of every other field. Empty only in the outbox: the relay signs as it publishes.
    key_id: str = ""
    sig: str = ""


class ClockSet(msgspec.Struct, frozen=True):
    """One deadline clock as the assigner computed it (the unit keeps the same id and due date)."""

    id: str
    kind: str
    seq: int
    rule: str
    due: date
    start: date | None = None


class AssignmentIssued(msgspec.Struct, frozen=True):
    assignment_id: str
    role: Literal["lead", "co"]
    title: str
    content: str
    requirements: str
    source_kind: str
    deadline: date
    serial: str | None = None
    clocks: list[ClockSet] = []
    units: list[dict[str, str]] = []  # the whole plan ({"unit", "role"}): the lead and its co-units know each other
    group: str | None = None  # the item's 督查组 and issuing leader: the unit's queue filters by them
    leader: str | None = None
    confidentiality: str = "internal"  # the item's 密级 (confidentiality/levels.py); events from before: internal
    v: int = 1


class AssignmentAccepted(msgspec.Struct, frozen=True):
    assignment_id: str
    accepted_at: datetime
    accepted_by: str
    v: int = 1


class AttachmentRef(msgspec.Struct, frozen=True):
    """An attachment as it travels: where its bytes lie in the sender's bucket and what they hash to.
    Never the bytes: the receiver copies them into its own bucket and checks them before it acks."""

    id: str
    bucket: str
    key: str
    sha256: str
    size: int
    name: str
    type: str  # content type


class FeedbackSubmitted(msgspec.Struct, frozen=True):
    assignment_id: str
    feedback_id: str
    kind: Literal["progress", "result"]
    text: str
    author: str
    submitted_at: datetime
    attachments: list[AttachmentRef] = []
    co_views: list[dict] = []  # a lead unit's result report carries its co-units' views (counits/report.py)
    v: int = 1


class CompletionRequested(msgspec.Struct, frozen=True):
    assignment_id: str
    note: str
    v: int = 1


class AssignmentCompleted(msgspec.Struct, frozen=True):
    assignment_id: str
    v: int = 1


class AssignmentReturned(msgspec.Struct, frozen=True):
    assignment_id: str
    reason: str
    v: int = 1


class SupervisionRecorded(msgspec.Struct, frozen=True):
    """督办: the assigner recorded a supervision action concerning this unit's assignment."""

    supervision_id: str
    assignment_id: str
    whole_item: bool
    mode: str
    on: date
    people: list[str]
    joint_bodies: list[str]
    findings: str
    follow_up_required: bool
    follow_up: str
    recorded_by: str
    recorded_at: datetime
    v: int = 1


class ExtensionRequested(msgspec.Struct, frozen=True):
    """延期申请: the unit asks to move one of its due dates."""

    extension_id: str
    assignment_id: str
    clock_id: str
    clock_kind: str
    current_due: date
    requested_due: date
    reason: str
    progress: str
    requested_by: str
    requested_at: datetime
    v: int = 1


class ExtensionDecided(msgspec.Struct, frozen=True):
    """The assigner approved (with the new due date) or refused (with the reason) an extension."""

    extension_id: str
    approved: bool
    new_due: date | None
    note: str
    decided_by: str
    decided_at: datetime
    v: int = 1


class ReminderSent(msgspec.Struct, frozen=True):
    """催办: the assigner reminds the unit of a due date (a ladder step, or by hand with a note)."""

    reminder_id: str
    assignment_id: str
    clock_kind: str | None
    due: date | None
    step: str
    audience: list[str]
    note: str
    by: str
    at: datetime
    v: int = 1


class NodeClock(msgspec.Struct, frozen=True):
    """One clock of a unit deeper in the split tree, as its assigner holds it."""

    kind: str
    seq: int
    due: date
    state: str
    on_time: bool | None = None


class NodeFeedback(msgspec.Struct, frozen=True):
    """The last report a unit deeper in the tree sent (with its attachments' references)."""

    feedback_id: str
    kind: str
    text: str
    author: str
    submitted_at: datetime
    attachments: list[dict] = []


class TreeNodeReported(msgspec.Struct, frozen=True):
    """Roll-up (分解): the state of one assignment of a part, sent up by the tenant that split the work, and
    passed on up by every level above it until it reaches the item's origin."""

    assignment_id: str
    parent_assignment_id: str  # the assignment the part was split from (held by the level above)
    part_ref: str  # the part's own item_ref ("<splitting tenant>/<item id>")
    part_serial: str | None
    part_title: str
    assigner: str
    unit: str
    role: str
    state: str
    deadline: date
    clocks: list[NodeClock]
    last_feedback: NodeFeedback | None
    changed_at: datetime
    v: int = 1


class CoViewsSent(msgspec.Struct, frozen=True):
    """协办: a co-unit's views, sent to the lead unit (and carried by the lead's result report to the assigner)."""

    view_id: str
    assignment_id: str  # the co-unit's
    text: str
    author: str
    sent_at: datetime
    due: date | None
    on_time: bool | None
    v: int = 1


class AssignmentClosed(msgspec.Struct, frozen=True):
    """The level that split the work closed this part without waiting for the unit (with the reason)."""

    assignment_id: str
    reason: str
    v: int = 1


class FiguresReported(msgspec.Struct, frozen=True):
    """第九条: one tenant's own supervision work as figures, sent to the city 督查室."""

    tenant: str
    open: int
    done: int
    overdue: int
    done_on_time: int
    received_open: int
    received_done: int
    received_overdue: int
    received_done_on_time: int
    as_of: datetime
    v: int = 1


class ProposalAssigned(msgspec.Struct, frozen=True):
    """建议提案: its particulars, sent with the assignment to each handling unit."""

    proposal_id: str
    assignment_id: str
    kind: str
    number: str
    proposer: str
    session: str
    title: str
    content: str
    mode: str  # separate (分办) | joint (会办)
    units: list[dict[str, str]]
    registered_by: str
    registered_at: datetime
    v: int = 1


class ProposalConsulted(msgspec.Struct, frozen=True):
    """面商: the unit talked with the deputy or member before replying."""

    consultation_id: str
    proposal_id: str
    assignment_id: str
    on: date
    form: str
    people: list[str]
    content: str
    recorded_by: str
    recorded_at: datetime
    v: int = 1


class ProposalReplied(msgspec.Struct, frozen=True):
    """答复: the unit's reply to the deputy or member, with its class A/B/C, in a round (2: after 不满意)."""

    reply_id: str
    proposal_id: str
    assignment_id: str
    round: int
    reply_class: str
    text: str
    signed_by: str
    contact: str
    phone: str
    replied_by: str
    replied_at: datetime
    v: int = 1


class ProposalRated(msgspec.Struct, frozen=True):
    """The proposer's satisfaction with a reply, entered at the city; 不满意 reopens the assignment for
    another reply by ``due``, with the clocks the city set (the unit keeps the same)."""

    reply_id: str
    proposal_id: str
    assignment_id: str
    rating: str
    note: str
    rated_by: str
    rated_at: datetime
    reopened: bool = False
    due: date | None = None
    clocks: list[ClockSet] = []
    v: int = 1


PAYLOADS: dict[str, type[msgspec.Struct]] = {
    "assignment.issued": AssignmentIssued,
    "assignment.accepted": AssignmentAccepted,
    "feedback.submitted": FeedbackSubmitted,
    "assignment.completion_requested": CompletionRequested,
    "assignment.completed": AssignmentCompleted,
    "assignment.returned": AssignmentReturned,
    "supervision.recorded": SupervisionRecorded,
    "extension.requested": ExtensionRequested,
    "extension.decided": ExtensionDecided,
    "reminder.sent": ReminderSent,
    "tree.node": TreeNodeReported,
    "assignment.closed": AssignmentClosed,
    "figures.reported": FiguresReported,
    "co.views": CoViewsSent,
    "proposal.assigned": ProposalAssigned,
    "proposal.consulted": ProposalConsulted,
    "proposal.replied": ProposalReplied,
    "proposal.rated": ProposalRated,
}


def encode(envelope: Envelope) -> bytes:
    """Envelope → JSON bytes."""
    return msgspec.json.encode(envelope)


def decode(body: bytes) -> Envelope:
    """JSON bytes → Envelope (raises ``msgspec.ValidationError``/``DecodeError``)."""
    return msgspec.json.decode(body, type=Envelope)


def payload_of(envelope: Envelope) -> msgspec.Struct:
    """The envelope's payload as its typed struct (raises on an unknown kind or bad payload)."""
    kind = PAYLOADS.get(envelope.kind)
    if kind is None:
        raise msgspec.ValidationError(f"unknown event kind {envelope.kind!r}")
    return msgspec.convert(envelope.payload, kind)
