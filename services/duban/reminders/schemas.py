"""What the API takes and gives for 催办."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from duban.reminders.ladder import label
from duban.reminders.models import Reminder


class ReminderCreate(msgspec.Struct, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None  # None: every unit not done


class ReminderRead(msgspec.Struct):
    id: str
    item_ref: str
    assignment_id: str
    clock_kind: str | None
    due: date | None
    step: str
    step_label: str
    audience: list[str]
    note: str
    by: str
    at: datetime
    flagged: bool

    @classmethod
    def of(cls, r: Reminder) -> ReminderRead:
        return cls(r.id, r.item_ref, r.assignment_id, r.clock_kind, r.due, r.step, label(r.step),
                   r.audience, r.note, r.by, r.at, r.flagged)
