"""What a list keeps (the checked query parameters; query.py makes them, the repositories apply them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

LightFilter = tuple[str, date, date]  # (colour, today, the last due date that shows yellow today)


@dataclass(frozen=True)
class Filters:
    """None keeps all. ``unit``: items assigned (交办) to that unit; ``assigner``: a queue's sending tenant;
    ``group`` / ``leader``: the item's 督查组 and issuing leader (an assignment carries its item's);
    ``due_from`` / ``due_to``: the deadline, both ends included; ``q``: words in the title or the text."""

    state: str | None = None
    source: str | None = None
    unit: str | None = None
    assigner: str | None = None
    group: str | None = None
    leader: str | None = None
    light: LightFilter | None = None
    due_from: date | None = None
    due_to: date | None = None
    q: str | None = None
    status: str | None = None  # the inbox's
    from_tenant: str | None = None  # the inbox's
