"""建议提案 (第三条5; PRACTICE.md). The city's registrar registers a suggestion or proposal — number,
proposer, session, handling units (主办/协办), 分办 or 会办 — which drafts its item; the item goes the
normal way (审定, 交办), and 交办 sends each unit the proposal's particulars with its assignment.

At the unit: 面商 records (date, form, people, content) and the reply (答复, class A/B/C) — the reply is
also the unit's result feedback on its assignment (it meets the feedback clock: 3 months from 交办).
With 会办 the lead unit replies for all; with 分办 every unit replies. Both go up as events.

At the city: the registrar enters the proposer's rating of each reply. 满意/基本满意 settles that
unit's part; 不满意 reopens its assignment for another reply within the tenant's
``second_reply_months`` (default 1 month) or by a date given, with new clocks sent down with the
rating, and the unit replies again. The item completes only when every reply is rated satisfied.
Each change and its event are written in one transaction, and every step goes into the item's
history, attributed."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from duban.context import EventContext, TenantContext
from duban.db.base import new_id
from duban.deadlines import rules
from duban.deadlines import service as deadlines
from duban.deadlines.models import OPEN, SUPERSEDED, Clock
from duban.deadlines.repository import ClockRepository
from duban.errors import Conflict, InvalidInput, Refused
from duban.events.envelope import (
    ClockSet,
    Envelope,
    ProposalAssigned,
    ProposalConsulted,
    ProposalRated,
    ProposalReplied,
)
from duban.items import service as items
from duban.items.events import issued_to_sender, received_from_sender
from duban.items.models import Assignment, Item
from duban.items.repository import ItemRepository
from duban.items.schemas import FeedbackCreate, HistoryRead, ItemCreate
from duban.proposals.models import FORMS, KINDS, MODES, RATINGS, REPLY_CLASSES, Consultation, Proposal, ProposalReply
from duban.proposals.repository import ProposalRepository
from duban.proposals.schemas import (
    ConsultationCreate,
    ConsultationRead,
    ProposalCreate,
    ProposalDetail,
    ProposalRead,
    ReplyCreate,
    ReplyRead,
    SatisfactionCreate,
)

DEADLINE_MONTHS = 3  # PRACTICE.md: reply within 3 months of 交办 (rules.SUGGESTION_MONTHS sets the clock)
SATISFIED = ("satisfied", "basically_satisfied")
WORKED_ON = ("assigned", "in_progress", "completion_review")
REOPENABLE = ("accepted", "in_progress", "completion_requested")


# -- the rules both sides apply -------------------------------------------------------------------------
def repliers(p: Proposal) -> list[str]:
    """The units that answer the proposer: each unit (分办), or the lead for all (会办)."""
    return [u["unit"] for u in p.units if p.mode == "separate" or u["role"] == "lead"]


def _latest(replies: list[ProposalReply]) -> dict[str, ProposalReply]:
    latest: dict[str, ProposalReply] = {}
    for r in sorted(replies, key=lambda r: r.round):
        latest[r.unit] = r
    return latest


def settle(p: Proposal, replies: list[ProposalReply], units: list[str]) -> None:
    """The proposal's state and round from the latest reply of each unit in ``units``: closed when all
    are rated satisfied; reopened while one rated 不满意 waits for its next reply; replied when all have
    answered and some wait for a rating; else assigned."""
    latest = _latest(replies)
    p.round = max((r.round + (r.rating == "dissatisfied") for r in latest.values()), default=1)
    if not units:  # a co-unit's copy under 会办: the lead answers
        return
    parts = []
    for unit in units:
        r = latest.get(unit)
        parts.append("waiting" if r is None else "replied" if r.rating is None
                     else "reopened" if r.rating == "dissatisfied" else "closed")
    if all(part == "closed" for part in parts):
        p.state = "closed"
    elif "reopened" in parts:
        p.state = "reopened"
    elif "waiting" in parts:
        p.state = "assigned"
    else:
        p.state = "replied"


async def _apply_reopen(clocks: ClockRepository, a: Assignment, specs: list[ClockSet]) -> list[Clock]:
    """Both sides: the open clocks of each kind given give way to the new ones (same ids on both sides);
    a later 办结时限 moves the assignment's deadline with it."""
    made = []
    for spec in specs:
        previous = await clocks.last_of(a.id, spec.kind)
        for old in await clocks.open_of(a.id, spec.kind):
            old.state = SUPERSEDED
        original = previous.original_due if spec.kind == "completion" and previous is not None else spec.due
        clock = Clock(id=spec.id, assignment_id=a.id, kind=spec.kind, seq=spec.seq, rule=spec.rule, due=spec.due,
                      original_due=original, start=spec.start, state=OPEN)
        clocks.add(clock)
        made.append(clock)
        if spec.kind == "completion" and spec.due > a.deadline:
            a.deadline = spec.due
    return made


