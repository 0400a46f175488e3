"""The annual review as an Excel workbook (openpyxl): a sheet per unit, one per person, and one saying
what the figures are. Headers in Chinese; a missing average is an empty cell."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from duban.review.schemas import Review

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNIT_HEADERS = ("承办单位", "单位代码", "承办件数", "办结数", "按期办结", "逾期办结", "在办数", "超时未办",
                "按期办结率（%）", "平均首次反馈用时（工作日）", "平均办结用时（工作日）")
PERSON_HEADERS = ("人员", "所在单位", "经办件数", "签收件数", "反馈件数", "申请办结件数", "按期办结", "逾期办结",
                  "超时未办", "平均首次反馈用时（工作日）", "平均办结用时（工作日）")
NOTES = (
    "统计范围：本单位当年交办的督查事项（承办任务），不含已关闭的分解任务；情况截至统计截止日。",
    "办结：承办单位提出办结申请（截止日前）且经督查室审核办结；按期办结：办结申请日不晚于办结时限（含批准延期后的时限）。",
    "超时未办：截止日仍未办结、未申请办结，且办结时限早于截止日。",
    "平均首次反馈用时：交办日之后至首次反馈日（含）的工作日数的平均；平均办结用时：交办日之后至办结申请日（含）的工作日数的平均。",
    "工作日依国务院办公厅节假日安排（含调休）计算。",
    "个人：签收、反馈、申请办结的人员（单位/用户名）；个人超时未办指其签收的任务中超时未办的件数。",
)


def _sheet(wb: Workbook, title: str, headers: tuple[str, ...], rows: list[tuple], first: bool = False):  # noqa: ANN202
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row in rows:
        ws.append(list(row))
    for n, header in enumerate(headers):
        ws.column_dimensions[ws.cell(1, n + 1).column_letter].width = max(10, 2 * len(header) + 2)
    ws.freeze_panes = "A2"
    return ws


def review_workbook(r: Review) -> bytes:
    """The workbook's bytes (blocking: call it in a worker thread)."""
    wb = Workbook()
    unit_rows = [(u.name, u.unit or None, u.handled, u.done, u.done_on_time, u.done_late, u.in_progress, u.overdue,
                  u.on_time_rate, u.avg_feedback_workdays, u.avg_completion_workdays) for u in [*r.units, r.total]]
    _sheet(wb, "单位", UNIT_HEADERS, unit_rows, first=True)
    _sheet(wb, "个人", PERSON_HEADERS, [
        (p.person, p.unit_name, p.handled, p.accepted, p.fed_back, p.completed, p.done_on_time, p.done_late, p.overdue,
         p.avg_feedback_workdays, p.avg_completion_workdays) for p in r.persons])
    notes = wb.create_sheet("说明")
    notes.append([f"{r.year}年度督查督办工作考评（第十二条）"])
    notes.append([f"统计截止日：{r.as_of.year}年{r.as_of.month}月{r.as_of.day}日"])
    for line in NOTES:
        notes.append([line])
    notes.column_dimensions["A"].width = 120
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
