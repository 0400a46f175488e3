"""API shapes of 分解 (a part) and of the split tree."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from duban.items.schemas import Light, UnitPlan

Text = Annotated[str, msgspec.Meta(max_length=20000)]


class PartCreate(msgspec.Struct, forbid_unknown_fields=True):
    """One part of a received assignment, for units below the splitting tenant (its departments, towns)."""

    units: Annotated[list[UnitPlan], msgspec.Meta(min_length=1, max_length=50)]
    deadline: date  # no later than the received assignment's
    title: Annotated[str, msgspec.Meta(max_length=200)] = ""  # default: the received assignment's
    content: Text = ""  # this part's plan (default: the received assignment's content)
    requirements: Text = ""
    progress_reports: Annotated[str, msgspec.Meta(max_length=16)] | None = None


class NodeFeedbackRead(msgspec.Struct):
    kind: str
    text: str
    author: str
    submitted_at: datetime
    attachments: list[dict] = []


class TreeUnit(msgspec.Struct):
    """One unit's assignment at some level of the tree, with what is below it."""

    assignment_id: str
    level: int  # 1: assigned by the item's own tenant; 2: by a unit of level 1; …
    assigner: str
    unit: str
    unit_name: str
    role: str
    state: str
    deadline: date
    light: Light | None
    next_due: date | None  # the earliest open due date
    part: dict | None  # the part it belongs to below level 1: {"ref", "serial", "title"}
    last_feedback: NodeFeedbackRead | None
    children: list[TreeUnit] = []


class TreeRead(msgspec.Struct):
    ref: str  # the item (or the received assignment) the tree is rooted at
    title: str
    state: str
    units: list[TreeUnit]
    counts: dict[str, int]  # units per state, every level together
