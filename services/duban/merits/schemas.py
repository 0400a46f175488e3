"""What the API takes and gives for 奖惩建议."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from duban.merits.models import KINDS, MeritProposal

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=36)]


class MeritProposalCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["commend", "sanction"]  # 奖励 / 惩处
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]  # tenant code of the unit
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=20000)]
    person: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    basis_items: Annotated[list[Id], msgspec.Meta(max_length=100)] = []
    basis_assignments: Annotated[list[Id], msgspec.Meta(max_length=100)] = []


class MeritProposalRead(msgspec.Struct):
    id: str
    kind: str
    kind_label: str
    unit: str
    unit_name: str
    person: str | None
    reason: str
    basis_items: list[str]
    basis_assignments: list[str]
    filed_by: str
    filed_at: datetime

    @classmethod
    def of(cls, p: MeritProposal, unit_name: str) -> MeritProposalRead:
        return cls(p.id, p.kind, KINDS.get(p.kind, p.kind), p.unit, unit_name, p.person, p.reason,
                   list(p.basis_items), list(p.basis_assignments), p.filed_by, p.filed_at)
