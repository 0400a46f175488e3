"""The item's life (第四条; ARCHITECTURE §3). Every transition checks the state, appends history and
writes its events in the caller's transaction; the request or message boundary commits."""

from __future__ import annotations

import re
from datetime import date, datetime

import msgspec

from duban.accounts.repository import AccountRepository
from duban.archive import ArchiveStore, DossierMeta, build_dossier
from duban.attachments import service as attachments
from duban.confidentiality.levels import check_level
from duban.context import TenantContext, today
from duban.counits import report as counits
from duban.db.base import new_id, utcnow
from duban.deadlines import rules
from duban.deadlines import service as deadlines
from duban.deadlines.repository import ClockRepository
from duban.documents import service as documents
from duban.errors import Conflict, InvalidInput
from duban.events.envelope import (
    AssignmentAccepted,
    AssignmentCompleted,
    AssignmentIssued,
    AssignmentReturned,
    ClockSet,
    CompletionRequested,
    FeedbackSubmitted,
)
from duban.events.repository import OutboxRepository
from duban.extensions.repository import ExtensionRepository
from duban.extensions.schemas import ExtensionRead
from duban.items.models import Assignment, Feedback, Item
from duban.items.repository import ItemRepository
from duban.items.schemas import (
    SOURCE_SCHEMAS,
    AssignmentRead,
    FeedbackCreate,
    FeedbackRead,
    HistoryRead,
    ItemCreate,
    ItemRead,
    ItemUpdate,
    UnitPlan,
)
from duban.numbering.repository import CounterRepository
from duban.supervision.repository import SupervisionRepository
from duban.supervision.schemas import SupervisionRead
from duban.tree import rollup
from duban.tree.models import TreeNode
from duban.tree.repository import TreeRepository

STATE_LABELS = {
    "draft": "草稿", "pending_approval": "待审定", "rejected": "已退回修改", "registered": "已立项",
    "assigned": "已交办", "in_progress": "办理中", "completion_review": "办结审核中", "completed": "已办结",
    "archived": "已归档", "withdrawn": "已撤销", "issued": "待签收", "accepted": "已签收",
    "completion_requested": "已申请办结", "returned": "退回重办", "done": "已办结", "closed": "已关闭",
}
ACTION_LABELS = {
    "update": "修改", "submit": "报审", "approve": "审定立项", "reject": "退回", "withdraw": "撤销",
    "assign": "交办", "complete": "办结", "return": "退回重办", "archive": "归档", "accept": "签收",
    "feedback": "反馈", "request_completion": "申请办结", "split": "分解", "close": "关闭",
    "reopen": "重新办理",
}


def item_ref(tenant: str, item_id: str) -> str:
    """The id of an item across the whole network."""
    return f"{tenant}/{item_id}"


def remind_before(ctx: TenantContext) -> tuple[int, ...]:
    """How many working days before a due date this tenant's 催办 steps go out (registry)."""
    entry = ctx.registry.get(ctx.tenant)
    return entry.remind_before if entry else (3, 1)


def _move(obj: Item | Assignment, allowed: tuple[str, ...], to: str, action: str) -> str:
    if obj.state not in allowed:
        raise Conflict(
            f"当前状态为「{STATE_LABELS.get(obj.state, obj.state)}」，不能{ACTION_LABELS.get(action, action)}"
            f" (cannot {action} in state {obj.state})"
        )
    before, obj.state = obj.state, to
    return before


# -- plan checks ---------------------------------------------------------------------------------
def _check_source(kind: str, source: dict) -> dict:
    try:
        checked = msgspec.to_builtins(msgspec.convert(source, SOURCE_SCHEMAS[kind], strict=False))
    except msgspec.ValidationError as exc:
        raise InvalidInput(f"事项来源信息有误 (source of kind {kind}): {exc}") from exc
    check_text({f"source.{k}": v for k, v in checked.items() if isinstance(v, str)}, required=())
    return checked


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
TEXT_LABELS = {"title": "标题", "content": "交办内容", "requirements": "办理要求", "division": "责任处室",
               "text": "反馈内容"}


