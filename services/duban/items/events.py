"""What an incoming event does to this tenant's items (called by the inbox inside its transaction, in
order per item and sender). Raising undoes the event's effect: ``Refused`` when the sender has no
standing for it here (kept as rejected), ``Conflict`` when this tenant's copy is in a state the event
cannot apply to (kept as a conflict an operator can replay).

Deadline clocks move with the events, at the times the events carry, so both tenants hold the same."""

from __future__ import annotations

from duban.attachments import service as attachments
from duban.context import EventContext
from duban.counits import report as counits
from duban.deadlines import service as deadlines
from duban.deadlines.repository import ClockRepository
from duban.deadlines.rules import ClockSpec
from duban.documents import service as documents
from duban.errors import Conflict, Refused
from duban.events.envelope import (
    AssignmentAccepted,
    AssignmentCompleted,
    AssignmentIssued,
    AssignmentReturned,
    CompletionRequested,
    Envelope,
    FeedbackSubmitted,
)
from duban.items.models import Assignment, Feedback
from duban.items.repository import ItemRepository
from duban.items.service import _move, roll_up
from duban.tree import rollup


async def on_issued(ctx: EventContext, env: Envelope, p: AssignmentIssued) -> None:
    """交办 arrived: the assignment enters this unit's queue, with the clocks the assigner set."""
    repo = ItemRepository(ctx.session, ctx.tenant)
    if await repo.find_assignment(p.assignment_id) is not None:
        raise Conflict(f"assignment {p.assignment_id} already exists here")
    repo.add_assignment(Assignment(
        id=p.assignment_id, item_ref=env.item_ref, item_id=None, assigner=env.from_tenant, unit=ctx.tenant,
        role=p.role, serial=p.serial, title=p.title, content=p.content, requirements=p.requirements,
        source_kind=p.source_kind, deadline=p.deadline, state="issued", assigned_at=env.occurred_at,
        plan_units=p.units or None, group_code=p.group, issuing_leader=p.leader, confidentiality=p.confidentiality,
    ))
    await ctx.session.flush()
    deadlines.add_clocks(ClockRepository(ctx.session, ctx.tenant), p.assignment_id,
                         [ClockSpec(c.kind, c.seq, c.rule, c.due, c.start) for c in p.clocks], [c.id for c in p.clocks])
    repo.record(env.item_ref, "receive", env.actor, None, "issued", assignment_id=p.assignment_id)


async def issued_to_sender(repo: ItemRepository, env: Envelope, assignment_id: str) -> Assignment:
    """At the assigner: the assignment this tenant issued to the event's sender (answers are taken only
    from the unit the assignment went to), or ``Refused``."""
    a = await repo.find_assignment(assignment_id)
    if a is None or a.assigner != repo.tenant or a.unit != env.from_tenant:
        raise Refused(f"{env.from_tenant} holds no assignment {assignment_id} issued by {repo.tenant}")
    return a


async def received_from_sender(repo: ItemRepository, env: Envelope, assignment_id: str) -> Assignment:
    """At the unit: the assignment this tenant received from the event's sender, or ``Refused``."""
    a = await repo.find_assignment(assignment_id)
    if a is None or a.unit != repo.tenant or a.assigner != env.from_tenant:
        raise Refused(f"no assignment {assignment_id} from {env.from_tenant} here")
    return a


async def _mirror(ctx: EventContext, env: Envelope, assignment_id: str, allowed: tuple[str, ...], to: str,
                  action: str, note: str | None = None) -> Assignment:
    repo = ItemRepository(ctx.session, ctx.tenant)
    a = await issued_to_sender(repo, env, assignment_id)
    before = _move(a, allowed, to, action)
    repo.record(env.item_ref, action, env.actor, before, to, note=note, assignment_id=a.id)
    if a.item_id is not None:
        await roll_up(repo, await repo.get(a.item_id), env.actor)
    return a


