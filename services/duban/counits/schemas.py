"""API shapes of a co-unit's views."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from duban.counits.models import CoView


class CoViewCreate(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]


class CoViewRead(msgspec.Struct):
    id: str
    item_ref: str
    assignment_id: str
    co_unit: str
    lead_unit: str
    text: str
    author: str
    sent_at: datetime
    due: date | None
    on_time: bool | None

    @classmethod
    def of(cls, v: CoView) -> CoViewRead:
        return cls(v.id, v.item_ref, v.assignment_id, v.co_unit, v.lead_unit, v.text, v.author, v.sent_at, v.due,
                   v.on_time)