def check_text(values: dict[str, str], required: tuple[str, ...] = ("title", "division", "text")) -> None:
    """Free text holds no control characters (NUL and the like: pasted garbage, not words), and the
    fields a record cannot do without are not blank."""
    for name, value in values.items():
        label = TEXT_LABELS.get(name, name)
        if _CONTROL.search(value):
            raise InvalidInput(f"{label}含有不可见的控制字符，请删除后重试 ({name} holds control characters)")
        if name in required and not value.strip():
            raise InvalidInput(f"{label}不能为空 ({name} is blank)")


def _check_dates(kind: str, source: dict, deadline: date, today: date) -> None:
    """The source's dates agree with each other, with the 办结时限 and with today."""
    if kind == "instruction" and source.get("instructed_on"):
        on = date.fromisoformat(str(source["instructed_on"]))
        if on > today:
            raise InvalidInput(f"批示日期 {on} 晚于今天 (the instruction is dated in the future)")
        if on > deadline:
            raise InvalidInput(f"批示日期 {on} 晚于办结时限 {deadline} (the instruction is dated after the deadline)")
    if kind == "meeting_item":
        held = date.fromisoformat(str(source["meeting_date"]))
        if held > today:
            raise InvalidInput(f"会议日期 {held} 晚于今天 (the meeting is dated in the future)")
        due = source.get("feedback_due")
        if due and not held <= date.fromisoformat(str(due)) <= deadline:
            raise InvalidInput(f"会议确定的反馈时限 {due} 须在会议日期 {held} 与办结时限 {deadline} 之间 "
                               "(the meeting's feedback date must lie between the meeting and the deadline)")


def _check_plan(ctx: TenantContext, units: list[UnitPlan], group: str, deadline: date) -> list[dict]:
    planned = check_units(ctx, units)
    found = ctx.registry.group(group)
    if found is None or found.tenant != ctx.tenant:
        raise InvalidInput(f"督查组 {group} 不存在 (unknown supervision group)")
    if deadline < ctx.time.today():
        raise InvalidInput(f"办结时限 {deadline} 已过 (deadline is in the past)")
    return planned


def check_units(ctx: TenantContext, units: list[UnitPlan]) -> list[dict]:
    """One lead unit, no unit twice, every unit known and below this tenant (at any depth)."""
    leads = [u for u in units if u.role == "lead"]
    if len(leads) != 1:
        raise InvalidInput(f"承办单位须有且仅有一个主办单位 (exactly one lead unit; got {len(leads)})")
    seen: set[str] = set()
    for u in units:
        if u.unit in seen:
            raise InvalidInput(f"承办单位 {u.unit} 重复 (unit listed twice)")
        seen.add(u.unit)
        if u.unit not in ctx.registry:
            raise InvalidInput(f"承办单位 {u.unit} 不存在 (unknown unit)")
        if not ctx.registry.is_below(u.unit, ctx.tenant):
            raise InvalidInput(f"只能交办给本级下属单位，{u.unit} 不是 (unit {u.unit} is not below {ctx.tenant})")
    return [{"unit": u.unit, "role": u.role} for u in units]


def plan_group(ctx: TenantContext, group: str | None, leader: str | None) -> str:
    """第四条2: the item's 督查组 — the one named, else the group of the issuing leader's portfolio (the
    mayor's: the 督查室; a vice-mayor's: that vice-mayor's group)."""
    found = None if leader is None else ctx.registry.leader(leader)
    if leader is not None and found is None:
        raise InvalidInput(f"交办领导 {leader} 不存在 (unknown issuing leader)")
    if group is not None:
        return group
    if found is None:
        raise InvalidInput("须指明督查组或交办领导 (name the supervision group or the issuing leader)")
    return found.group


