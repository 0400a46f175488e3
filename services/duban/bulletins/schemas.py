"""What the API takes and gives for 《督查通报》. The figures' meaning: figures.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from duban.bulletins.models import Bulletin


class BulletinCreate(msgspec.Struct, forbid_unknown_fields=True):
    period_from: date  # the period's first day (交办 on or after it)
    period_to: date  # its last day (交办 on or before it; the figures stand as of its end); not after today
    # 工作要求: the one paragraph the 督查室 writes itself (every figure is computed)
    requirements: Annotated[str, msgspec.Meta(max_length=5000)] | None = None


class Counts(msgspec.Struct):
    assigned: int  # 交办件数 / 承办件数
    done: int  # 办结数
    done_on_time: int
    done_late: int
    in_progress: int  # 在办数
    overdue: int  # 超时未办数
    awaiting: int  # 待审核 (办结申请 made, not yet confirmed)
    behind: int  # 进度滞后
    completion_rate: float | None  # 完成率, per cent
    on_time_rate: float | None  # 按期办结率, per cent


class SourceCounts(Counts):
    source_kind: str
    label: str


class UnitCounts(Counts):
    unit: str
    name: str


class Period(msgspec.Struct):
    from_: date = msgspec.field(name="from")
    to: date = msgspec.field(name="to")


class OverdueEntry(msgspec.Struct):
    serial: str
    title: str
    deadline: date
    overdue_workdays: int


class LateEntry(msgspec.Struct):
    serial: str
    title: str
    deadline: date
    completed_on: date
    late_workdays: int


class BehindEntry(msgspec.Struct):
    serial: str
    title: str
    missed: list[str]  # which due dates passed unmet: 签收, 反馈, 进度报告


class UnitProblems(msgspec.Struct):
    unit: str
    name: str
    overdue: list[OverdueEntry]
    late: list[LateEntry]
    behind: list[BehindEntry]


class Figures(msgspec.Struct):
    period: Period
    overall: Counts
    by_source: list[SourceCounts]
    units: list[UnitCounts]
    units_total: Counts
    problems: list[UnitProblems]


class BulletinRead(msgspec.Struct):
    id: str
    year: int
    number: int
    number_text: str  # 第N期
    title: str
    period_from: date
    period_to: date
    requirements: str | None
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, b: Bulletin, title: str) -> BulletinRead:
        return cls(b.id, b.year, b.number, f"第{b.number}期", title, b.period_from, b.period_to, b.requirements,
                   b.created_by, b.created_at)


class BulletinDetail(msgspec.Struct):
    bulletin: BulletinRead
    figures: Figures

    @classmethod
    def of(cls, b: Bulletin, title: str) -> BulletinDetail:
        return cls(BulletinRead.of(b, title), msgspec.convert(b.figures, Figures, strict=False))