def _reopen_note(due: date | None, note: str) -> str:
    return f"代表（委员）对答复不满意，请重新办理，于 {due} 前再次答复" + (f"：{note}" if note else "")


def _rating_note(rating: str, note: str) -> str:
    return RATINGS.get(rating, rating) + (f"：{note}" if note else "")


# -- the city: register, send the particulars with 交办, rate --------------------------------------------
async def register(ctx: TenantContext, data: ProposalCreate) -> Proposal:
    """Register a suggestion or proposal and draft its item for the group of the leader's portfolio."""
    items.check_text({"number": data.number, "proposer": data.proposer, "session": data.session,
                      "title": data.title, "content": data.content},
                     required=("number", "proposer", "session", "title"))
    repo = ProposalRepository(ctx.session, ctx.tenant)
    if await repo.by_number(data.kind, data.session, data.number) is not None:
        raise Conflict(f"{data.session}{KINDS[data.kind]}第 {data.number} 号已登记 (registered already)")
    proposal_id = new_id()
    source = {"kind": data.kind, "number": data.number, "proposer": data.proposer, "session": data.session,
              "proposal_id": proposal_id}
    item = await items.create_item(ctx, ItemCreate(
        title=data.title, source_kind="suggestion_proposal", source=source, division=data.division,
        deadline=data.deadline or rules.add_months(ctx.time.today(), DEADLINE_MONTHS), units=data.units,
        group=data.group, issuing_leader=data.issuing_leader, content=data.content, requirements=data.requirements,
    ))
    p = Proposal(
        id=proposal_id, item_ref=items.item_ref(ctx.tenant, item.id), item_id=item.id, kind=data.kind,
        number=data.number, proposer=data.proposer, session=data.session, title=data.title, content=data.content,
        mode=data.mode, units=sorted(item.units, key=lambda u: u["role"] != "lead"), state="registered", round=1,
        registered_by=ctx.actor.ref, registered_at=ctx.time.now(),
    )
    repo.add(p)
    ItemRepository(ctx.session, ctx.tenant).record(
        p.item_ref, "register_proposal", ctx.actor.ref, None, None,
        note=f"{p.session}{KINDS[p.kind]}第 {p.number} 号，{p.proposer}，{MODES[p.mode]}")
    return p


async def on_assigned(ctx: TenantContext, item: Item, made: list[Assignment], at) -> None:  # noqa: ANN001
    """交办 of a registered proposal's item (items.service.assign): each unit gets its particulars."""
    p = await ProposalRepository(ctx.session, ctx.tenant).of_item(item.id)
    if p is None:  # an item of this source drafted by hand, without a proposal record
        return
    p.state = "assigned"
    for a in made:
        await items.outbox_add(ctx, "proposal.assigned", a.unit, p.item_ref, ProposalAssigned(
            p.id, a.id, p.kind, p.number, p.proposer, p.session, p.title, p.content, p.mode, p.units,
            p.registered_by, p.registered_at), at)