def authorize_group(ctx: TenantContext, group: str) -> None:
    """The policy layer decides whether the actor drafts and sends items of this group (a group member:
    only its own). A part split at a unit belongs to no group: nothing to decide."""
    if group:
        ctx.policy.authorize_group(ctx.actor, group)


# -- the assigner's side: 立项 → 交办 → 办结 → 归档 --------------------------------------------------
async def create_item(ctx: TenantContext, data: ItemCreate) -> Item:
    """Draft a supervision plan (立项 starts here)."""
    group = plan_group(ctx, data.group, data.issuing_leader)
    authorize_group(ctx, group)
    check_text({"title": data.title, "content": data.content, "requirements": data.requirements,
                "division": data.division})
    check_level(data.confidentiality)  # 第八条: no state secrets on this network
    item = Item(
        id=new_id(), title=data.title, source_kind=data.source_kind,
        source=_check_source(data.source_kind, data.source), content=data.content,
        requirements=data.requirements, division=data.division, group_code=group,
        issuing_leader=data.issuing_leader,
        deadline=data.deadline, units=_check_plan(ctx, data.units, group, data.deadline),
        confidentiality=data.confidentiality, retention=data.retention, progress_reports=data.progress_reports,
        state="draft",
        created_by=ctx.actor.ref,
    )
    _check_dates(item.source_kind, item.source, item.deadline, ctx.time.today())
    repo = ItemRepository(ctx.session, ctx.tenant)
    repo.add(item)
    repo.record(item_ref(ctx.tenant, item.id), "create", ctx.actor.ref, None, "draft")
    return item


async def update_item(ctx: TenantContext, item_id: str, data: ItemUpdate) -> Item:
    """Change a draft (or a rejected plan) before it goes for approval again."""
    repo = ItemRepository(ctx.session, ctx.tenant)
    item = await repo.get(item_id)
    _move(item, ("draft", "rejected"), item.state, "update")
    authorize_group(ctx, item.group_code)
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    if "confidentiality" in changes:
        check_level(changes["confidentiality"])  # 第八条: no state secrets on this network
    if {"group", "issuing_leader"} & changes.keys():  # a new leader brings their group, unless one is named
        item.issuing_leader = changes.get("issuing_leader", item.issuing_leader)
        changes["group"] = plan_group(ctx, changes.get("group"), item.issuing_leader)
        authorize_group(ctx, changes["group"])
    kind = changes.get("source_kind", item.source_kind)
    if "source" in changes or "source_kind" in changes:
        item.source = _check_source(kind, changes.get("source", item.source))
        item.source_kind = kind
    units = changes.get("units", [UnitPlan(**u) for u in item.units])
    if {"units", "group", "deadline"} & changes.keys():
        item.units = _check_plan(ctx, units, changes.get("group", item.group_code),
                                 changes.get("deadline", item.deadline))
    for name in ("title", "content", "requirements", "division", "deadline", "confidentiality", "retention",
                 "progress_reports"):
        if name in changes:
            setattr(item, name, changes[name])
    if "group" in changes:
        item.group_code = changes["group"]
    check_text({name: changes[name] for name in ("title", "content", "requirements", "division") if name in changes})
    _check_dates(item.source_kind, item.source, item.deadline, ctx.time.today())
    repo.record(item_ref(ctx.tenant, item.id), "update", ctx.actor.ref, item.state, item.state,
                note=", ".join(sorted(changes)))
    return item


async def _transition(ctx: TenantContext, item_id: str, allowed: tuple[str, ...], to: str, action: str,
                      note: str | None = None) -> tuple[ItemRepository, Item]:
    repo = ItemRepository(ctx.session, ctx.tenant)
    item = await repo.get(item_id)
    before = _move(item, allowed, to, action)
    repo.record(item_ref(ctx.tenant, item.id), action, ctx.actor.ref, before, to, note=note or None)
    return repo, item


async def submit(ctx: TenantContext, item_id: str) -> Item:
    """Send the plan to the 秘书长/办公室主任 for 审定."""
    authorize_group(ctx, (await ItemRepository(ctx.session, ctx.tenant).get(item_id)).group_code)
    return (await _transition(ctx, item_id, ("draft", "rejected"), "pending_approval", "submit"))[1]


