"""督办 (第四条4): the assigner records a supervision action — written, on-site, research or joint (with
the other bodies taking part) — with its date, people, findings and any follow-up required. It is
attributed, kept in the item's history, and sent to each unit concerned, which keeps it with its
assignment."""

from __future__ import annotations

from duban.context import EventContext, TenantContext
from duban.db.base import new_id
from duban.errors import Conflict, InvalidInput
from duban.events.envelope import Envelope, SupervisionRecorded
from duban.items.events import received_from_sender
from duban.items.repository import ItemRepository
from duban.items.service import item_ref, outbox_add
from duban.supervision.models import MODES, Supervision
from duban.supervision.repository import SupervisionRepository
from duban.supervision.schemas import SupervisionCreate

WORKED_ON = ("assigned", "in_progress", "completion_review")


def _summary(s: Supervision) -> str:
    return f"{MODES[s.mode]} {s.on.isoformat()}：{s.findings[:200]}"


async def record(ctx: TenantContext, item_id: str, data: SupervisionCreate) -> Supervision:
    """Record a 督办 on an item (every unit) or on one unit's assignment, and tell the units."""
    repo = ItemRepository(ctx.session, ctx.tenant)
    item = await repo.get(item_id)
    if item.state not in WORKED_ON:
        raise Conflict("事项不在办理中，无需督办 (only an item being worked on can be supervised)")
    if data.mode == "joint" and not data.joint_bodies:
        raise InvalidInput("联合督办须写明参加单位 (a joint supervision names the other bodies taking part)")
    if data.on > ctx.time.today():
        raise InvalidInput("督办日期不能晚于今天 (the date of a supervision cannot be in the future)")
    assignments = await repo.assignments_of(item.id)
    targets = [a for a in assignments if data.unit in (None, a.unit)]
    if not targets:
        raise InvalidInput(f"{data.unit} 不是本事项的承办单位 (not a unit of this item)")
    at, ref = ctx.time.now(), item_ref(ctx.tenant, item.id)
    one = targets[0].id if data.unit else None
    s = Supervision(id=new_id(), item_ref=ref, assignment_id=one, mode=data.mode, on=data.on, people=data.people,
                    joint_bodies=data.joint_bodies, findings=data.findings, follow_up_required=data.follow_up_required,
                    follow_up=data.follow_up, recorded_by=ctx.actor.ref, recorded_at=at)
    SupervisionRepository(ctx.session, ctx.tenant).add(s)
    repo.record(ref, "supervise", ctx.actor.ref, None, None, note=_summary(s), assignment_id=one)
    for a in targets:
        await outbox_add(ctx, "supervision.recorded", a.unit, ref, SupervisionRecorded(
            s.id, a.id, one is None, s.mode, s.on, s.people, s.joint_bodies, s.findings, s.follow_up_required,
            s.follow_up, s.recorded_by, s.recorded_at), at)
    return s


async def on_recorded(ctx: EventContext, env: Envelope, p: SupervisionRecorded) -> None:
    """A 督办 of the assigner arrived: keep it with this unit's assignment."""
    items = ItemRepository(ctx.session, ctx.tenant)
    a = await received_from_sender(items, env, p.assignment_id)
    records = SupervisionRepository(ctx.session, ctx.tenant)
    if await records.exists(p.supervision_id, a.id):
        raise Conflict(f"supervision {p.supervision_id} already recorded here")
    s = Supervision(id=p.supervision_id, item_ref=env.item_ref, assignment_id=a.id, mode=p.mode, on=p.on,
                    people=p.people, joint_bodies=p.joint_bodies, findings=p.findings,
                    follow_up_required=p.follow_up_required, follow_up=p.follow_up, recorded_by=p.recorded_by,
                    recorded_at=p.recorded_at)
    records.add(s)
    items.record(env.item_ref, "supervised", env.actor, None, None, note=_summary(s), assignment_id=a.id)


HANDLERS = {"supervision.recorded": on_recorded}
