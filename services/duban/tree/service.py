"""分解: split a received assignment into parts; close a part; receive roll-up from below; the tree views."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import msgspec

from duban.attachments.service import receive_refs
from duban.context import EventContext, TenantContext
from duban.db.base import new_id
from duban.deadlines import service as deadlines
from duban.deadlines.models import OPEN, SUPERSEDED
from duban.deadlines.repository import ClockRepository
from duban.errors import Conflict, InvalidInput, Refused
from duban.events.envelope import AssignmentClosed, AttachmentRef, Envelope, NodeFeedback, TreeNodeReported
from duban.items import service as items
from duban.items.models import Assignment, Feedback, Item
from duban.items.repository import ItemRepository
from duban.items.views import warn_until
from duban.numbering.repository import CounterRepository
from duban.tree import rollup
from duban.tree.models import TreeNode
from duban.tree.repository import TreeRepository
from duban.tree.schemas import NodeFeedbackRead, PartCreate, TreeRead, TreeUnit

SPLITTABLE = ("accepted", "in_progress", "returned")
FINISHED_PARTS = ("completed", "archived", "closed")


# -- the splitting level ----------------------------------------------------------------------------
async def split(ctx: TenantContext, assignment_id: str, data: PartCreate) -> tuple[Item, list[Assignment]]:
    """分解: one part of a received assignment, for units below this tenant, with its own plan and a
    deadline no later than the assignment's; registered under this tenant's own serial and assigned at once
    (the work was decided above; this level decides only how to share it)."""
    repo = ItemRepository(ctx.session, ctx.tenant)
    parent = await repo.assignment(assignment_id)
    if parent.unit != ctx.tenant:
        raise Conflict("只能分解本单位承办的任务 (only an assignment received here can be split)")
    if parent.state not in SPLITTABLE:
        label = items.STATE_LABELS.get(parent.state, parent.state)
        raise Conflict(f"当前状态为「{label}」，签收后、申请办结前才能分解 (cannot split in state {parent.state})")
    if data.deadline > parent.deadline:
        raise InvalidInput(f"分解任务的办结时限 {data.deadline} 不能晚于本单位的办结时限 {parent.deadline} "
                           "(a part cannot be due after the assignment it comes from)")
    if data.deadline < ctx.time.today():
        raise InvalidInput(f"办结时限 {data.deadline} 已过 (deadline is in the past)")
    title, content = data.title or parent.title, data.content or parent.content
    items.check_text({"title": title, "content": content, "requirements": data.requirements})
    units = items.check_units(ctx, data.units)
    tenant = ctx.registry.get(ctx.tenant)
    year = ctx.time.today().year
    number = await CounterRepository(ctx.session, ctx.tenant).next(f"item_serial:{year}")
    part = Item(
        id=new_id(), serial=f"{year}-{number:04d}", title=title, content=content, requirements=data.requirements,
        source_kind=parent.source_kind, source={"split_from": parent.item_ref, "serial": parent.serial},
        division=tenant.name if tenant else ctx.tenant, group_code="", deadline=data.deadline, units=units,
        progress_reports=data.progress_reports, state="registered", parent_ref=parent.item_ref,
        parent_assignment_id=parent.id, created_by=ctx.actor.ref,
        confidentiality=parent.confidentiality,  # a part of a protected assignment is protected too (第八条)
    )
    repo.add(part)
    ref = items.item_ref(ctx.tenant, part.id)
    repo.record(ref, "split", ctx.actor.ref, None, "registered", note=parent.item_ref)
    repo.record(parent.item_ref, "split", ctx.actor.ref, parent.state, parent.state, note=ref,
                assignment_id=parent.id)
    await ctx.session.flush()
    return await items.assign(ctx, part.id)


async def close_part(ctx: TenantContext, item_id: str, reason: str) -> Item:
    """Close a part without waiting for its units (its work was overtaken, merged or cancelled): every
    unit still on it is told; the part then counts as finished for the assignment it came from."""
    repo = ItemRepository(ctx.session, ctx.tenant)
    part = await repo.get(item_id)
    if part.parent_assignment_id is None:
        raise Conflict("只有分解出的子任务可以由本级直接关闭 (only a part can be closed this way)")
    before = items._move(part, ("assigned", "in_progress", "completion_review"), "closed", "close")
    ref = items.item_ref(ctx.tenant, part.id)
    repo.record(ref, "close", ctx.actor.ref, before, "closed", note=reason)
    at = ctx.time.now()
    changed = []
    for a in await repo.assignments_of(part.id):
        if a.state in ("done", "closed"):
            continue
        was = items._move(a, (a.state,), "closed", "close")
        a.note = reason
        repo.record(ref, "close", ctx.actor.ref, was, "closed", note=reason, assignment_id=a.id)
        await _stop_clocks(ctx, a.id)
        await items.outbox_add(ctx, "assignment.closed", a.unit, ref, AssignmentClosed(a.id, reason), at)
        changed.append(a)
    await rollup.report(ctx.session, ctx.tenant, part, changed, ctx.actor.ref, at)
    return part


async def _stop_clocks(ctx: TenantContext | EventContext, assignment_id: str) -> None:
    for c in await ClockRepository(ctx.session, ctx.tenant).of([assignment_id]):
        if c.state == OPEN:
            c.state, c.next_reminder_on = SUPERSEDED, None


async def unfinished_parts(ctx: TenantContext, assignment_id: str) -> list[Item]:
    """The parts split from this received assignment that are not finished yet."""
    return [p for p in await TreeRepository(ctx.session, ctx.tenant).parts_of([assignment_id])
            if p.state not in FINISHED_PARTS]


# -- events -------------------------------------------------------------------------------------------
async def on_node(ctx: EventContext, env: Envelope, p: TreeNodeReported) -> None:
    """A unit below changed: keep its node, and pass it on up if this tenant's item is itself a part."""
    repo, trees = ItemRepository(ctx.session, ctx.tenant), TreeRepository(ctx.session, ctx.tenant)
    sender = env.from_tenant
    # Standing: the node hangs under an assignment this tenant gave the sender, or under a node the sender
    # reported before; and its units lie inside the sender's subtree.
    parent = await repo.find_assignment(p.parent_assignment_id)
    if parent is not None:
        standing = parent.assigner == ctx.tenant and parent.unit == sender and parent.item_ref == env.item_ref
    else:
        above = await trees.node(p.parent_assignment_id)
        standing = above is not None and above.reported_by == sender and above.item_ref == env.item_ref
    inside = ctx.registry.is_below(p.unit, sender) and (
        p.assigner == sender or ctx.registry.is_below(p.assigner, sender))
    if not standing or not inside:
        raise Refused(f"{sender} reported a unit ({p.unit}) that is not in the work it was given here")
    if await repo.find_assignment(p.assignment_id) is not None:
        raise Refused(f"assignment {p.assignment_id} is this tenant's own, not a node below {sender}")
    node = await trees.node(p.assignment_id)
    if node is not None and (node.reported_by != sender or node.item_ref != env.item_ref):
        raise Refused(f"node {p.assignment_id} was reported by {node.reported_by}, not {sender}")
    feedback = p.last_feedback
    if feedback is not None and feedback.attachments:
        feedback = await _copy_attachments(ctx, feedback)
        p = msgspec.structs.replace(p, last_feedback=feedback)
    if node is None:
        node = TreeNode(assignment_id=p.assignment_id, item_ref=env.item_ref, reported_by=sender)
        trees.add(node)
    node.parent_assignment_id, node.part_ref, node.part_serial = p.parent_assignment_id, p.part_ref, p.part_serial
    node.part_title, node.assigner, node.unit, node.role = p.part_title, p.assigner, p.unit, p.role
    node.state, node.deadline, node.changed_at = p.state, p.deadline, p.changed_at
    node.clocks = [{"kind": c.kind, "seq": c.seq, "due": c.due.isoformat(), "state": c.state, "on_time": c.on_time}
                   for c in p.clocks]
    node.last_feedback = None if feedback is None else {
        "feedback_id": feedback.feedback_id, "kind": feedback.kind, "text": feedback.text, "author": feedback.author,
        "submitted_at": feedback.submitted_at.isoformat(), "attachments": feedback.attachments}
    await rollup.pass_on(ctx.session, ctx.tenant, await repo.get(env.item_ref.rpartition("/")[2]), p, env.actor)