async def approve(ctx: TenantContext, item_id: str, note: str = "") -> Item:
    """审定批准: the plan becomes an item and gets its serial number."""
    repo, item = await _transition(ctx, item_id, ("pending_approval",), "registered", "approve", note)
    year = ctx.time.today().year
    number = await CounterRepository(ctx.session, ctx.tenant).next(f"item_serial:{year}")
    item.serial, item.reject_reason = f"{year}-{number:04d}", None
    return item


async def reject(ctx: TenantContext, item_id: str, reason: str) -> Item:
    """Send the plan back to the 督查室 with a reason."""
    _, item = await _transition(ctx, item_id, ("pending_approval",), "rejected", "reject", reason)
    item.reject_reason = reason
    return item


async def withdraw(ctx: TenantContext, item_id: str, reason: str) -> Item:
    """Withdraw an item that has not been assigned yet."""
    allowed = ("draft", "rejected", "pending_approval", "registered")
    return (await _transition(ctx, item_id, allowed, "withdrawn", "withdraw", reason))[1]


async def assign(ctx: TenantContext, item_id: str) -> tuple[Item, list[Assignment]]:
    """交办: one assignment per planned unit, each with its deadline clocks, each sent down as an event."""
    authorize_group(ctx, (await ItemRepository(ctx.session, ctx.tenant).get(item_id)).group_code)
    repo, item = await _transition(ctx, item_id, ("registered",), "assigned", "assign")
    ref = item_ref(ctx.tenant, item.id)
    at = ctx.time.now()
    tenant = ctx.registry.get(ctx.tenant)
    specs = rules.clocks_for(
        source_kind=item.source_kind, source=item.source, assigned_on=deadlines.china_date(at),
        deadline=item.deadline, progress=item.progress_reports,
        accept_workdays=tenant.accept_workdays if tenant else 1, cal=ctx.calendar,
    )
    made = []
    for plan in item.units:
        a = Assignment(
            id=new_id(), item_ref=ref, item_id=item.id, assigner=ctx.tenant, unit=plan["unit"],
            role=plan["role"], serial=item.serial, title=item.title, content=item.content,
            requirements=item.requirements, source_kind=item.source_kind, deadline=item.deadline,
            state="issued", assigned_at=at, plan_units=item.units,
            group_code=item.group_code, issuing_leader=item.issuing_leader, confidentiality=item.confidentiality,
        )
        repo.add_assignment(a)
        await ctx.session.flush()
        clocks = deadlines.add_clocks(ClockRepository(ctx.session, ctx.tenant), a.id, specs)
        deadlines.schedule_reminders(clocks, deadlines.china_date(at), ctx.calendar, remind_before(ctx))
        repo.record(ref, "issue", ctx.actor.ref, None, "issued", note=a.unit, assignment_id=a.id)
        await outbox_add(ctx, "assignment.issued", a.unit, ref, AssignmentIssued(
            a.id, a.role, a.title, a.content, a.requirements, a.source_kind, a.deadline, a.serial,
            [ClockSet(c.id, c.kind, c.seq, c.rule, c.due, c.start) for c in clocks], item.units,
            group=item.group_code, leader=item.issuing_leader, confidentiality=item.confidentiality), at)
        made.append(a)
    await documents.issue_notices(ctx, item, made)  # 领导批办事项通知单 per unit: numbered now, rendered on download
    if item.source_kind == "suggestion_proposal":  # the units get the proposal's particulars (proposals/)
        from duban.proposals.service import on_assigned  # noqa: PLC0415 (proposals builds on this module)

        await on_assigned(ctx, item, made, at)
    await rollup.report(ctx.session, ctx.tenant, item, made, ctx.actor.ref, at)
    return item, made


