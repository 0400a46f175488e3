"""延期申请: a unit asks, before a due date, to move it (reason, the date it needs, progress so far); the
assigner approves — with the new due date, the original kept on the clock — or refuses with a reason.
Both cross tenants as events. A request after the due date is refused: the work then counts as late."""

from __future__ import annotations

from datetime import date, datetime

from duban.context import EventContext, TenantContext
from duban.db.base import new_id
from duban.deadlines import service as deadlines
from duban.deadlines.models import MET, OPEN, Clock
from duban.deadlines.repository import ClockRepository
from duban.deadlines.rules import Workdays, late_by
from duban.deadlines.schemas import KIND_LABELS
from duban.errors import Conflict, InvalidInput, NotFound, Refused
from duban.events.envelope import Envelope, ExtensionDecided, ExtensionRequested
from duban.extensions.models import APPROVED, PENDING, REFUSED, Extension
from duban.extensions.repository import ExtensionRepository
from duban.extensions.schemas import ExtensionApprove, ExtensionCreate
from duban.items.events import issued_to_sender, received_from_sender
from duban.items.models import Assignment
from duban.items.repository import ItemRepository
from duban.items.service import _received, item_ref, outbox_add, remind_before
from duban.tree import rollup


# -- the unit asks ------------------------------------------------------------------------------------
async def request(ctx: TenantContext, assignment_id: str, data: ExtensionCreate) -> Extension:
    """Ask for an extension of one of the assignment's open due dates (the 办结时限 by default)."""
    repo, a = await _received(ctx, assignment_id)
    if a.state in ("completion_requested", "done"):
        raise Conflict("已申请办结，无需延期 (completion is already asked for)")
    extensions = ExtensionRepository(ctx.session, ctx.tenant)
    if await extensions.pending_of(a.id) is not None:
        raise Conflict("已有待审批的延期申请 (an extension request is already waiting for a decision)")
    open_clocks = await ClockRepository(ctx.session, ctx.tenant).open_of(a.id, data.clock)
    if not open_clocks:
        raise Conflict(f"没有未到期的{KIND_LABELS[data.clock]}时限可延期 (no open {data.clock} due date)")
    clock = open_clocks[0]
    today = ctx.time.today()
    if today > clock.due:
        raise Conflict(f"{KIND_LABELS[clock.kind]}时限 {clock.due.isoformat()} 已过，不能再申请延期，本件按超时办理计 "
                       f"(the due date {clock.due.isoformat()} has passed: an extension must be asked before it; "
                       "the work counts as late)")
    if data.requested_due <= clock.due:
        raise InvalidInput(f"申请的日期须晚于现时限 {clock.due.isoformat()} "
                           f"(the date asked for must be after the current due date)")
    at = ctx.time.now()
    e = Extension(id=new_id(), item_ref=a.item_ref, assignment_id=a.id, clock_id=clock.id, clock_kind=clock.kind,
                  current_due=clock.due, requested_due=data.requested_due, reason=data.reason,
                  progress=data.progress, state=PENDING, requested_by=ctx.actor.ref, requested_at=at)
    extensions.add(e)
    repo.record(a.item_ref, "request_extension", ctx.actor.ref, None, None, assignment_id=a.id,
                note=f"{KIND_LABELS[clock.kind]}时限 {clock.due} → {data.requested_due}：{data.reason}")
    await outbox_add(ctx, "extension.requested", a.assigner, a.item_ref, ExtensionRequested(
        e.id, a.id, clock.id, clock.kind, clock.due, e.requested_due, e.reason, e.progress, e.requested_by, at), at)
    return e


async def on_requested(ctx: EventContext, env: Envelope, p: ExtensionRequested) -> None:
    """A unit's request reached the assigner: keep it for a decision."""
    items = ItemRepository(ctx.session, ctx.tenant)
    a = await issued_to_sender(items, env, p.assignment_id)
    extensions = ExtensionRepository(ctx.session, ctx.tenant)
    if await extensions.get(p.extension_id) is not None:
        raise Conflict(f"extension {p.extension_id} already exists here")
    extensions.add(Extension(
        id=p.extension_id, item_ref=env.item_ref, assignment_id=a.id, clock_id=p.clock_id, clock_kind=p.clock_kind,
        current_due=p.current_due, requested_due=p.requested_due, reason=p.reason, progress=p.progress,
        state=PENDING, requested_by=p.requested_by, requested_at=p.requested_at))
    label = KIND_LABELS.get(p.clock_kind, p.clock_kind)
    items.record(env.item_ref, "request_extension", env.actor, None, None, assignment_id=a.id,
                 note=f"{label}时限 {p.current_due} → {p.requested_due}：{p.reason}")