async def _copy_attachments(ctx: EventContext, feedback: NodeFeedback) -> NodeFeedback:
    """Bring the report's attachments into this tenant's own bucket, checked against their hashes (the
    next level up copies from here)."""
    refs = [msgspec.convert(a, AttachmentRef) for a in feedback.attachments]
    local = await receive_refs(ctx, refs, feedback.feedback_id)
    return msgspec.structs.replace(feedback, attachments=[msgspec.to_builtins(r) for r in local])


async def on_closed(ctx: EventContext, env: Envelope, p: AssignmentClosed) -> None:
    """The level above closed the part this assignment belongs to."""
    repo = ItemRepository(ctx.session, ctx.tenant)
    from duban.items.events import received_from_sender  # noqa: PLC0415

    a = await received_from_sender(repo, env, p.assignment_id)
    if a.state in ("done", "closed"):
        raise Conflict(f"assignment {a.id} is already {a.state}")
    before, a.state, a.note = a.state, "closed", p.reason
    repo.record(env.item_ref, "close", env.actor, before, "closed", note=p.reason, assignment_id=a.id)
    await _stop_clocks(ctx, a.id)


HANDLERS = {"tree.node": on_node, "assignment.closed": on_closed}


# -- views ------------------------------------------------------------------------------------------------
def _light(clocks: list, state: str, today: date, until: date) -> tuple[str | None, date | None]:
    shaped = [SimpleNamespace(due=c["due"] if isinstance(c["due"], date) else date.fromisoformat(c["due"]),
                              state=c["state"]) for c in clocks]
    open_dues = [c.due for c in shaped if c.state == OPEN]
    if state == "closed":
        return None, None
    return deadlines.light(shaped, state, today, until), min(open_dues, default=None)