async def complete(ctx: TenantContext, item_id: str, note: str = "") -> Item:
    """审核办结: every unit asked for completion; the item is done and the units are told."""
    if (await ItemRepository(ctx.session, ctx.tenant).get(item_id)).source_kind == "suggestion_proposal":
        from duban.proposals.service import check_closable  # noqa: PLC0415 (proposals builds on this module)

        await check_closable(ctx, item_id)  # a 建议提案 closes once its proposer is satisfied
    repo, item = await _transition(ctx, item_id, ("completion_review",), "completed", "complete", note)
    ref = item_ref(ctx.tenant, item.id)
    done = []
    for a in await repo.assignments_of(item.id):
        if a.state == "closed":
            continue
        before = _move(a, ("completion_requested",), "done", "complete")
        repo.record(ref, "complete", ctx.actor.ref, before, "done", assignment_id=a.id)
        await outbox_add(ctx, "assignment.completed", a.unit, ref, AssignmentCompleted(a.id))
        done.append(a)
    await rollup.report(ctx.session, ctx.tenant, item, done, ctx.actor.ref, ctx.time.now())
    return item


async def return_assignment(ctx: TenantContext, item_id: str, unit: str, reason: str) -> Item:
    """退回重办: send one unit's work back with a reason."""
    repo = ItemRepository(ctx.session, ctx.tenant)
    item = await repo.get(item_id)
    _move(item, ("in_progress", "completion_review"), item.state, "return")
    ref = item_ref(ctx.tenant, item.id)
    matches = [a for a in await repo.assignments_of(item.id) if a.unit == unit]
    if not matches:
        raise InvalidInput(f"{unit} 不是本事项的承办单位 (not a unit of this item)")
    a = matches[0]
    before = _move(a, ("accepted", "in_progress", "completion_requested"), "returned", "return")
    a.note = reason
    repo.record(ref, "return", ctx.actor.ref, before, "returned", note=reason, assignment_id=a.id)
    at = ctx.time.now()
    await deadlines.on_return(ClockRepository(ctx.session, ctx.tenant), a.id, at, a.deadline, ctx.calendar,
                              remind=remind_before(ctx))
    await outbox_add(ctx, "assignment.returned", a.unit, ref, AssignmentReturned(a.id, reason), at)
    await roll_up(repo, item, ctx.actor.ref)
    await rollup.report(ctx.session, ctx.tenant, item, [a], ctx.actor.ref, at)
    return item


async def outbox_add(ctx: TenantContext, kind: str, to: str, ref: str, payload: msgspec.Struct,
                     at: datetime | None = None) -> None:
    """Queue an event in the current transaction (``at``: when it happened, if the caller recorded it)."""
    await OutboxRepository(ctx.session, ctx.tenant).add(
        kind=kind, to_tenant=to, item_ref=ref, actor=ctx.actor.ref, payload=payload, occurred_at=at or ctx.time.now()
    )


async def roll_up(repo: ItemRepository, item: Item, actor: str) -> None:
    """Derive the item's state from its assignments (assigned → in_progress → completion_review)."""
    if item.state not in ("assigned", "in_progress", "completion_review"):
        return
    states = {a.state for a in await repo.assignments_of(item.id)}
    if states and states <= {"completion_requested", "done", "closed"}:
        target = "completion_review"
    elif states - {"issued"}:
        target = "in_progress"
    else:
        target = "assigned"
    if target != item.state:
        before, item.state = item.state, target
        repo.record(item_ref(repo.tenant, item.id), "roll_up", actor, before, target)


def tree_node_doc(n: TreeNode) -> dict:
    """One unit below the item's own, as the dossier records it."""
    return {"assignment_id": n.assignment_id, "parent_assignment_id": n.parent_assignment_id, "part": n.part_ref,
            "part_serial": n.part_serial, "part_title": n.part_title, "assigner": n.assigner, "unit": n.unit,
            "role": n.role, "state": n.state, "deadline": n.deadline.isoformat(), "clocks": n.clocks,
            "last_feedback": n.last_feedback, "reported_by": n.reported_by}