async def _second_due(ctx: TenantContext, asked: date | None) -> tuple[date, str, date | None]:
    """(due date, rule, start) of the reply after a 不满意: the date given, else the tenant's months."""
    today = ctx.time.today()
    if asked is not None:
        if asked <= today:
            raise InvalidInput(f"再次答复的时限 {asked} 须晚于今天 (the next reply's due date must be after today)")
        return asked, f"date:{asked.isoformat()}", None
    tenant = ctx.registry.get(ctx.tenant)
    rule = f"months:{tenant.second_reply_months if tenant else 1}"
    return rules.due_of(rule, today, today, ctx.calendar), rule, today


async def _reopen_specs(clocks: ClockRepository, a: Assignment, due: date, rule: str, start: date | None
                        ) -> list[ClockSet]:
    """A new feedback clock (the next reply), and the 办结时限 again if it was met or comes too soon."""
    last = await clocks.last_of(a.id, "feedback")
    seq = last.seq + 1 if last else 1
    specs = [ClockSet(deadlines.clock_id(a.id, "feedback", seq), "feedback", seq, rule, due, start)]
    completion = await clocks.last_of(a.id, "completion")
    if completion is not None and (completion.state != OPEN or completion.due < due):
        seq = completion.seq + 1
        specs.append(ClockSet(deadlines.clock_id(a.id, "completion", seq), "completion", seq, completion.rule,
                              max(completion.due, due)))
    return specs


async def rate(ctx: TenantContext, proposal_id: str, data: SatisfactionCreate) -> ProposalReply:
    """Enter the proposer's rating of a unit's latest reply; 不满意 reopens that unit's assignment."""
    repo = ProposalRepository(ctx.session, ctx.tenant)
    p = await repo.get(proposal_id)
    if p.item_id is None:
        raise Conflict("满意度由登记交办该建议提案的单位录入 (the rating is entered where the proposal was registered)")
    item_repo = ItemRepository(ctx.session, ctx.tenant)
    item = await item_repo.get(p.item_id)
    if item.state not in WORKED_ON:
        raise Conflict(f"事项当前状态为「{items.STATE_LABELS.get(item.state, item.state)}」，不能录入满意度 "
                       f"(the item is not being worked on: {item.state})")
    units = repliers(p)
    unit = data.unit or (units[0] if len(units) == 1 else None)
    if unit is None:
        raise InvalidInput("分办件须写明评价的是哪个单位的答复 (name the unit whose reply is rated)")
    if unit not in units:
        raise InvalidInput(f"{unit} 不是本件的答复单位 (not a replying unit of this proposal)")
    replies = await repo.replies(p.id)
    latest = _latest(replies).get(unit)
    if latest is None or latest.rating is not None:
        raise Conflict(f"{unit} 没有待评价的答复 (no reply of {unit} waits for a rating)")
    at = ctx.time.now()
    latest.rating, latest.rating_note = data.rating, data.note or None
    latest.rated_by, latest.rated_at = ctx.actor.ref, at
    a = next((a for a in await item_repo.assignments_of(item.id) if a.unit == unit), None)
    if a is None:
        raise Conflict(f"{unit} 没有本件的承办任务 (no assignment of {unit})")
    item_repo.record(p.item_ref, "rate", ctx.actor.ref, None, None, assignment_id=a.id,
                     note=f"第{latest.round}次答复：{_rating_note(data.rating, data.note)}")
    due, specs = None, []
    if data.rating == "dissatisfied":
        due, rule, start = await _second_due(ctx, data.due)
        latest.next_due = due
        clock_repo = ClockRepository(ctx.session, ctx.tenant)
        specs = await _reopen_specs(clock_repo, a, due, rule, start)
        before = items._move(a, REOPENABLE, "returned", "reopen")
        a.note = _reopen_note(due, data.note)
        made = await _apply_reopen(clock_repo, a, specs)
        deadlines.schedule_reminders(made, ctx.time.today(), ctx.calendar, items.remind_before(ctx))
        item_repo.record(p.item_ref, "reopen", ctx.actor.ref, before, "returned", note=a.note, assignment_id=a.id)
        await items.roll_up(item_repo, item, ctx.actor.ref)
    settle(p, replies, units)
    await items.outbox_add(ctx, "proposal.rated", a.unit, p.item_ref, ProposalRated(
        latest.id, p.id, a.id, data.rating, data.note, ctx.actor.ref, at, due is not None, due, specs), at)
    return latest


