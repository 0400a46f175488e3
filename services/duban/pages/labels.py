"""The words the pages show for the platform's codes (states, roles, sources, lights, history actions)."""

from __future__ import annotations

from datetime import date, datetime

from duban.context import CHINA
from duban.items.service import ACTION_LABELS, STATE_LABELS

ROLE_LABELS = {
    "inspector": "督查员", "approver": "审定人（秘书长/办公室主任）", "supervisor": "督查机构", "chief": "第一责任人",
    "handler": "承办人", "leader_in_charge": "分管领导", "administrator": "系统管理员", "admin": "系统管理员",
    "registrar": "建议提案登记员", "group_member": "督查组成员",
}
SOURCE_LABELS = {"guidance": "指导", "major_decision": "重大决策部署", "meeting_item": "会议议定事项",
                 "instruction": "领导批示", "suggestion_proposal": "建议提案", "other": "其他交办事项"}
SOURCE_FIELDS = {
    "leader": "批示（交办）领导", "instruction_text": "批示内容", "instructed_on": "批示日期",
    "document": "文件名称或文号",
    "issued_by": "发文机关", "meeting_kind": "会议类型", "meeting_date": "会议日期", "session_number": "会次",
    "agreed_text": "议定事项", "feedback_due": "反馈时限", "kind": "类别", "number": "编号", "proposer": "提出人",
    "session": "届次", "tenant": "单位", "note": "说明",
}
SOURCE_VALUES = {"plenary": "全体（扩大）会议", "executive": "常务会议", "mayor_topic": "市长专题会议",
                 "suggestion": "人大代表建议", "proposal": "政协委员提案"}
LIGHT_LABELS = {"green": "正常", "yellow": "临期", "red": "逾期"}
UNIT_ROLES = {"lead": "主办", "co": "协办"}
FEEDBACK_KINDS = {"progress": "进展反馈", "result": "结果反馈"}
CONFIDENTIALITY = {"public": "公开", "internal": "内部", "sensitive": "敏感"}
ACTIONS = {**ACTION_LABELS, "create": "起草", "issue": "下发", "approve": "审定立项", "received": "收到交办",
           "receive": "收到交办", "split": "分解", "roll_up": "状态汇总",
           "remind": "催办", "supervise": "督办", "request_extension": "延期申请", "approve_extension": "同意延期",
           "refuse_extension": "不同意延期", "reminded": "收到催办", "supervised": "收到督办"}
# Item states an overview's filter offers, in the order of the path.
ITEM_STATES = ("draft", "pending_approval", "rejected", "registered", "assigned", "in_progress",
               "completion_review", "completed", "archived", "withdrawn")
QUEUE_STATES = ("issued", "accepted", "in_progress", "returned", "completion_requested", "done", "closed")
WEEKDAYS = "一二三四五六日"


def state(code: str | None) -> str:
    return STATE_LABELS.get(code or "", code or "—")


def day(value: date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else "—"


def moment(value: datetime | None) -> str:
    if value is None:
        return "—"
    local = value.astimezone(CHINA) if value.tzinfo else value
    return f"{local.year}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"


def size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


FILTERS = {
    "state": state, "role": lambda r: ROLE_LABELS.get(r, r), "source": lambda s: SOURCE_LABELS.get(s, s),
    "light": lambda v: LIGHT_LABELS.get(v or "", "—"), "day": day, "moment": moment, "size": size,
    "action": lambda a: ACTIONS.get(a, a), "unit_role": lambda r: UNIT_ROLES.get(r, r),
    "feedback_kind": lambda k: FEEDBACK_KINDS.get(k, k), "source_field": lambda f: SOURCE_FIELDS.get(f, f),
    "source_value": lambda v: SOURCE_VALUES.get(v, v) if isinstance(v, str) else v,
    "confidentiality": lambda c: CONFIDENTIALITY.get(c, c),
    "clock": lambda c: {"open": "计时中", "met": "已完成", "superseded": "已调整"}.get(c, c),
}
