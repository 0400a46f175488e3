"""催办: the assigner's scheduler climbs each open clock's escalation ladder (ladder.py) and sends each
step to the unit as an event; staff can 催办 by hand with a note. The unit keeps what it received and
tells the people of the step through their notifications.

One scan takes a batch of due clocks in one transaction: the reminder rows (unique per clock, step and
due date), their history entries, their events and the clocks' next days commit together, so a node
killed mid-scan has sent either all of a batch or none of it, and the next scan neither loses nor
repeats a step."""

from __future__ import annotations

import logging
from datetime import timedelta

from duban.accounts.repository import AccountRepository
from duban.context import EventContext, TenantContext
from duban.db.base import new_id
from duban.deadlines.models import OPEN
from duban.deadlines.repository import ClockRepository
from duban.deadlines.schemas import KIND_LABELS
from duban.deadlines.service import DONE_STATES, china_date
from duban.errors import Conflict, DubanError, InvalidInput
from duban.events.envelope import Envelope, ReminderSent
from duban.events.repository import OutboxRepository
from duban.items.events import received_from_sender
from duban.items.models import Assignment
from duban.items.repository import ItemRepository
from duban.items.service import item_ref, outbox_add
from duban.notifications.service import notify
from duban.reminders import ladder
from duban.reminders.models import Reminder
from duban.reminders.repository import ReminderRepository
from duban.reminders.schemas import ReminderCreate

log = logging.getLogger("duban.reminders")
SCHEDULER = "scheduler"


def _text(r: Reminder, title: str) -> str:
    what = f"{KIND_LABELS.get(r.clock_kind, r.clock_kind)}时限 {r.due}" if r.due else ""
    return "；".join(part for part in (ladder.label(r.step), what, r.note if r.step == "manual" else "",
                                      title) if part)


# -- the assigner -----------------------------------------------------------------------------------
async def scan(ctx: EventContext, limit: int = 200) -> tuple[int, int]:
    """Send every ladder step whose day has come for one batch of due clocks; returns (how many were
    sent, how many clocks were looked at: fewer than ``limit`` means nothing due is left)."""
    now = ctx.time.now()
    today = china_date(now)
    repo = ReminderRepository(ctx.session, ctx.tenant)
    items = ItemRepository(ctx.session, ctx.tenant)
    outbox = OutboxRepository(ctx.session, ctx.tenant)
    inspectors: list[str] | None = None
    sent = 0
    due = await repo.due_clocks(today, limit)
    entry = ctx.registry.get(ctx.tenant) if ctx.registry else None
    before = tuple(entry.remind_before) if entry else ladder.BEFORE
    for clock, a in due:
        try:
            step, clock.next_reminder_on = ladder.current(clock.due, today, ctx.calendar, before)
        except DubanError as exc:  # no calendar for the year of a step's day: look again tomorrow
            log.warning("催办 of clock %s waits: %s", clock.id, exc.message)
            clock.next_reminder_on = today + timedelta(days=1)
            continue
        if step is None:
            continue
        r = Reminder(id=new_id(), item_ref=a.item_ref, assignment_id=a.id, clock_id=clock.id, clock_kind=clock.kind,
                     due=clock.due, step=step, audience=ladder.audience(step), note="",
                     by=f"{ctx.tenant}/{SCHEDULER}", at=now, flagged=step == ladder.FLAGGED_STEP)
        if not await repo.add_once(r):
            continue
        sent += 1
        items.record(a.item_ref, "remind", r.by, None, None, note=_text(r, ""), assignment_id=a.id)
        await outbox.add(kind="reminder.sent", to_tenant=a.unit, item_ref=a.item_ref, actor=r.by, occurred_at=now,
                         payload=ReminderSent(r.id, a.id, r.clock_kind, r.due, r.step, r.audience, r.note, r.by, now))
        if r.flagged:
            if inspectors is None:
                inspectors = await AccountRepository(ctx.session, ctx.tenant).usernames_with_role("inspector")
            unit = ctx.registry.get(a.unit) if ctx.registry else None
            await notify(ctx.session, ctx.tenant, inspectors, "reminder",
                         f"【列入督查通报】{unit.name if unit else a.unit}：{a.title}", _text(r, a.title),
                         item_ref=a.item_ref, assignment_id=a.id, dedup_key=f"reminder:{r.id}", at=now)
    return sent, len(due)


