"""台账 out: any filtered list of items or assignments as a workbook, and the template to fill in.

The lists' own queries (items/repository.py, with the reader's need-to-know) page by page into a
write-only workbook (sheet.LedgerWriter: rows go to a temporary file as they come, memory stays flat),
the 台账 columns first — so an export imports again as the same items (service.py) — then the light (as
the lists compute it), the next due date, the serial and the state. A selection holding protected items
is refused with the CSV export's message (第八条: no bulk export)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import IO, Any

from duban.confidentiality import access
from duban.confidentiality.levels import is_protected
from duban.context import TenantContext
from duban.errors import Conflict, InvalidInput
from duban.items import views
from duban.items.repository import ItemRepository
from duban.items.service import STATE_LABELS
from duban.ledgers import sheet
from duban.ledgers.repository import LedgerRepository
from duban.ledgers.service import SOURCE_LABELS, format_source, leader_name, unit_name
from duban.lists.cursor import PageRequest
from duban.lists.filters import Filters

EXPORT_MAX = 10_000  # rows in one export; more: narrow the filters
EXPORT_PAGE = 500


def _refuse_protected(names: list[str]) -> Conflict:
    """The CSV export's refusal (confidentiality/service.py), word for word."""
    shown = "、".join(names[:5]) + ("等" if len(names) > 5 else "")
    return Conflict(f"所选范围含 {len(names)} 件敏感事项（{shown}），按《细则》第八条不得批量导出；"
                    f"请缩小筛选范围，使其不含敏感事项 "
                    f"(the selection holds {len(names)} protected items: no bulk export)",
                    detail={"protected": len(names)})


def _too_many() -> InvalidInput:
    return InvalidInput(f"导出超过 {EXPORT_MAX} 条，请缩小筛选范围 (more than {EXPORT_MAX} rows: narrow the filters)")


async def _pages(fetch: Callable[..., Awaitable[Any]], ctx: TenantContext, filters: Filters,
                 out: sheet.LedgerWriter) -> AsyncIterator[list[Any]]:
    """The rows of a list (``fetch``: the items list or the queue, for this reader), a page at a time, while
    nothing protected is among them; all protected rows of the selection are named in the refusal at the
    end, and more than EXPORT_MAX rows are refused at once."""
    reader = access.reader(ctx)
    protected: list[str] = []
    cursor: str | None = None
    while True:
        page = await fetch(filters, PageRequest(EXPORT_PAGE, cursor), reader)
        protected += [r.serial or r.title for r in page.rows if is_protected(r.confidentiality)]
        if out.rows + len(page.rows) > EXPORT_MAX:
            raise _too_many()
        if not protected and page.rows:
            yield page.rows
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    if protected:
        raise _refuse_protected(protected)


def completion(state: str, overdue: bool, light: str | None) -> str:
    """完成状态 as the 台账 says it."""
    if state in ("completed", "archived", "done", "closed"):
        return "已完成"
    if state == "withdrawn":
        return "已撤销"
    asked = state in ("completion_requested", "completion_review")
    return "滞后" if (overdue or light == "red") and not asked else "正在办理"


def _matter(title: str, content: str) -> str:
    return f"{title}\n{content}" if content else title


async def export_items(ctx: TenantContext, filters: Filters) -> tuple[IO[bytes], int]:
    """The items the filters select (as ``GET /api/items`` lists them for this reader), as a 台账 workbook
    in a temporary file, and how many rows."""
    out = sheet.LedgerWriter("督查事项台账")
    try:
        return await _items_into(ctx, filters, out)
    except BaseException:
        out.discard()
        raise


