"""What the API shows of a clock."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from duban.deadlines.models import Clock
from duban.deadlines.rules import describe

KIND_LABELS = {"accept": "签收", "feedback": "反馈", "progress": "进度报告", "completion": "办结"}


class ClockRead(msgspec.Struct):
    id: str
    kind: str
    label: str
    seq: int
    rule: str
    rule_text: str
    due: date
    original_due: date
    state: str
    met_at: datetime | None
    on_time: bool | None
    late_workdays: int | None

    @classmethod
    def of(cls, c: Clock) -> ClockRead:
        return cls(c.id, c.kind, KIND_LABELS.get(c.kind, c.kind), c.seq, c.rule, describe(c.rule), c.due,
                   c.original_due, c.state, c.met_at, c.on_time, c.late_workdays)
