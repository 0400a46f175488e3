"""What the API takes and gives for generated documents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from duban.documents.models import KINDS, GeneratedDocument, Rendition

Para = Annotated[str, msgspec.Meta(max_length=20000)]
Short = Annotated[str, msgspec.Meta(max_length=100)]


class SpecialReportCreate(msgspec.Struct, forbid_unknown_fields=True):
    """《督查专报》: the 督查室's text; the platform adds what it knows about the item and its units."""

    progress: Para = ""  # 基本情况及进展
    problems: Para = ""  # 存在的问题
    basis: Para = ""  # the lead paragraph: 依据、时间、范围、方式
    causes: Para = ""  # 原因分析
    suggestions: Para = ""  # 意见建议
    report_to: Short | None = None  # 报： (default: the item's leader)


class ReminderNoticeCreate(msgspec.Struct, forbid_unknown_fields=True):
    """催办通知书 for one overdue assignment of the item."""

    assignment_id: Annotated[str, msgspec.Meta(min_length=1, max_length=36)]
    reply_within_workdays: Annotated[int, msgspec.Meta(ge=1, le=30)] = 3  # the written answer is due in N working days
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None  # an added requirement
    contact: Short | None = None  # 联系人 (default: the sender)
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class RenditionRead(msgspec.Struct):
    format: str
    sha256: str
    size: int


class DocumentRead(msgspec.Struct):
    id: str
    kind: str  # notice | reminder_notice | special_report | result_report
    kind_label: str
    number: str
    title: str
    item_id: str
    assignment_id: str | None
    unit: str | None
    created_by: str
    created_at: datetime
    docx_url: str
    pdf_url: str
    renditions: list[RenditionRead]  # the formats downloaded (and kept) so far, with their SHA-256

    @classmethod
    def of(cls, d: GeneratedDocument, renditions: list[Rendition]) -> DocumentRead:
        base = f"/api/items/{d.item_id}/documents/{d.id}"
        return cls(d.id, d.kind, KINDS.get(d.kind, d.kind), d.number, d.title, d.item_id, d.assignment_id, d.unit,
                   d.created_by, d.created_at, f"{base}/docx", f"{base}/pdf",
                   [RenditionRead(r.format, r.sha256, r.size) for r in sorted(renditions, key=lambda r: r.format)])