async def _items_into(ctx: TenantContext, filters: Filters, out: sheet.LedgerWriter) -> tuple[IO[bytes], int]:
    repo, ledger = ItemRepository(ctx.session, ctx.tenant), LedgerRepository(ctx.session, ctx.tenant)
    async for rows in _pages(repo.list, ctx, filters, out):
        ids = [r.id for r in rows]
        reads = await views.item_views(ctx, rows)
        assignments = await repo.assignments_of_items(ids)
        reports = await ledger.last_reports([a.id for a in assignments])
        dues: dict[str, list[date]] = {}
        for d in await repo.next_dues_of_items(ids):
            if d.next_due is not None:
                dues.setdefault(d.item_id, []).append(d.next_due)
        by_item: dict[str, list] = {}
        for a in assignments:
            by_item.setdefault(a.item_id, []).append(a)
        for row, read in zip(rows, reads, strict=True):
            mine = by_item.get(row.id, [])
            lead = next((a for a in mine if a.role == "lead"), None)
            report = next((reports[a.id] for a in ([lead] if lead else []) + mine if a.id in reports), "")
            lead_units = [u["unit"] for u in row.units if u.get("role") == "lead"]
            co_units = [u["unit"] for u in row.units if u.get("role") != "lead"]
            out.append({
                "序号": out.rows + 1, "事项来源": format_source(row.source_kind, row.source or {}),
                "督办事项": _matter(row.title, row.content), "责任领导": leader_name(ctx, row.issuing_leader),
                "牵头单位": "、".join(unit_name(ctx, u) for u in lead_units),
                "配合单位": "、".join(unit_name(ctx, u) for u in co_units),
                "责任人/联系电话": lead.accepted_by if lead and lead.accepted_by else "",
                "完成时限": row.deadline, "进展情况": report,
                "完成状态": completion(row.state, read.overdue, read.light), "备注": row.requirements,
                "下一时限": min(dues.get(row.id, []), default=None), "编号": row.serial or "",
                "办理状态": STATE_LABELS.get(row.state, row.state),
            }, read.light)
    return await asyncio.to_thread(out.save), out.rows


async def export_assignments(ctx: TenantContext, filters: Filters) -> tuple[IO[bytes], int]:
    """This tenant's queue as ``GET /api/assignments`` lists it for this reader, as a 台账 workbook."""
    out = sheet.LedgerWriter("承办任务台账")
    try:
        return await _queue_into(ctx, filters, out)
    except BaseException:
        out.discard()
        raise


async def _queue_into(ctx: TenantContext, filters: Filters, out: sheet.LedgerWriter) -> tuple[IO[bytes], int]:
    repo, ledger = ItemRepository(ctx.session, ctx.tenant), LedgerRepository(ctx.session, ctx.tenant)
    async for rows in _pages(repo.received, ctx, filters, out):
        reads = await views.assignment_views(ctx, rows)
        reports = await ledger.last_reports([r.id for r in rows])
        for row, read in zip(rows, reads, strict=True):
            planned = row.plan_units or [{"unit": row.unit, "role": row.role}]
            contact = "；".join(x for x in (row.accepted_by or "", f"分管领导 {row.leader_in_charge}"
                                            if row.leader_in_charge else "") if x)
            out.append({
                "序号": out.rows + 1, "事项来源": SOURCE_LABELS.get(row.source_kind, "其他"),
                "督办事项": _matter(row.title, row.content), "责任领导": leader_name(ctx, row.issuing_leader),
                "牵头单位": "、".join(unit_name(ctx, u["unit"]) for u in planned if u.get("role") == "lead"),
                "配合单位": "、".join(unit_name(ctx, u["unit"]) for u in planned if u.get("role") != "lead"),
                "责任人/联系电话": contact, "完成时限": row.deadline, "进展情况": reports.get(row.id, ""),
                "完成状态": completion(row.state, read.overdue, read.light), "备注": row.requirements,
                "下一时限": min((c.due for c in read.clocks if c.state == "open"), default=None),
                "编号": row.serial or "", "办理状态": STATE_LABELS.get(row.state, row.state),
            }, read.light)
    return await asyncio.to_thread(out.save), out.rows


# -- the template ---------------------------------------------------------------------------------------------
def template(ctx: TenantContext) -> bytes:
    """The template sheet for this tenant: its units below and the leaders named in the sample and lists."""
    today = ctx.time.today()
    below = [t for t in ctx.registry.tenants if ctx.registry.is_below(t.code, ctx.tenant)]
    leaders = ctx.registry.leaders
    lead = below[0].name if below else ""
    co = below[1].name if len(below) > 1 else ""
    leader = leaders[0].name if leaders else ""
    sample = {"序号": "示例", "事项来源": f"领导批示（{leader or '市长'}，{today.isoformat()}）",
              "督办事项": "推进某重点项目建设\n加快征地拆迁和配套道路建设，确保按期开工。", "责任领导": leader,
              "牵头单位": lead, "配合单位": co, "责任人/联系电话": "张三 13800000000",
              "完成时限": date.fromordinal(today.toordinal() + 30), "进展情况": "", "完成状态": "正在办理",
              "备注": "每月25日前报送进展"}
    return sheet.template(today, [(t.name, t.code) for t in below], [(le.name, le.code) for le in leaders], sample)
