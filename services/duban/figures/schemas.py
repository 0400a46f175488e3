"""API shape of one tenant's figures."""

from __future__ import annotations

from datetime import datetime

import msgspec

from duban.figures.models import FigureReport
from duban.tenancy.registry import Registry


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


class FiguresRead(msgspec.Struct):
    tenant: str
    name: str
    kind: str
    open: int
    done: int
    overdue: int
    on_time_rate: float | None  # done on time / done (None while nothing is done)
    received_open: int
    received_done: int
    received_overdue: int
    received_on_time_rate: float | None
    as_of: datetime

    @classmethod
    def of(cls, r: FigureReport, registry: Registry) -> FiguresRead:
        t = registry.get(r.tenant)
        return cls(r.tenant, t.name if t else r.tenant, t.kind if t else "", r.open, r.done, r.overdue,
                   _rate(r.done_on_time, r.done), r.received_open, r.received_done, r.received_overdue,
                   _rate(r.received_done_on_time, r.received_done), r.as_of)
