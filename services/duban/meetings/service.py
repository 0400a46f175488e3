"""会议议定事项 (第三条3): a meeting is recorded with its agreed list, and every entry becomes an item in
one go — all of them or none: the first entry that fails stops the whole request (the transaction is
rolled back) with an error naming the entry.

The items are drafts, or — with ``submit`` — plans waiting for 审定: the meeting agreed *what* is to
be done, but the supervision plan (units, 责任处室, 办结时限, group) is the 督查室's and is approved by
the 秘书长/办公室主任 like any other (第四条1)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from duban.context import TenantContext
from duban.db.base import new_id
from duban.errors import Conflict, DubanError, InvalidInput
from duban.items import service as items
from duban.items import views
from duban.items.models import Item
from duban.items.schemas import ItemCreate
from duban.meetings.models import KINDS, Meeting
from duban.meetings.repository import MeetingRepository
from duban.meetings.schemas import (
    AgreedItem,
    MeetingCreate,
    MeetingDetail,
    MeetingItemRead,
    MeetingProgress,
    MeetingRead,
)

DONE = ("completed", "archived")


def _plan(meeting: Meeting, entry: AgreedItem) -> ItemCreate:
    source = {"meeting_kind": meeting.kind, "meeting_date": meeting.held_on.isoformat(),
              "session_number": f"第{meeting.session_number}次", "agreed_text": entry.agreed_text,
              "meeting_id": meeting.id}
    if entry.feedback_due is not None:
        source["feedback_due"] = entry.feedback_due.isoformat()
    return ItemCreate(
        title=entry.title, source_kind="meeting_item", source=source, division=entry.division,
        deadline=entry.deadline, units=entry.units, group=entry.group,
        issuing_leader=entry.issuing_leader or meeting.chair, content=entry.content,
        requirements=entry.requirements, confidentiality=entry.confidentiality, retention=entry.retention,
        progress_reports=entry.progress_reports,
    )


async def record(ctx: TenantContext, data: MeetingCreate) -> tuple[Meeting, list[Item]]:
    """Record a meeting and create one item per entry of its agreed list (all or none)."""
    items.check_text({"title": data.title, "minutes_number": data.minutes_number}, required=("title",))
    if data.held_on > ctx.time.today():
        raise InvalidInput(f"会议日期 {data.held_on} 晚于今天 (the meeting is dated in the future)")
    if data.chair is not None and ctx.registry.leader(data.chair) is None:
        raise InvalidInput(f"主持会议的领导 {data.chair} 不存在 (unknown leader)")
    repo = MeetingRepository(ctx.session, ctx.tenant)
    if await repo.find(data.kind, data.held_on, data.session_number) is not None:
        raise Conflict(f"{data.held_on} 第{data.session_number}次{KINDS[data.kind]}已登记 "
                       "(this meeting is recorded already)")
    meeting = Meeting(id=new_id(), kind=data.kind, held_on=data.held_on, session_number=data.session_number,
                      title=data.title, minutes_number=data.minutes_number, chair=data.chair,
                      recorded_by=ctx.actor.ref, recorded_at=ctx.time.now())
    repo.add(meeting)
    made = []
    for n, entry in enumerate(data.items, start=1):
        try:
            item = await items.create_item(ctx, _plan(meeting, entry))
            if data.submit:
                await items.submit(ctx, item.id)
        except DubanError as exc:  # the request's transaction rolls back: nothing of the meeting is kept
            exc.message = f"议定事项第{n}项「{entry.title}」：{exc.message} (agreed item {n})"
            exc.detail = {**exc.detail, "entry": n}
            raise
        repo.link(meeting.id, n, item.id)
        made.append(item)
    return meeting, made


async def detail(ctx: TenantContext, meeting_id: str) -> MeetingDetail:
    """The meeting with each agreed item's state, light and due dates, and the list in figures."""
    repo = MeetingRepository(ctx.session, ctx.tenant)
    meeting = await repo.get(meeting_id)
    linked = await repo.items_of(meeting.id)
    reads = await views.item_views(ctx, [item for _, item in linked])
    rows = [
        MeetingItemRead(position, read.id, read.ref, read.serial, read.title, read.group, read.issuing_leader,
                        read.units, read.state, read.light, read.deadline,
                        _date(read.source.get("feedback_due")), read.overdue)
        for (position, _), read in zip(linked, reads, strict=True)
    ]
    progress = MeetingProgress(
        total=len(rows), completed=sum(r.state in DONE for r in rows), overdue=sum(r.overdue for r in rows),
        by_state=dict(Counter(r.state for r in rows)), by_light=dict(Counter(r.light for r in rows if r.light)),
    )
    return MeetingDetail(MeetingRead.of(meeting, len(rows)), rows, progress)


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None