async def archive(ctx: TenantContext, item_id: str, store: ArchiveStore, fonds: str) -> Item:
    """归档: seal item, history, assignments and feedback into a dossier in the S3 archive."""
    repo = ItemRepository(ctx.session, ctx.tenant)
    item = await repo.get(item_id)
    _move(item, ("completed",), "completed", "archive")
    ref = item_ref(ctx.tenant, item.id)
    assignments = await repo.assignments_of(item.id)
    feedback = await repo.feedback_of([a.id for a in assignments])
    history = await repo.history(ref)
    now, day = utcnow(), today()
    year, number = (int(p) for p in (item.serial or f"{day.year}-0").split("-"))
    tenant = ctx.registry.get(ctx.tenant)
    meta = DossierMeta(
        fonds=fonds, year=year, retention=item.retention, org=ctx.tenant, piece=number, title=item.title,
        responsible=tenant.name if tenant else ctx.tenant, date=day, doc_number=item.serial,
        confidentiality=item.confidentiality,
    )
    item_doc = msgspec.to_builtins(ItemRead.of(item, ctx.tenant, day))
    item_doc["state"] = "archived"
    ids = [a.id for a in assignments]
    clocks = await ClockRepository(ctx.session, ctx.tenant).of(ids)
    # Attachments are files of the dossier, streamed in from the tenant's bucket with their digests checked.
    # The units below the item's own (分解) are in the dossier as the tree reported them, with the attachments
    # of their last reports.
    nodes = await TreeRepository(ctx.session, ctx.tenant).nodes(ref)
    reported = [n.last_feedback["feedback_id"] for n in nodes if n.last_feedback]
    files, listing = await attachments.dossier_files(ctx.session, ctx.tenant, [f.id for f in feedback] + reported,
                                                     store)
    by_feedback = await attachments.of_feedback(ctx.session, ctx.tenant, [f.id for f in feedback])
    doc_files, doc_made, doc_listing = await documents.dossier_files(ctx.session, ctx.tenant, item.id, store)
    dossier = build_dossier(meta, {
        "item.json": item_doc,
        "assignments.json": [
            msgspec.to_builtins(AssignmentRead.of(a, day, [c for c in clocks if c.assignment_id == a.id]))
            for a in assignments],
        "feedback.json": [msgspec.to_builtins(FeedbackRead.of(f, by_feedback)) for f in feedback],
        "attachments.json": listing,
        "tree.json": [tree_node_doc(n) for n in nodes],
        "co_views.json": [msgspec.to_builtins(v) for v in await counits.views_of(ctx, ref)],
        "supervisions.json": [msgspec.to_builtins(SupervisionRead.of(s)) for s in
                              await SupervisionRepository(ctx.session, ctx.tenant).of_item(ref)],
        "extensions.json": [msgspec.to_builtins(ExtensionRead.of(e)) for e in
                            await ExtensionRepository(ctx.session, ctx.tenant).of_assignments(ids)],
        "history.json": [msgspec.to_builtins(HistoryRead.of(h)) for h in history],
        "documents.json": doc_listing, **doc_made,
    }, stored={**files, **doc_files})
    location = await store.put_dossier(ctx.tenant, dossier, year=year, retention=item.retention)
    item.state = "archived"
    item.archive = {
        "bucket": location.bucket, "prefix": location.prefix, "archival_code": location.archival_code,
        "manifest_sha256": location.manifest_sha256, "archived_at": now.isoformat(),
    }
    repo.record(ref, "archive", ctx.actor.ref, "completed", "archived", note=location.archival_code)
    return item


# -- the unit's side: 签收 → 反馈 → 办结申请 ------------------------------------------------------------
async def _received(ctx: TenantContext, assignment_id: str) -> tuple[ItemRepository, Assignment]:
    repo = ItemRepository(ctx.session, ctx.tenant)
    a = await repo.assignment(assignment_id)
    if a.unit != ctx.tenant:
        raise Conflict("这是本单位交办出去的任务，不是本单位承办的任务 (not an assignment received here)")
    return repo, a


