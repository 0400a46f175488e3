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
    v: int = 1


class AssignmentAccepted(msgspec.Struct, frozen=True):
    assignment_id: str
    accepted_at: datetime
    accepted_by: str
    v: int = 1


class FeedbackSubmitted(msgspec.Struct, frozen=True):
    assignment_id: str
    feedback_id: str
    kind: Literal["progress", "result"]
    text: str
    author: str
    submitted_at: datetime
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
