"""What the API takes and gives for the 批示件 register."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from duban.confidentiality.models import InstructionRecord

# Every level a caller may name; the state-secret ones are named so they can be refused with the reason
# (levels.check_level), not with a bare "not one of".
Level = Literal["public", "internal", "sensitive", "confidential", "secret", "top_secret"]


class InstructionCreate(msgspec.Struct, forbid_unknown_fields=True):
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=64, description="批示件编号, unique in its year")]
    instructed_on: Annotated[date, msgspec.Meta(description="批示日期, not in the future")]
    leader: Annotated[str, msgspec.Meta(min_length=1, max_length=64,
                                        description="批示领导: a leader code of the registry, if the tenant has any")]
    level: Level = "sensitive"
    title: Annotated[str, msgspec.Meta(max_length=200)] = ""
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    item_id: Annotated[str, msgspec.Meta(min_length=1, max_length=36)] | None = None  # the item it became, if any


class InstructionLink(msgspec.Struct, forbid_unknown_fields=True):
    item_id: Annotated[str, msgspec.Meta(min_length=1, max_length=36)]


class InstructionRead(msgspec.Struct):
    id: str
    number: str
    year: int
    instructed_on: date
    leader: str
    leader_name: str
    level: str
    level_label: str
    title: str
    note: str
    item_id: str | None
    registered_by: str
    registered_at: datetime

    @classmethod
    def of(cls, r: InstructionRecord) -> InstructionRead:
        from duban.confidentiality.levels import CLASSIFIED, LABELS  # noqa: PLC0415

        return cls(r.id, r.number, r.year, r.instructed_on, r.leader, r.leader_name, r.level,
                   LABELS.get(r.level) or CLASSIFIED.get(r.level, r.level), r.title, r.note, r.item_id,
                   r.registered_by, r.registered_at)