async def accept(ctx: TenantContext, assignment_id: str, leader_in_charge: str | None = None) -> Assignment:
    """签收: the unit confirms receipt, naming the leader in charge of it (分管领导, 第十条) if it will."""
    repo, a = await _received(ctx, assignment_id)
    if leader_in_charge is not None:
        leader = await AccountRepository(ctx.session, ctx.tenant).by_username(leader_in_charge)
        if leader is None or "leader_in_charge" not in {r.role for r in leader.roles}:
            raise InvalidInput(f"{leader_in_charge} 不是本单位的分管领导 (not a leader in charge of this unit)")
        a.leader_in_charge = leader_in_charge
    before = _move(a, ("issued",), "accepted", "accept")
    a.accepted_at, a.accepted_by = ctx.time.now(), ctx.actor.ref
    repo.record(a.item_ref, "accept", ctx.actor.ref, before, "accepted", assignment_id=a.id)
    await deadlines.meet(ClockRepository(ctx.session, ctx.tenant), a.id, "accept", a.accepted_at, ctx.calendar)
    await outbox_add(ctx, "assignment.accepted", a.assigner, a.item_ref,
                     AssignmentAccepted(a.id, a.accepted_at, a.accepted_by), a.accepted_at)
    return a


async def add_feedback(ctx: TenantContext, assignment_id: str, data: FeedbackCreate) -> Feedback:
    """反馈: a progress or result report, sent up to the assigner."""
    check_text({"text": data.text})
    repo, a = await _received(ctx, assignment_id)
    before = _move(a, ("accepted", "in_progress", "returned"), "in_progress", "feedback")
    f = Feedback(id=new_id(), assignment_id=a.id, kind=data.kind, text=data.text, author=ctx.actor.ref,
                 submitted_at=ctx.time.now())
    repo.add_feedback(f)
    refs = await attachments.claim(ctx.session, ctx.tenant, data.attachments, f.id)
    repo.record(a.item_ref, "feedback", ctx.actor.ref, before, "in_progress", note=data.kind, assignment_id=a.id)
    await deadlines.on_feedback(ClockRepository(ctx.session, ctx.tenant), a.id, f.kind, f.submitted_at, ctx.calendar)
    views = await counits.for_report(ctx, a) if f.kind == "result" else []
    await outbox_add(ctx, "feedback.submitted", a.assigner, a.item_ref,
                     FeedbackSubmitted(a.id, f.id, f.kind, f.text, f.author, f.submitted_at, refs, views),
                     f.submitted_at)
    return f


async def request_completion(ctx: TenantContext, assignment_id: str, note: str = "") -> Assignment:
    """办结申请: the unit's 第一责任人 signs the work off and asks the assigner to close it."""
    repo, a = await _received(ctx, assignment_id)
    if not await repo.has_feedback(a.id):
        raise Conflict("尚未反馈办理情况，不能申请办结 (send feedback before asking for completion)")
    unfinished = [p for p in await TreeRepository(ctx.session, ctx.tenant).parts_of([a.id])
                  if p.state not in ("completed", "archived", "closed")]
    if unfinished:
        names = "、".join(p.serial or p.title for p in unfinished)
        raise Conflict(f"分解的子任务尚未全部办结或关闭，不能申请办结：{names} "
                       "(parts split from this assignment are still open)")
    before = _move(a, ("in_progress",), "completion_requested", "request_completion")
    a.note = note or None
    repo.record(a.item_ref, "request_completion", ctx.actor.ref, before, "completion_requested",
                note=note or None, assignment_id=a.id)
    at = ctx.time.now()
    await deadlines.on_completion_request(ClockRepository(ctx.session, ctx.tenant), a.id, at, ctx.calendar)
    await outbox_add(ctx, "assignment.completion_requested", a.assigner, a.item_ref,
                     CompletionRequested(a.id, note), at)
    return a
