"""What the API takes and gives for 督办 records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from duban.supervision.models import MODES, Supervision

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class SupervisionCreate(msgspec.Struct, forbid_unknown_fields=True):
    mode: Literal["written", "on_site", "research", "joint"]
    on: date
    people: Annotated[list[Name], msgspec.Meta(min_length=1, max_length=50)]
    findings: Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None  # None: every unit of the item
    joint_bodies: Annotated[list[Name], msgspec.Meta(max_length=50)] = []
    follow_up_required: bool = False
    follow_up: Annotated[str, msgspec.Meta(max_length=20000)] = ""


class SupervisionRead(msgspec.Struct):
    id: str
    item_ref: str
    assignment_id: str | None
    mode: str
    mode_label: str
    on: date
    people: list[str]
    joint_bodies: list[str]
    findings: str
    follow_up_required: bool
    follow_up: str
    recorded_by: str
    recorded_at: datetime

    @classmethod
    def of(cls, s: Supervision) -> SupervisionRead:
        return cls(s.id, s.item_ref, s.assignment_id, s.mode, MODES.get(s.mode, s.mode), s.on, s.people,
                   s.joint_bodies, s.findings, s.follow_up_required, s.follow_up, s.recorded_by, s.recorded_at)