async def check_closable(ctx: TenantContext, item_id: str) -> None:
    """A registered proposal's item completes only once every reply is rated 满意 or 基本满意."""
    repo = ProposalRepository(ctx.session, ctx.tenant)
    p = await repo.of_item(item_id)
    if p is None:
        return
    latest = _latest(await repo.replies(p.id))
    waiting = [u for u in repliers(p) if u not in latest or latest[u].rating not in SATISFIED]
    if waiting:
        raise Conflict(f"建议提案尚待 {'、'.join(waiting)} 的答复获代表（委员）满意或基本满意的评价，不能办结 "
                       "(the proposer has not rated every reply satisfied yet)")


# -- the unit: 面商 and 答复 -----------------------------------------------------------------------------
async def _at_unit(ctx: TenantContext, proposal_id: str) -> tuple[ProposalRepository, ItemRepository, Proposal,
                                                                   Assignment]:
    repo = ProposalRepository(ctx.session, ctx.tenant)
    p = await repo.get(proposal_id)
    if p.assignment_id is None:
        raise Conflict("本单位是交办方，面商和答复由承办单位办理 "
                       "(registered here: the handling units consult and reply)")
    item_repo, a = await items._received(ctx, p.assignment_id)
    if a.state == "done":
        raise Conflict("承办任务已办结 (the assignment is done)")
    return repo, item_repo, p, a


def _consultation_note(c: Consultation) -> str:
    return f"面商（{FORMS.get(c.form, c.form)}）{c.on.isoformat()}，{'、'.join(c.people)}：{c.content[:200]}"


async def consult(ctx: TenantContext, proposal_id: str, data: ConsultationCreate) -> Consultation:
    """Record a 面商 with the proposer, and send it up."""
    items.check_text({"content": data.content}, required=("content",))
    if data.on > ctx.time.today():
        raise InvalidInput(f"面商日期 {data.on} 晚于今天 (the consultation is dated in the future)")
    repo, item_repo, p, a = await _at_unit(ctx, proposal_id)
    at = ctx.time.now()
    c = Consultation(id=new_id(), proposal_id=p.id, assignment_id=a.id, unit=ctx.tenant, on=data.on, form=data.form,
                     people=list(data.people), content=data.content, recorded_by=ctx.actor.ref, recorded_at=at)
    repo.add(c)
    item_repo.record(p.item_ref, "consult", ctx.actor.ref, None, None, note=_consultation_note(c), assignment_id=a.id)
    await items.outbox_add(ctx, "proposal.consulted", a.assigner, p.item_ref, ProposalConsulted(
        c.id, p.id, a.id, c.on, c.form, c.people, c.content, c.recorded_by, at), at)
    return c


