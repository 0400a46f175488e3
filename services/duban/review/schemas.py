"""What the annual review gives (the figures' meaning: review/service.py)."""

from __future__ import annotations

from datetime import date

import msgspec


class UnitReview(msgspec.Struct):
    unit: str
    name: str
    handled: int  # 承办件数
    done: int
    done_on_time: int  # 按期办结
    done_late: int  # 逾期办结
    in_progress: int
    overdue: int  # 超时未办
    on_time_rate: float | None  # per cent of done
    avg_feedback_workdays: float | None  # 平均首次反馈用时（工作日）
    avg_completion_workdays: float | None  # 平均办结用时（工作日）


class PersonReview(msgspec.Struct):
    person: str  # unit/username, as the events recorded them
    username: str
    unit: str
    unit_name: str
    handled: int  # 经办件数
    accepted: int  # 签收件数
    fed_back: int  # 反馈件数
    completed: int  # 申请办结（已办结）件数
    done_on_time: int
    done_late: int
    overdue: int  # of those they signed for
    avg_feedback_workdays: float | None
    avg_completion_workdays: float | None


class Review(msgspec.Struct):
    year: int
    as_of: date  # the figures stand as of the end of this day
    units: list[UnitReview]
    total: UnitReview  # 合计 over every unit
    persons: list[PersonReview]
