"""第八条 in the platform's work: the registrar's 批示件 register, an item's level, watermarked downloads of
protected attachments, and the items export that refuses protected items.

Need-to-know itself (who may see a protected item, the 404 guard, protected reads in the audit log) is in
access.py; the levels in levels.py; the marks in watermark.py."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import re
from datetime import UTC
from typing import TYPE_CHECKING

from duban.attachments import service as attachments
from duban.attachments.models import Attachment
from duban.confidentiality import access, watermark
from duban.confidentiality.levels import CLASSIFIED, LABELS, ORDER, check_level, higher, is_protected
from duban.confidentiality.models import InstructionRecord
from duban.confidentiality.repository import ConfidentialityRepository
from duban.confidentiality.schemas import InstructionCreate
from duban.context import CHINA, TenantContext
from duban.db.base import new_id
from duban.errors import Conflict, InvalidInput, NotFound
from duban.items.models import Item
from duban.items.repository import ItemRepository
from duban.lists.cursor import PageRequest
from duban.lists.filters import Filters

if TYPE_CHECKING:
    from duban.platform import Platform

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
OPEN_STATES = ("draft", "rejected", "pending_approval", "registered")  # not yet sent down: the level may rise
EXPORT_MAX = 5000  # rows in one export; more: narrow the filters
EXPORT_PAGE = 500


# -- the 批示件 register ------------------------------------------------------------------------------------
def _leader(ctx: TenantContext, given: str) -> tuple[str, str]:
    """(code or name, how to show it). A tenant whose groups follow leaders of the registry ([[leaders]]:
    the city) names one of them by code; any other tenant writes the leader's name."""
    own = [leader for leader in ctx.registry.leaders
           if (group := ctx.registry.group(leader.group)) is not None and group.tenant == ctx.tenant]
    if not own:
        return given.strip(), given.strip()
    found = next((leader for leader in own if leader.code == given), None)
    if found is None:
        codes = "、".join(f"{leader.code}（{leader.title}{leader.name}）" for leader in own)
        raise InvalidInput(f"批示领导 {given} 不在本单位的领导名单中，应为：{codes} (unknown leader {given})")
    return found.code, found.name


async def register(ctx: TenantContext, data: InstructionCreate) -> InstructionRecord:
    """批示件登记 by the registrar: a number unique in its year, a date not in the future, a known leader, a
    level this platform may hold; optionally the item it became."""
    level = check_level(data.level)
    number = data.number.strip()
    for label, value in (("批示件编号", number), ("标题", data.title), ("批示领导", data.leader)):
        if _CONTROL.search(value):
            raise InvalidInput(f"{label}含有不可见的控制字符 ({label} holds control characters)")
    if not number:
        raise InvalidInput("批示件编号不能为空 (number is blank)")
    today = ctx.time.today()
    if data.instructed_on > today:
        raise InvalidInput(f"批示日期 {data.instructed_on} 晚于今天 {today}，不能登记 (the instruction is dated in the "
                           "future)")
    leader, leader_name = _leader(ctx, data.leader)
    repo = ConfidentialityRepository(ctx.session, ctx.tenant)
    year = data.instructed_on.year
    earlier = await repo.by_number(year, number)
    if earlier is not None:
        raise Conflict(f"批示件编号「{number}」{year} 年已登记（{earlier.registered_by}，{earlier.instructed_on}），"
                       f"不能重复登记 (number {number} is already registered for {year})")
    record = InstructionRecord(
        id=new_id(), year=year, number=number, instructed_on=data.instructed_on, leader=leader,
        leader_name=leader_name, title=data.title.strip(), level=level, note=data.note, item_id=None,
        registered_by=ctx.actor.ref, registered_at=ctx.time.now().astimezone(UTC))
    repo.add(record)
    if data.item_id is not None:
        await _link(ctx, repo, record, data.item_id)
    await ctx.session.flush()
    return record


async def link(ctx: TenantContext, record_id: str, item_id: str) -> InstructionRecord:
    """Link a registered 批示件 to the item made of it (the item's level rises to the document's)."""
    repo = ConfidentialityRepository(ctx.session, ctx.tenant)
    record = await repo.get(record_id)
    await _link(ctx, repo, record, item_id)
    return record


async def _link(ctx: TenantContext, repo: ConfidentialityRepository, record: InstructionRecord, item_id: str) -> None:
    if record.item_id is not None and record.item_id != item_id:
        raise Conflict(f"批示件「{record.number}」已关联另一督查事项 (already linked to another item)")
    items = ItemRepository(ctx.session, ctx.tenant)
    item = await items.get(item_id)
    if not await access.may_see_item(ctx, item):  # a protected item the registrar is not on: as if missing
        raise NotFound("督查事项不存在 (no such item)")
    if item.source_kind != "instruction":
        raise InvalidInput(f"只能关联来源为领导批示的督查事项，该事项来源为 {item.source_kind} "
                           "(only an item whose source is a leader's instruction)")
    other = await repo.of_item(item.id)
    if other is not None and other.id != record.id:
        raise Conflict(f"该督查事项已关联批示件「{other.number}」 (the item is linked to another instruction)")
    record.item_id = item.id
    stricter = higher(item.confidentiality, record.level)
    if stricter != item.confidentiality:
        if item.state not in OPEN_STATES:
            raise Conflict(f"事项已交办，密级不能再提高为「{LABELS.get(stricter, stricter)}」，"
                           "承办单位的副本不会随之改变；请撤回后重新立项 "
                           "(the item was already assigned: its level can no longer rise)")
        before, item.confidentiality = item.confidentiality, stricter
        items.record(f"{ctx.tenant}/{item.id}", "confidentiality", ctx.actor.ref, item.state, item.state,
                     note=f"{before} → {stricter} (批示件 {record.number})")
    else:
        items.record(f"{ctx.tenant}/{item.id}", "link_instruction", ctx.actor.ref, item.state, item.state,
                     note=f"批示件 {record.number}")