async def remind(ctx: TenantContext, item_id: str, data: ReminderCreate) -> list[Reminder]:
    """催办 by hand: a note to one unit, or to every unit still working, on its earliest open due date."""
    items = ItemRepository(ctx.session, ctx.tenant)
    item = await items.get(item_id)
    targets = [a for a in await items.assignments_of(item.id)
               if data.unit in (None, a.unit) and a.state not in DONE_STATES]
    if not targets:
        if data.unit is not None and data.unit not in [u["unit"] for u in item.units]:
            raise InvalidInput(f"{data.unit} 不是本事项的承办单位 (not a unit of this item)")
        raise Conflict("没有仍在办理的承办单位可催办 (no unit is still working on this item)")
    now, ref, made = ctx.time.now(), item_ref(ctx.tenant, item.id), []
    clocks = ClockRepository(ctx.session, ctx.tenant)
    for a in targets:
        open_clocks = [c for c in await clocks.of([a.id]) if c.state == OPEN]
        first = min(open_clocks, key=lambda c: c.due) if open_clocks else None
        r = Reminder(id=new_id(), item_ref=ref, assignment_id=a.id, clock_id=None,
                     clock_kind=first.kind if first else None, due=first.due if first else None, step="manual",
                     audience=ladder.AUDIENCE["manual"], note=data.note, by=ctx.actor.ref, at=now, flagged=False)
        ReminderRepository(ctx.session, ctx.tenant).add(r)
        items.record(ref, "remind", ctx.actor.ref, None, None, note=_text(r, ""), assignment_id=a.id)
        await outbox_add(ctx, "reminder.sent", a.unit, ref, ReminderSent(
            r.id, a.id, r.clock_kind, r.due, r.step, r.audience, r.note, r.by, now), now)
        made.append(r)
    return made


# -- the unit ---------------------------------------------------------------------------------------
async def _people(ctx: EventContext, a: Assignment, roles: list[str]) -> list[str]:
    """Whom a step goes to at this unit: the handler who signed for it (else every handler), the leader
    in charge named at 签收 (else every leader in charge), every chief."""
    accounts = AccountRepository(ctx.session, ctx.tenant)
    people: list[str] = []
    for role in roles:
        if role == "handler" and a.accepted_by:
            people.append(a.accepted_by.partition("/")[2])
        elif role == "leader_in_charge" and a.leader_in_charge:
            people.append(a.leader_in_charge)
        else:
            people += await accounts.usernames_with_role(role)
    return list(dict.fromkeys(people))


async def on_sent(ctx: EventContext, env: Envelope, p: ReminderSent) -> None:
    """A 催办 arrived: keep it with the assignment and tell the people of its step."""
    items = ItemRepository(ctx.session, ctx.tenant)
    a = await received_from_sender(items, env, p.assignment_id)
    repo = ReminderRepository(ctx.session, ctx.tenant)
    if await repo.get(p.reminder_id) is not None:
        raise Conflict(f"reminder {p.reminder_id} already received here")
    r = Reminder(id=p.reminder_id, item_ref=env.item_ref, assignment_id=a.id, clock_id=None, clock_kind=p.clock_kind,
                 due=p.due, step=p.step, audience=p.audience, note=p.note, by=p.by, at=p.at, flagged=False)
    repo.add(r)
    items.record(env.item_ref, "reminded", env.actor, None, None, note=_text(r, ""), assignment_id=a.id)
    assigner = ctx.registry.get(env.from_tenant) if ctx.registry else None
    await notify(ctx.session, ctx.tenant, await _people(ctx, a, p.audience), "reminder",
                 f"【{ladder.label(p.step)}】{a.title}",
                 f"{assigner.name if assigner else env.from_tenant}：{_text(r, a.title)}",
                 item_ref=env.item_ref, assignment_id=a.id, dedup_key=f"reminder:{r.id}", at=ctx.time.now())


HANDLERS = {"reminder.sent": on_sent}