async def reply(ctx: TenantContext, proposal_id: str, data: ReplyCreate) -> ProposalReply:
    """答复: the unit's reply (also its result feedback on the assignment), sent up."""
    items.check_text({"text": data.text, "signed_by": data.signed_by, "contact": data.contact, "phone": data.phone},
                     required=("text", "signed_by"))
    repo, item_repo, p, a = await _at_unit(ctx, proposal_id)
    if ctx.tenant not in repliers(p):
        raise Conflict("会办件由主办单位统一答复，协办单位请将书面意见送主办单位 "
                       "(under 会办 the lead unit replies for all)")
    mine = [r for r in await repo.replies(p.id) if r.unit == ctx.tenant]
    last = _latest(mine).get(ctx.tenant)
    if last is not None and last.rating is None:
        raise Conflict("上一次答复尚待代表（委员）评价 (the last reply is not rated yet)")
    if last is not None and last.rating in SATISFIED:
        raise Conflict("代表（委员）对答复已表示满意，无需再次答复 (the proposer is satisfied already)")
    number = last.round + 1 if last else 1
    await items.add_feedback(ctx, a.id, FeedbackCreate(
        text=f"【第{number}次答复·{data.reply_class}类】{data.text}", kind="result"))
    at = ctx.time.now()
    r = ProposalReply(id=new_id(), proposal_id=p.id, assignment_id=a.id, unit=ctx.tenant, round=number,
                      reply_class=data.reply_class, text=data.text, signed_by=data.signed_by, contact=data.contact,
                      phone=data.phone, replied_by=ctx.actor.ref, replied_at=at)
    repo.add(r)
    item_repo.record(p.item_ref, "reply", ctx.actor.ref, None, None, assignment_id=a.id,
                     note=f"第{number}次答复，{data.reply_class}类（{REPLY_CLASSES[data.reply_class]}）")
    settle(p, [*mine, r], [ctx.tenant])
    await items.outbox_add(ctx, "proposal.replied", a.assigner, p.item_ref, ProposalReplied(
        r.id, p.id, a.id, number, r.reply_class, r.text, r.signed_by, r.contact, r.phone, r.replied_by, at), at)
    return r


# -- reading ----------------------------------------------------------------------------------------
async def detail(ctx: TenantContext, proposal_id: str) -> ProposalDetail:
    """A proposal with its replies, 面商 records and history (at a unit: its own assignment's)."""
    repo = ProposalRepository(ctx.session, ctx.tenant)
    p = await repo.get(proposal_id)
    history = await ItemRepository(ctx.session, ctx.tenant).history(p.item_ref, p.assignment_id)
    return ProposalDetail(ProposalRead.of(p), [ReplyRead.of(r) for r in await repo.replies(p.id)],
                          [ConsultationRead.of(c) for c in await repo.consultations(p.id)],
                          [HistoryRead.of(h) for h in history])


# -- events -----------------------------------------------------------------------------------------
async def _proposal_of(session: AsyncSession, tenant: str, env: Envelope, proposal_id: str) -> Proposal:
    p = await ProposalRepository(session, tenant).find(proposal_id)
    if p is None or p.item_ref != env.item_ref:
        raise Refused(f"no proposal {proposal_id} of item {env.item_ref} here")
    return p


async def on_proposal_assigned(ctx: EventContext, env: Envelope, e: ProposalAssigned) -> None:
    """At the unit: keep a copy of the proposal with the assignment it came with."""
    item_repo = ItemRepository(ctx.session, ctx.tenant)
    a = await received_from_sender(item_repo, env, e.assignment_id)
    repo = ProposalRepository(ctx.session, ctx.tenant)
    if await repo.find(e.proposal_id) is not None:
        raise Conflict(f"proposal {e.proposal_id} already exists here")
    repo.add(Proposal(id=e.proposal_id, item_ref=env.item_ref, item_id=None, assignment_id=a.id, kind=e.kind,
                      number=e.number, proposer=e.proposer, session=e.session, title=e.title, content=e.content,
                      mode=e.mode, units=e.units, state="assigned", round=1, registered_by=e.registered_by,
                      registered_at=e.registered_at))
    kind, mode = KINDS.get(e.kind, e.kind), MODES.get(e.mode, e.mode)
    item_repo.record(env.item_ref, "receive_proposal", env.actor, None, None, assignment_id=a.id,
                     note=f"{e.session}{kind}第 {e.number} 号，{e.proposer}，{mode}")