def check_item_level(level: str) -> str:
    """For items/ and meetings/: the level an item may be drafted with (state secrets refused)."""
    return check_level(level)


# -- watermarked downloads ---------------------------------------------------------------------------------
async def protected_download(ctx: TenantContext, platform: Platform,
                             attachment_id: str) -> tuple[Attachment, bytes, dict[str, str]] | None:
    """A protected item's attachment, marked for its reader (name, unit, time), with the answer's headers;
    None if the attachment is not a protected item's (it is served as it is). A type that cannot be marked
    is refused, never served unmarked."""
    found = await access.protected_attachment(ctx, attachment_id)
    if found is None:
        return None
    if not found.allowed:
        raise NotFound(access.NOT_FOUND["attachment_id"])
    a = await ConfidentialityRepository(ctx.session, ctx.tenant).attachment(attachment_id)
    assert a is not None
    if not watermark.can_mark(a.content_type):
        ext = a.name.rpartition(".")[2].lower() if "." in a.name else a.content_type
        raise Conflict(f"「{a.name}」属于敏感事项，只能以加水印的 PDF 或图片下载；.{ext} 文件无法加水印，不能下载。"
                       "请联系报送单位转为 PDF 后重新报送 (an attachment of a protected item is served only as a "
                       "watermarked PDF or image; this type cannot be marked)")
    a, chunks = await attachments.download(ctx.session, ctx.tenant, platform, attachment_id)
    data = b"".join([chunk async for chunk in chunks])
    tenant = ctx.registry.get(ctx.tenant)
    mark = watermark.Mark(reader=ctx.actor.display_name or ctx.actor.username, username=ctx.actor.username,
                          unit=tenant.name if tenant else ctx.tenant, unit_code=ctx.tenant,
                          at=ctx.time.now().astimezone(CHINA).strftime("%Y-%m-%d %H:%M"))
    try:
        body, ascii_only = await asyncio.to_thread(watermark.apply, data, a.content_type, mark)
    except watermark.CannotMark:
        raise Conflict(f"「{a.name}」属于敏感事项，但文件无法读取或已加密，不能加水印，因此不能下载 "
                       "(the protected file cannot be read to be watermarked: it is not served)") from None
    headers = {"Content-Length": str(len(body)), "X-Content-SHA256": hashlib.sha256(body).hexdigest(),
               "X-Original-SHA256": a.sha256, "X-Watermark": "ascii" if ascii_only else "cjk",
               "Cache-Control": "no-store"}
    return a, body, headers


# -- the items export ------------------------------------------------------------------------------------------
COLUMNS = ("序号", "编号", "标题", "事项来源", "督查组", "交办领导", "责任处室", "主办单位", "协办单位", "办结时限",
           "状态", "密级")


def _cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def export_items(ctx: TenantContext, filters: Filters) -> str:
    """The items the filters select (as ``GET /api/items`` would list them), as CSV (UTF-8 with BOM, for
    Excel). Refused when the selection holds a protected item the reader may see (第八条: no bulk export);
    protected items the reader may not see are not in the reader's selection at all."""
    from duban.items.service import STATE_LABELS  # noqa: PLC0415

    repo = ItemRepository(ctx.session, ctx.tenant)
    rows: list[Item] = []
    protected: list[Item] = []
    cursor: str | None = None
    reader = access.reader(ctx)  # the reader's own list: a 分管领导's holds only the work named to them
    while True:
        page = await repo.list(filters, PageRequest(EXPORT_PAGE, cursor), reader)
        for item in page.rows:
            if is_protected(item.confidentiality):
                if await access.may_see_item(ctx, item):
                    protected.append(item)
                continue
            rows.append(item)
        if len(rows) + len(protected) > EXPORT_MAX:
            raise InvalidInput(f"导出超过 {EXPORT_MAX} 条，请缩小筛选范围 "
                               f"(more than {EXPORT_MAX} rows: narrow the filters)")
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    if protected:
        names = "、".join(i.serial or i.title for i in protected[:5]) + ("等" if len(protected) > 5 else "")
        raise Conflict(f"所选范围含 {len(protected)} 件敏感事项（{names}），按《细则》第八条不得批量导出；"
                       f"请缩小筛选范围，使其不含敏感事项 "
                       f"(the selection holds {len(protected)} protected items: no bulk export)",
                       detail={"protected": len(protected)})
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for n, item in enumerate(rows, start=1):
        lead = [u["unit"] for u in item.units if u.get("role") == "lead"]
        co = [u["unit"] for u in item.units if u.get("role") != "lead"]
        names = [ctx.registry.get(u).name if ctx.registry.get(u) else u for u in lead + co]
        leader = ctx.registry.leader(item.issuing_leader) if item.issuing_leader else None
        writer.writerow([_cell(v) for v in (
            n, item.serial, item.title, item.source_kind, item.group_code,
            f"{leader.title}{leader.name}" if leader else (item.issuing_leader or ""), item.division,
            "、".join(names[:len(lead)]), "、".join(names[len(lead):]), item.deadline.isoformat(),
            STATE_LABELS.get(item.state, item.state), LABELS.get(item.confidentiality, item.confidentiality))])
    return out.getvalue()


__all__ = ["CLASSIFIED", "LABELS", "ORDER", "check_item_level", "export_items", "link", "protected_download",
           "register"]
