"""The 台账 as a spreadsheet: its columns (PRACTICE.md), reading an uploaded .xlsx into rows of cells, and
writing one — an export of a list, or the template to fill in. Only openpyxl here; what the cells mean is
service.py's."""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from duban.errors import InvalidInput

# The 台账's columns, in the offices' order (PRACTICE.md); the first unit listed is the lead unit.
COLUMNS = ("序号", "事项来源", "督办事项", "责任领导", "牵头单位", "配合单位", "责任人/联系电话", "完成时限",
           "进展情况", "完成状态", "备注")
# What an export adds after them (an import passes over columns it does not know).
EXTRA = ("信号灯", "下一时限", "编号", "办理状态")
STATUSES = ("已完成", "正在办理", "滞后")  # 完成状态
REQUIRED = ("督办事项", "牵头单位", "完成时限")  # a sheet without these headers is not a 台账
WIDTHS = {"序号": 6, "事项来源": 28, "督办事项": 48, "责任领导": 14, "牵头单位": 22, "配合单位": 28,
          "责任人/联系电话": 20, "完成时限": 12, "进展情况": 40, "完成状态": 10, "备注": 24,
          "信号灯": 8, "下一时限": 12, "编号": 12, "办理状态": 12}
# Other names offices give the same columns (the header is matched without spaces and asterisks).
ALIASES = {
    "任务来源": "事项来源", "来源": "事项来源",
    "督查事项": "督办事项", "事项内容": "督办事项", "督办内容": "督办事项", "工作任务": "督办事项",
    "牵头领导": "责任领导", "交办领导": "责任领导",
    "主办单位": "牵头单位", "责任单位": "牵头单位", "承办单位": "牵头单位",
    "协办单位": "配合单位",
    "责任人": "责任人/联系电话", "联系人": "责任人/联系电话", "责任人及联系电话": "责任人/联系电话",
    "联系人/联系电话": "责任人/联系电话",
    "办结时限": "完成时限", "时限": "完成时限",
    "办理情况": "进展情况", "工作进展": "进展情况",
    "状态": "完成状态",
}
LIGHT_LABELS = {"red": "红", "yellow": "黄", "green": "绿"}
LIGHT_FILLS = {"red": "FFC7CE", "yellow": "FFEB9C", "green": "C6EFCE"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MAX_BYTES = 5 * 1024 * 1024  # an upload: a 台账 of a few thousand rows is well below this
MAX_UNZIPPED = 60 * 1024 * 1024  # what the .xlsx (a zip) may unpack to: no zip bombs
MAX_ROWS = 2000  # data rows in one import
MAX_COLUMNS = 40  # columns read
HEADER_ROWS = 10  # a title row or two may stand above the header
NOT_XLSX = ("文件不是 Excel 工作簿（.xlsx）：请在 Excel 或 WPS 中「另存为」.xlsx 格式后再导入 "
            "(not an .xlsx workbook)")


def letter(index: int) -> str:
    """The Excel letter of a column (0-based index)."""
    return get_column_letter(index + 1)


def _header(value: object) -> str:
    text = re.sub(r"[\s*＊]", "", str(value)) if value is not None else ""
    return ALIASES.get(text, text)


@dataclass
class Sheet:
    """An uploaded 台账: its header's columns (name → 0-based index) and its data rows (row number, cells)."""

    name: str
    header_row: int
    columns: dict[str, int]
    rows: list[tuple[int, tuple[Any, ...]]]

    def cell(self, row: tuple[Any, ...], column: str) -> Any:  # noqa: ANN401
        """The raw value of a named column in a row (None if the sheet lacks the column or the cell)."""
        index = self.columns.get(column)
        return row[index] if index is not None and index < len(row) else None

    def position(self, column: str) -> str:
        """The column's letter ("" if the sheet lacks it)."""
        index = self.columns.get(column)
        return letter(index) if index is not None else ""


def check_upload(filename: str, data: bytes) -> None:
    """A .xlsx by name and by content (a zip holding a workbook, of bounded unpacked size), else InvalidInput."""
    lowered = filename.lower()
    if lowered.endswith((".xls", ".et", ".csv", ".ods")) or not lowered.endswith((".xlsx", ".xlsm")):
        raise InvalidInput(f"「{filename}」不是 .xlsx 文件。{NOT_XLSX}")
    if not data:
        raise InvalidInput("上传的文件是空的 (the file is empty)")
    if len(data) > MAX_BYTES:
        raise too_large()
    if not data.startswith(b"PK\x03\x04"):
        raise InvalidInput(NOT_XLSX)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            names = {e.filename for e in entries}
    except zipfile.BadZipFile:
        raise InvalidInput(NOT_XLSX) from None
    if "xl/workbook.xml" not in names:
        raise InvalidInput(NOT_XLSX)
    if sum(e.file_size for e in entries) > MAX_UNZIPPED or len(entries) > 1000:
        raise InvalidInput("工作簿解压后过大，请只保留台账工作表后再导入 (the workbook unpacks too large)")


def too_large() -> InvalidInput:
    """The answer to an upload over the limit."""
    from duban.errors import TooLarge  # noqa: PLC0415

    return TooLarge(f"台账文件超过 {MAX_BYTES // (1024 * 1024)} MB 的上限，请分批导入 (the file is larger than "
                    f"{MAX_BYTES // (1024 * 1024)} MB)")


def read(filename: str, data: bytes) -> Sheet:
    """The first worksheet that has a 台账 header (within its first rows), with its data rows; InvalidInput
    naming what is wrong with the file as a whole (not a workbook, no header, too many rows)."""
    check_upload(filename, data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds for a damaged file; all mean "cannot read"
        raise InvalidInput(f"工作簿无法读取，可能已损坏或加密。{NOT_XLSX}") from None
    try:
        for ws in book.worksheets:
            rows = ws.iter_rows(max_col=MAX_COLUMNS, values_only=True)
            for number, row in enumerate(rows, start=1):
                if number > HEADER_ROWS:
                    break
                columns: dict[str, int] = {}
                for index, value in enumerate(row or ()):
                    name = _header(value)
                    if name in COLUMNS or name in EXTRA:
                        columns.setdefault(name, index)
                if "督办事项" in columns:
                    missing = [c for c in REQUIRED if c not in columns]
                    if missing:
                        raise InvalidInput(f"工作表「{ws.title}」第{number}行的表头缺少「{'」「'.join(missing)}」列；"
                                           f"台账的列依次为：{'、'.join(COLUMNS)} (the header lacks {missing})")
                    return Sheet(ws.title, number, columns, _data_rows(rows, number))
        raise InvalidInput(f"没有找到台账表头：前{HEADER_ROWS}行中应有「督办事项」「牵头单位」「完成时限」等列"
                           "（可下载导入模板） (no 台账 header found)")
    finally:
        book.close()


def _data_rows(rows: Iterator[tuple[Any, ...]], header: int) -> list[tuple[int, tuple[Any, ...]]]:
    found = []
    for number, row in enumerate(rows, start=header + 1):
        if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue
        if len(found) >= MAX_ROWS:
            raise InvalidInput(f"台账超过 {MAX_ROWS} 行，请分批导入 (more than {MAX_ROWS} rows)")
        found.append((number, tuple(row)))
    return found


# -- writing -----------------------------------------------------------------------------------------------
_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")


class LedgerWriter:
    """An export: a write-only workbook (rows go to a temporary file as they are added, so memory stays
    flat however long the list), the 台账 columns then ``EXTRA``, the header frozen."""

    def __init__(self, title: str) -> None:
        self.book = Workbook(write_only=True)
        self.ws = self.book.create_sheet(title[:31])
        self.columns = (*COLUMNS, *EXTRA)
        for index, name in enumerate(self.columns):
            self.ws.column_dimensions[letter(index)].width = WIDTHS.get(name, 14)
        self.ws.freeze_panes = "A2"
        self.ws.append([self._cell(name, font=_HEAD_FONT, fill=_HEAD_FILL) for name in self.columns])
        self.rows = 0

    def _cell(self, value: Any, *, font: Font | None = None, fill: PatternFill | None = None,  # noqa: ANN401
              number_format: str | None = None) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value=value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # text, never a formula a spreadsheet would run
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if number_format is not None:
            cell.number_format = number_format
        cell.alignment = _WRAP
        return cell

    def append(self, values: dict[str, Any], light: str | None) -> None:
        """One row: ``values`` by column name (dates as dates), the light coloured."""
        cells = []
        for name in self.columns:
            value = values.get(name)
            if isinstance(value, date | datetime):
                cells.append(self._cell(value, number_format="yyyy-mm-dd"))
            elif name == "信号灯" and light in LIGHT_FILLS:
                cells.append(self._cell(LIGHT_LABELS[light], fill=PatternFill("solid", fgColor=LIGHT_FILLS[light])))
            else:
                cells.append(self._cell("" if value is None else value))
        self.ws.append(cells)
        self.rows += 1

    def discard(self) -> None:
        """Give up the export (refused half-way): end the sheet's stream and remove its temporary file
        (openpyxl keeps both on the worksheet's writer; left open, they would be finished at garbage
        collection, noisily)."""
        writer = getattr(self.ws, "_writer", None)
        try:
            self.ws.close()
        finally:
            if writer is not None:
                writer.cleanup()

    def save(self) -> IO[bytes]:
        """The workbook in a temporary file (on disk past a few MB), positioned at its start."""
        out = tempfile.SpooledTemporaryFile(max_size=2 * 1024 * 1024)  # noqa: SIM115 — handed to the response
        self.book.save(out)
        out.seek(0)
        return out


def template(today: date, units: Sequence[tuple[str, str]], leaders: Sequence[tuple[str, str]],
             sample: dict[str, Any]) -> bytes:
    """The template to fill in: the header, one sample row (序号「示例」: an import passes over it), the
    完成状态 list and a date check on 完成时限, widths, the header frozen; beside it the instructions and
    the names the columns take (units: (name, code); leaders: (name, code))."""
    book = Workbook()
    ws = book.active
    ws.title = "台账"
    ws.append(list(COLUMNS))
    for index, name in enumerate(COLUMNS):
        cell = ws.cell(row=1, column=index + 1)
        cell.font, cell.fill, cell.alignment = _HEAD_FONT, _HEAD_FILL, Alignment(horizontal="center")
        ws.column_dimensions[letter(index)].width = WIDTHS[name]
    ws.append([sample.get(name, "") for name in COLUMNS])
    for index in range(len(COLUMNS)):
        cell = ws.cell(row=2, column=index + 1)
        cell.font, cell.alignment = Font(italic=True, color="808080"), _WRAP
    ws.cell(row=2, column=COLUMNS.index("完成时限") + 1).number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    status = DataValidation(type="list", formula1=f'"{",".join(STATUSES)}"', allow_blank=True, showErrorMessage=True,
                            errorTitle="完成状态", error=f"请从列表中选择：{'、'.join(STATUSES)}")
    status.add(f"{letter(COLUMNS.index('完成状态'))}2:{letter(COLUMNS.index('完成状态'))}{MAX_ROWS + 1}")
    deadline = DataValidation(type="date", operator="greaterThanOrEqual", formula1="DATE(2000,1,1)", allow_blank=True,
                              showErrorMessage=True, errorTitle="完成时限", error="请填写日期，如 2026-12-31")
    deadline.add(f"{letter(COLUMNS.index('完成时限'))}2:{letter(COLUMNS.index('完成时限'))}{MAX_ROWS + 1}")
    ws.add_data_validation(status)
    ws.add_data_validation(deadline)
    for index in range(2, MAX_ROWS + 2):
        ws.cell(row=index, column=COLUMNS.index("完成时限") + 1).number_format = "yyyy-mm-dd"

    notes = book.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 90
    for row in INSTRUCTIONS:
        notes.append(list(row))
    names = book.create_sheet("单位与领导")
    names.append(["单位名称", "单位代码", "", "领导", "领导代码"])
    for index in range(max(len(units), len(leaders))):
        u = units[index] if index < len(units) else ("", "")
        le = leaders[index] if index < len(leaders) else ("", "")
        names.append([u[0], u[1], "", le[0], le[1]])
    for col, width in zip("ABCDE", (30, 16, 2, 30, 20), strict=True):
        names.column_dimensions[col].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


INSTRUCTIONS = (
    ("列", "怎样填写"),
    ("序号", "可不填。填「示例」的行不导入。"),
    ("事项来源", "以来源类别开头：「领导批示（领导，批示日期）」、「会议议定事项：2026-10-20 第12次常务会议」、"
               "「重大决策部署：文件名称或文号」、「指导：说明」、「其他：说明」。其他写法按「其他」导入。"
               "建议提案请在建议提案登记中录入。"),
    ("督办事项", "必填。第一行为标题（不超过200字），其余各行为交办内容。"),
    ("责任领导", "交办领导的姓名或代码（见「单位与领导」）；不填时须在导入时指定督查组。"),
    ("牵头单位", "必填。单位全称或代码；列出多个单位时，第一个为牵头（主办）单位，其余为配合单位。"),
    ("配合单位", "可不填。多个单位用顿号「、」或逗号分隔。"),
    ("责任人/联系电话", "随导入记录保存。"),
    ("完成时限", "必填。日期，如 2026-12-31，不能早于导入当天。"),
    ("进展情况", "随导入记录保存。"),
    ("完成状态", "已完成 / 正在办理 / 滞后；「已完成」的事项不导入。"),
    ("备注", "作为办理要求导入。"),
    ("", "同一张台账重复导入时，已导入过的行不会再次创建事项。默认有任何一行出错即全部不导入；"
         "可选择「只导入无误的行」。"),
)