async def on_consulted(ctx: EventContext, env: Envelope, e: ProposalConsulted) -> None:
    """At the city: keep the unit's 面商 record."""
    item_repo = ItemRepository(ctx.session, ctx.tenant)
    a = await issued_to_sender(item_repo, env, e.assignment_id)
    p = await _proposal_of(ctx.session, ctx.tenant, env, e.proposal_id)
    repo = ProposalRepository(ctx.session, ctx.tenant)
    if await repo.consultation_exists(e.consultation_id):
        raise Conflict(f"consultation {e.consultation_id} already exists here")
    c = Consultation(id=e.consultation_id, proposal_id=p.id, assignment_id=a.id, unit=a.unit, on=e.on, form=e.form,
                     people=e.people, content=e.content, recorded_by=e.recorded_by, recorded_at=e.recorded_at)
    repo.add(c)
    item_repo.record(env.item_ref, "consult", env.actor, None, None, note=_consultation_note(c), assignment_id=a.id)


async def on_replied(ctx: EventContext, env: Envelope, e: ProposalReplied) -> None:
    """At the city: keep the unit's reply; the proposal waits for the proposer's rating."""
    item_repo = ItemRepository(ctx.session, ctx.tenant)
    a = await issued_to_sender(item_repo, env, e.assignment_id)
    p = await _proposal_of(ctx.session, ctx.tenant, env, e.proposal_id)
    if a.unit not in repliers(p):
        raise Refused(f"{a.unit} does not reply to proposal {p.id} ({p.mode}: the lead replies)")
    repo = ProposalRepository(ctx.session, ctx.tenant)
    if await repo.reply(e.reply_id) is not None:
        raise Conflict(f"reply {e.reply_id} already exists here")
    r = ProposalReply(id=e.reply_id, proposal_id=p.id, assignment_id=a.id, unit=a.unit, round=e.round,
                      reply_class=e.reply_class, text=e.text, signed_by=e.signed_by, contact=e.contact, phone=e.phone,
                      replied_by=e.replied_by, replied_at=e.replied_at)
    repo.add(r)
    item_repo.record(env.item_ref, "reply", env.actor, None, None, assignment_id=a.id,
                     note=f"第{e.round}次答复，{e.reply_class}类（{REPLY_CLASSES.get(e.reply_class, '')}）")
    others = [x for x in await repo.replies(p.id) if x.id != r.id]
    settle(p, [*others, r], repliers(p))


async def on_rated(ctx: EventContext, env: Envelope, e: ProposalRated) -> None:
    """At the unit: the proposer's rating of its reply; 不满意 reopens its assignment with the city's clocks."""
    item_repo = ItemRepository(ctx.session, ctx.tenant)
    a = await received_from_sender(item_repo, env, e.assignment_id)
    repo = ProposalRepository(ctx.session, ctx.tenant)
    r = await repo.reply(e.reply_id)
    if r is None or r.assignment_id != a.id:
        raise Refused(f"no reply {e.reply_id} on assignment {a.id} here")
    if r.rating is not None:
        raise Conflict(f"reply {r.id} is rated already")
    r.rating, r.rating_note, r.rated_by, r.rated_at = e.rating, e.note or None, e.rated_by, e.rated_at
    item_repo.record(env.item_ref, "rate", env.actor, None, None, assignment_id=a.id,
                     note=f"第{r.round}次答复：{_rating_note(e.rating, e.note)}")
    if e.reopened:
        r.next_due = e.due
        before = items._move(a, REOPENABLE, "returned", "reopen")
        a.note = _reopen_note(e.due, e.note)
        await _apply_reopen(ClockRepository(ctx.session, ctx.tenant), a, list(e.clocks))
        item_repo.record(env.item_ref, "reopen", env.actor, before, "returned", note=a.note, assignment_id=a.id)
    p = await repo.get(r.proposal_id)
    settle(p, [x for x in await repo.replies(p.id) if x.unit == ctx.tenant], [ctx.tenant])


HANDLERS = {
    "proposal.assigned": on_proposal_assigned,
    "proposal.consulted": on_consulted,
    "proposal.replied": on_replied,
    "proposal.rated": on_rated,
}
