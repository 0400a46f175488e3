"""What an import answers: the report of every row (created, skipped, refused)."""

from __future__ import annotations

from typing import Literal

import msgspec

Mode = Literal["all", "good-rows", "check"]


class RowError(msgspec.Struct):
    """A refused cell: the row as Excel numbers it, the column (header and letter), why, in Chinese."""

    row: int
    column: str
    letter: str
    reason: str
    value: str = ""


class RowCreated(msgspec.Struct):
    row: int
    item_id: str
    title: str


class RowSkipped(msgspec.Struct):
    """A row not imported, and not an error: imported before (``item_id``: the item it became), a repeat of
    a row above, the sample row, or a 已完成 item."""

    row: int
    reason: str
    item_id: str | None = None


class LedgerImportRead(msgspec.Struct):
    """The import's report. ``imported``: were the items created (in "all" mode, only if no row is wrong;
    "check" creates none). The same shape answers a refused import (400), with ``errors`` filled."""

    status_code: int
    detail: str
    mode: str = "all"
    file: str = ""
    sheet: str = ""
    rows: int = 0
    imported: bool = False
    created: list[RowCreated] = []
    skipped: list[RowSkipped] = []
    errors: list[RowError] = []
