"""One description of a document, rendered two ways (render.py: DOCX by python-docx, PDF by WeasyPrint),
so the two renditions cannot drift apart.

A document is a masthead, a title, its number (文号 / 编号) and a list of blocks in reading order. The
description holds text and structure only, never formatting: the renderers give every block kind its
GB/T 9704 look (方正小标宋简体 title, 黑体 first-level headings, 楷体 second-level, 仿宋 body, 三号 text,
22 lines of 28 characters, the red masthead rule)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Heading:
    """A section heading: level 1 (一、… in 黑体) or level 2 (（一）… in 楷体)."""

    text: str
    level: Literal[1, 2] = 1


@dataclass(frozen=True)
class Paragraph:
    """Body text (仿宋, first line indented two characters). ``align``: left (indented), center, right."""

    text: str
    align: Literal["left", "center", "right"] = "left"
    bold: bool = False


@dataclass(frozen=True)
class Field:
    """One labelled line of a form (通知单: 编号, 任务来源, 承办单位 …): label and value."""

    label: str
    value: str


@dataclass(frozen=True)
class Form:
    """A two-column form table of labelled fields (the notice's body, a 签收 part)."""

    fields: tuple[Field, ...]
    caption: str | None = None


@dataclass(frozen=True)
class Table:
    """A data table: header row and rows of cells (text), relative column widths (sum to anything)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] | None = None
    caption: str | None = None


@dataclass(frozen=True)
class Signature:
    """The closing lines: issuing body and date, right-aligned (and contact lines below, if any)."""

    issuer: str
    date: str  # as printed: 2026年11月27日
    contact: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageBreak:
    pass


Block = Heading | Paragraph | Form | Table | Signature | PageBreak


@dataclass(frozen=True)
class Document:
    """A document as the renderers take it.

    ``kind``: notice (领导批办事项通知单), reminder_notice (催办通知书), bulletin (督查通报),
    special_report (督查专报), result_report (办理情况报告). ``masthead``: the red heading (淮安市人民政府
    办公室督查室), or None for a plain form. ``number``: as printed under the masthead (淮督通〔2026〕3号,
    第3期). ``addressees``: 主送 line(s), printed before the body."""

    kind: str
    title: str
    blocks: tuple[Block, ...]
    masthead: str | None = None
    number: str | None = None
    addressees: str | None = None
    footer: tuple[str, ...] = field(default_factory=tuple)  # 抄送 / 印发 lines at the end
    # When it was issued (ISO date, "2026-11-27"): the DOCX's created/modified properties, so that one
    # description always renders to the same bytes (render.py). None: the renderer's fixed default.
    issued: str | None = None