# -- the assigner decides -----------------------------------------------------------------------------
async def _pending(ctx: TenantContext, item_id: str, extension_id: str) -> tuple[ItemRepository, Extension, Assignment]:
    items = ItemRepository(ctx.session, ctx.tenant)
    item = await items.get(item_id)
    e = await ExtensionRepository(ctx.session, ctx.tenant).get(extension_id)
    if e is None or e.item_ref != item_ref(ctx.tenant, item.id):
        raise NotFound("延期申请不存在 (no such extension request)")
    if e.state != PENDING:
        raise Conflict(f"该延期申请已处理 (the request was already {e.state})")
    return items, e, await items.assignment(e.assignment_id)


def _apply(e: Extension, clock: Clock | None, a: Assignment, approved: bool, new_due: date | None, note: str,
           by: str, at: datetime, cal: Workdays) -> None:
    """The decision, on whichever side: the request's state, and on approval the clock's due date (its
    original stays in ``original_due``) and, for the 办结时限, the assignment's deadline. A clock met
    while the request waited is judged again against the new date."""
    e.state, e.new_due, e.decision_note, e.decided_by, e.decided_at = (
        APPROVED if approved else REFUSED, new_due, note or None, by, at)
    if not approved or clock is None or new_due is None:
        return
    clock.due = new_due
    if clock.kind == "completion":
        a.deadline = new_due
    if clock.state == MET and clock.met_at is not None:
        done_on = deadlines.china_date(clock.met_at)
        clock.on_time = done_on <= new_due
        clock.late_workdays = 0 if clock.on_time else late_by(cal, new_due, done_on)


async def approve(ctx: TenantContext, item_id: str, extension_id: str, data: ExtensionApprove) -> Extension:
    """Approve, with the date asked for or another one after the current due date."""
    items, e, a = await _pending(ctx, item_id, extension_id)
    clock = await ClockRepository(ctx.session, ctx.tenant).get(e.clock_id)
    new_due = data.new_due or e.requested_due
    if clock is not None and new_due <= clock.due:
        raise InvalidInput(f"新的时限须晚于现时限 {clock.due.isoformat()} "
                           "(the new due date must be after the current one)")
    return await _decide(ctx, items, e, a, clock, True, new_due, data.note)


async def refuse(ctx: TenantContext, item_id: str, extension_id: str, reason: str) -> Extension:
    """Refuse, with the reason."""
    items, e, a = await _pending(ctx, item_id, extension_id)
    return await _decide(ctx, items, e, a, None, False, None, reason)


async def _decide(ctx: TenantContext, items: ItemRepository, e: Extension, a: Assignment, clock: Clock | None,
                  approved: bool, new_due: date | None, note: str) -> Extension:
    at = ctx.time.now()
    _apply(e, clock, a, approved, new_due, note, ctx.actor.ref, at, ctx.calendar)
    if approved and clock is not None and clock.state == OPEN:  # the assigner chases the new date
        deadlines.schedule_reminders([clock], ctx.time.today(), ctx.calendar, remind_before(ctx))
    items.record(e.item_ref, "approve_extension" if approved else "refuse_extension", ctx.actor.ref, None, None,
                 assignment_id=a.id, note=_decision_note(e))
    await outbox_add(ctx, "extension.decided", a.unit, e.item_ref,
                     ExtensionDecided(e.id, approved, new_due, note, ctx.actor.ref, at), at)
    if approved and a.item_id is not None:  # a part's unit got a new due date: the level above sees it
        await ctx.session.flush()
        await rollup.report(ctx.session, ctx.tenant, await items.get(a.item_id), [a], ctx.actor.ref, at)
    return e


def _decision_note(e: Extension) -> str:
    label = KIND_LABELS.get(e.clock_kind, e.clock_kind)
    if e.state == APPROVED:
        return f"{label}时限 {e.current_due} → {e.new_due}" + (f"：{e.decision_note}" if e.decision_note else "")
    return f"不同意延期：{e.decision_note}"


async def on_decided(ctx: EventContext, env: Envelope, p: ExtensionDecided) -> None:
    """The assigner's decision reached the unit: the same change here."""
    extensions = ExtensionRepository(ctx.session, ctx.tenant)
    e = await extensions.get(p.extension_id)
    if e is None:
        raise Refused(f"no extension request {p.extension_id} to {env.from_tenant} here")
    items = ItemRepository(ctx.session, ctx.tenant)
    a = await received_from_sender(items, env, e.assignment_id)
    if e.state != PENDING:
        raise Conflict(f"extension {e.id} was already {e.state}")
    clock = await ClockRepository(ctx.session, ctx.tenant).get(e.clock_id)
    _apply(e, clock, a, p.approved, p.new_due, p.note, p.decided_by, p.decided_at, ctx.calendar)
    items.record(e.item_ref, "approve_extension" if p.approved else "refuse_extension", env.actor, None, None,
                 assignment_id=a.id, note=_decision_note(e))


HANDLERS = {"extension.requested": on_requested, "extension.decided": on_decided}