async def _report(ctx: EventContext, env: Envelope, a: Assignment) -> None:
    """If the assignment belongs to a part this tenant split, tell the level above (roll-up)."""
    if a.item_id is not None:
        item = await ItemRepository(ctx.session, ctx.tenant).get(a.item_id)
        await rollup.report(ctx.session, ctx.tenant, item, [a], env.actor, env.occurred_at)


async def on_accepted(ctx: EventContext, env: Envelope, p: AssignmentAccepted) -> None:
    """The unit signed for it (签收)."""
    a = await _mirror(ctx, env, p.assignment_id, ("issued",), "accepted", "accept")
    a.accepted_at, a.accepted_by = p.accepted_at, p.accepted_by
    await deadlines.meet(ClockRepository(ctx.session, ctx.tenant), a.id, "accept", p.accepted_at, ctx.calendar)
    await _report(ctx, env, a)


async def on_feedback(ctx: EventContext, env: Envelope, p: FeedbackSubmitted) -> None:
    """The unit reported progress or results (反馈); keep a copy with the assigner."""
    repo = ItemRepository(ctx.session, ctx.tenant)
    if await repo.feedback_exists(p.feedback_id):
        raise Conflict(f"feedback {p.feedback_id} already exists here")
    a = await _mirror(ctx, env, p.assignment_id, ("accepted", "in_progress", "returned"), "in_progress",
                      "feedback", note=p.kind)
    # The attachments' bytes are copied in and checked before this event commits (and is acked).
    await attachments.receive_refs(ctx, p.attachments, p.feedback_id)
    repo.add_feedback(Feedback(id=p.feedback_id, assignment_id=p.assignment_id, kind=p.kind, text=p.text,
                               author=p.author, submitted_at=p.submitted_at))
    await deadlines.on_feedback(ClockRepository(ctx.session, ctx.tenant), p.assignment_id, p.kind, p.submitted_at,
                                ctx.calendar)
    if p.co_views:
        await counits.keep_reported(ctx, env, a, p.co_views)
    await ctx.session.flush()
    await documents.on_result_feedback(ctx, env.actor, a, p)  # a result report: its 办理情况报告
    await _report(ctx, env, a)


async def on_completion_requested(ctx: EventContext, env: Envelope, p: CompletionRequested) -> None:
    """The unit's chief asked for completion (办结申请)."""
    a = await _mirror(ctx, env, p.assignment_id, ("in_progress",), "completion_requested", "request_completion",
                      note=p.note or None)
    a.note = p.note or None
    await deadlines.on_completion_request(ClockRepository(ctx.session, ctx.tenant), a.id, env.occurred_at,
                                          ctx.calendar)
    await _report(ctx, env, a)


async def _ours(ctx: EventContext, env: Envelope, assignment_id: str) -> tuple[ItemRepository, Assignment]:
    repo = ItemRepository(ctx.session, ctx.tenant)
    return repo, await received_from_sender(repo, env, assignment_id)


async def on_completed(ctx: EventContext, env: Envelope, p: AssignmentCompleted) -> None:
    """The assigner closed the item: this unit's work is done."""
    repo, a = await _ours(ctx, env, p.assignment_id)
    before = _move(a, ("completion_requested",), "done", "complete")
    repo.record(env.item_ref, "complete", env.actor, before, "done", assignment_id=a.id)


async def on_returned(ctx: EventContext, env: Envelope, p: AssignmentReturned) -> None:
    """The assigner sent the work back (退回重办): the feedback clock starts again from the return."""
    repo, a = await _ours(ctx, env, p.assignment_id)
    before = _move(a, ("accepted", "in_progress", "completion_requested"), "returned", "return")
    a.note = p.reason
    repo.record(env.item_ref, "return", env.actor, before, "returned", note=p.reason, assignment_id=a.id)
    await deadlines.on_return(ClockRepository(ctx.session, ctx.tenant), a.id, env.occurred_at, a.deadline,
                              ctx.calendar, remind=None)


HANDLERS = {
    "assignment.issued": on_issued,
    "assignment.accepted": on_accepted,
    "feedback.submitted": on_feedback,
    "assignment.completion_requested": on_completion_requested,
    "assignment.completed": on_completed,
    "assignment.returned": on_returned,
}