def _feedback_read(f: Feedback | dict | None, attachments: list[dict] | None = None) -> NodeFeedbackRead | None:
    if f is None:
        return None
    if isinstance(f, dict):
        return NodeFeedbackRead(f["kind"], f["text"], f["author"], f["submitted_at"], f.get("attachments", []))
    return NodeFeedbackRead(f.kind, f.text, f.author, f.submitted_at, attachments or [])


async def _units(ctx: TenantContext, assignments: list[Assignment], parts: dict[str, Item], level: int
                 ) -> list[TreeUnit]:
    today, until = warn_until(ctx)
    ids = [a.id for a in assignments]
    clocks = await ClockRepository(ctx.session, ctx.tenant).of(ids)
    last: dict[str, Feedback] = {}
    for f in sorted(await ItemRepository(ctx.session, ctx.tenant).feedback_of(ids), key=lambda f: f.submitted_at):
        last[f.assignment_id] = f
    made = []
    for a in assignments:
        own = [{"due": c.due, "state": c.state} for c in clocks if c.assignment_id == a.id]
        light, next_due = _light(own, a.state, today, until)
        part = parts.get(a.item_id or "")
        made.append(TreeUnit(
            a.id, level, a.assigner, a.unit, _name(ctx, a.unit), a.role, a.state, a.deadline, light, next_due,
            None if part is None or part.parent_assignment_id is None else
            {"ref": items.item_ref(ctx.tenant, part.id), "serial": part.serial, "title": part.title},
            _feedback_read(last.get(a.id),
                           await rollup.feedback_attachments(ctx.session, ctx.tenant, last.get(a.id))),
        ))
    return made


def _name(ctx: TenantContext, code: str) -> str:
    tenant = ctx.registry.get(code)
    return tenant.name if tenant else code


def _grow(ctx: TenantContext, units: list[TreeUnit], nodes: list[TreeNode], level: int) -> None:
    """Hang the reported nodes under the units they were split from, level by level."""
    today, until = warn_until(ctx)
    by_parent: dict[str, list[TreeNode]] = {}
    for n in nodes:
        by_parent.setdefault(n.parent_assignment_id, []).append(n)
    for unit in units:
        for n in by_parent.get(unit.assignment_id, []):
            light, next_due = _light(n.clocks, n.state, today, until)
            unit.children.append(TreeUnit(
                n.assignment_id, level + 1, n.assigner, n.unit, _name(ctx, n.unit), n.role, n.state, n.deadline,
                light, next_due, {"ref": n.part_ref, "serial": n.part_serial, "title": n.part_title},
                _feedback_read(n.last_feedback)))
        _grow(ctx, unit.children, nodes, level + 1)


def _count(units: list[TreeUnit], counts: dict[str, int]) -> dict[str, int]:
    for u in units:
        counts[u.state] = counts.get(u.state, 0) + 1
        _count(u.children, counts)
    return counts


async def item_tree(ctx: TenantContext, item_id: str) -> TreeRead:
    """The whole tree of one of this tenant's items: its own units, and every level below them."""
    repo = ItemRepository(ctx.session, ctx.tenant)
    item = await repo.get(item_id)
    ref = items.item_ref(ctx.tenant, item.id)
    units = await _units(ctx, await repo.assignments_of(item.id), {item.id: item}, 1)
    _grow(ctx, units, await TreeRepository(ctx.session, ctx.tenant).nodes(ref), 1)
    return TreeRead(ref, item.title, item.state, units, _count(units, {}))


async def assignment_tree(ctx: TenantContext, assignment_id: str) -> TreeRead:
    """A received assignment's subtree at this level: the parts split from it, their units, and below."""
    repo, trees = ItemRepository(ctx.session, ctx.tenant), TreeRepository(ctx.session, ctx.tenant)
    a = await repo.assignment(assignment_id)
    if a.unit != ctx.tenant:
        raise Conflict("这是本单位交办出去的任务，请查看事项的分解情况 (not an assignment received here)")
    parts = await trees.parts_of([a.id])
    units: list[TreeUnit] = []
    for part in parts:
        mine = await _units(ctx, await repo.assignments_of(part.id), {part.id: part}, 1)
        _grow(ctx, mine, await trees.nodes(items.item_ref(ctx.tenant, part.id)), 1)
        units += mine
    return TreeRead(a.item_ref, a.title, a.state, units, _count(units, {}))
