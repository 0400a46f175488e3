"""What the API takes and gives for 延期申请."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from duban.extensions.models import Extension


class ExtensionCreate(msgspec.Struct, forbid_unknown_fields=True):
    requested_due: date
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    progress: Annotated[str, msgspec.Meta(max_length=20000)] = ""
    clock: Literal["completion", "feedback", "progress"] = "completion"


class ExtensionApprove(msgspec.Struct, forbid_unknown_fields=True):
    new_due: date | None = None  # default: the date asked for
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ExtensionRead(msgspec.Struct):
    id: str
    item_ref: str
    assignment_id: str
    clock_id: str
    clock_kind: str
    current_due: date
    requested_due: date
    reason: str
    progress: str
    state: str
    requested_by: str
    requested_at: datetime
    new_due: date | None
    decision_note: str | None
    decided_by: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, e: Extension) -> ExtensionRead:
        return cls(e.id, e.item_ref, e.assignment_id, e.clock_id, e.clock_kind, e.current_due, e.requested_due,
                   e.reason, e.progress, e.state, e.requested_by, e.requested_at, e.new_due, e.decision_note,
                   e.decided_by, e.decided_at)
