"""Need-to-know (第八条): who may see a protected item, assignment or attachment, and the guard that
answers everyone else 404 — the same answer as for an object that does not exist — and records every
read of a protected object in the tenant's audit log.

Who is *on* a protected item (``may_see``):

- at the tenant that owns the item (the assigner): the person who created it; anyone who acted on it
  (any entry of its history: the approver who approved it, the inspector who assigned it …); for a part
  (分解) of an assignment received, its 分管领导; and, while it waits for 审定, those who decide plans
  (``item:approve``);
- at a unit (its copy, an assignment received): the handler who signed for it (``accepted_by``), the
  分管领导 named at 签收, anyone who acted on it (its history: feedback, 办结申请 …), and, while it still
  waits for 签收, those who sign for the unit's work (``assignment:accept``) — somebody has to;
- everywhere: the roles the policy names with ``protected:see_all`` (policies/roles.csv: the tenant's
  supervision division ``supervisor``, 第十一条, and its 第一责任人 ``chief``, 第十条).

Everything else about the routes is unchanged: the policy layer still decides *what* a role may do.

Who sees *which work* (第十条): a reader whose roles grant ``work:read_named`` but not ``work:read``
(policies/roles.csv: the 分管领导 ``leader_in_charge``) sees only the work named to them at 签收 — the
assignments received here that name them, the parts split from those and the assignments issued for the
parts, and whatever hangs off these (feedback, history, clocks, reminders, attachments …). The same SQL
(repository.py ``named_items`` / ``named_assignments``) is the lists' WHERE condition (``reader``) and
the single reads' check (``named_object``, in the guard below): anything else answers 404 and is absent
from every list, search, cursor and export. Every other role reads as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar.connection import ASGIConnection
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from duban.audit import service as audit
from duban.auth import READ_SESSION, READS
from duban.confidentiality import repository as clauses
from duban.confidentiality.levels import is_protected
from duban.confidentiality.repository import ConfidentialityRepository
from duban.errors import NotFound
from duban.items.models import Assignment, Item
from duban.policy.policy import Actor, Policy

if TYPE_CHECKING:
    from duban.platform import Platform

PROTECTED_READ = "protected_read"  # the audit action of a read of a protected object
NEED_TO_KNOW = "need_to_know"  # the audit action of a refusal (answered 404)
NOT_FOUND = {"item_id": "督查事项不存在 (no such item)", "assignment_id": "承办任务不存在 (no such assignment)",
             "attachment_id": "附件不存在 (no such attachment)"}  # the very messages of a missing object


@dataclass(frozen=True)
class Viewer:
    """Who is looking, where (a TenantContext has these too)."""

    tenant: str
    session: AsyncSession
    actor: Actor
    policy: Policy


@dataclass(frozen=True)
class Protected:
    """A protected object a request touches: the item it belongs to, and what exactly."""

    item_ref: str
    title: str
    level: str
    what: str  # "item", "assignment <id>", "attachment <id> 「name」"
    allowed: bool


def sees_all(policy: Policy, actor: Actor) -> bool:
    """Does a role of the actor see every protected item of its tenant (``protected:see_all``)?"""
    return policy.can(actor, "protected", "see_all")


def named_only(policy: Policy, actor: Actor) -> bool:
    """Does the actor read only the work named to them at 签收 (``work:read_named``, and no role of theirs
    grants ``work:read``)?"""
    return policy.can(actor, "work", "read_named") and not policy.can(actor, "work", "read")


async def may_see_item(v: Viewer, item: Item) -> bool:
    """Is the actor on this item of its tenant (or is the item not protected)?"""
    if not is_protected(item.confidentiality) or sees_all(v.policy, v.actor):
        return True
    ref = v.actor.ref
    if item.created_by == ref:
        return True
    if item.state == "pending_approval" and v.policy.can(v.actor, "item", "approve"):
        return True
    repo = ConfidentialityRepository(v.session, v.tenant)
    return await repo.has_acted(f"{v.tenant}/{item.id}", ref) or await repo.named_item(item.id, v.actor.username)


async def may_see_assignment(v: Viewer, a: Assignment) -> bool:
    """Is the actor on this assignment: at the assigner, on its item; at the unit, on the unit's copy."""
    repo = ConfidentialityRepository(v.session, v.tenant)
    if a.unit != v.tenant and a.item_id is not None:  # issued from here: the item decides
        item = await repo.item(a.item_id)
        return item is None or await may_see_item(v, item)
    if not is_protected(a.confidentiality) or sees_all(v.policy, v.actor):
        return True
    ref = v.actor.ref
    if ref == a.accepted_by or (a.leader_in_charge is not None and a.leader_in_charge == v.actor.username):
        return True
    if a.state == "issued" and v.policy.can(v.actor, "assignment", "accept"):
        return True
    return await repo.has_acted(a.item_ref, ref, a.id)


async def may_see(v: Viewer | Any, obj: Item | Assignment) -> bool:
    """Is the actor on this item or assignment (or is it not protected)? ``v``: a Viewer or a TenantContext."""
    return await (may_see_item(v, obj) if isinstance(obj, Item) else may_see_assignment(v, obj))


# -- the lists' WHERE conditions (the lead wires them into lists/) -----------------------------------------------
@dataclass(frozen=True)
class Reader:
    """Who reads a list of the tenant's items or its queue, for need-to-know (see ``reader``)."""

    tenant: str
    actor_ref: str
    username: str
    decides_plans: bool  # sees the protected items waiting for 审定
    signs_for: bool  # sees the protected assignments waiting for 签收
    sees_protected: bool = False  # a role sees every protected item (need-to-know hides nothing)
    named: bool = False  # sees only the work named to them at 签收 (``named_only``)


def reader(v: Viewer | Any) -> Reader | None:
    """The reader of a list, or None when nothing is hidden from them: a role of the actor sees every
    protected item and they read all of the tenant's work (the lists' prepared statements take these
    values as parameters: items/repository.py)."""
    protected, named = sees_all(v.policy, v.actor), named_only(v.policy, v.actor)
    if protected and not named:
        return None
    return Reader(v.tenant, v.actor.ref, v.actor.username, v.policy.can(v.actor, "item", "approve"),
                  v.policy.can(v.actor, "assignment", "accept"), protected, named)


def named_to(v: Viewer | Any) -> str | None:
    """The username whose named work is all a list may show this reader (``named_only``), else None."""
    return v.actor.username if named_only(v.policy, v.actor) else None


def item_clause(v: Viewer | Any) -> ColumnElement[bool]:
    """The items of ``GET /api/items`` (and the export) the actor may see."""
    return clauses.item_visibility(v.tenant, v.actor.ref, sees_all=sees_all(v.policy, v.actor),
                                   decides_plans=v.policy.can(v.actor, "item", "approve"),
                                   named=clauses.named_items(v.tenant, v.actor.username))


def queue_clause(v: Viewer | Any) -> ColumnElement[bool]:
    """The assignments of ``GET /api/assignments`` (this tenant's queue) the actor may see."""
    return clauses.queue_visibility(v.actor.ref, v.actor.username, sees_all=sees_all(v.policy, v.actor),
                                    signs_for=v.policy.can(v.actor, "assignment", "accept"))


# -- one request's object ----------------------------------------------------------------------------------------
async def _of_item(v: Viewer, item: Item | None, what: str) -> Protected | None:
    if item is None or not is_protected(item.confidentiality):
        return None
    return Protected(f"{v.tenant}/{item.id}", item.title, item.confidentiality, what, await may_see_item(v, item))


async def _of_assignment(v: Viewer, a: Assignment | None, what: str) -> Protected | None:
    if a is None:
        return None
    repo = ConfidentialityRepository(v.session, v.tenant)
    if a.unit != v.tenant and a.item_id is not None:
        return await _of_item(v, await repo.item(a.item_id), what)
    if not is_protected(a.confidentiality):
        return None
    return Protected(a.item_ref, a.title, a.confidentiality, what, await may_see_assignment(v, a))


async def protected_attachment(v: Viewer, attachment_id: str) -> Protected | None:
    """The protected item an attachment belongs to (through its feedback, or a report from the tree below),
    or None (not protected, an upload not yet sent, or no such attachment)."""
    repo = ConfidentialityRepository(v.session, v.tenant)
    a = await repo.attachment(attachment_id)
    if a is None or a.feedback_id is None:
        return None
    what = f"attachment {a.id} 「{a.name}」"
    feedback = await repo.feedback(a.feedback_id)
    if feedback is not None:
        return await _of_assignment(v, await repo.assignment(feedback.assignment_id), what)
    ref = await repo.tree_item_of_feedback(a.feedback_id)
    if ref is not None and ref.startswith(f"{v.tenant}/"):
        return await _of_item(v, await repo.item(ref.partition("/")[2]), what)
    if ref is not None:  # the tree of an assignment received here (a part split below it)
        for copy in await _received(v, ref):
            found = await _of_assignment(v, copy, what)
            if found is not None:
                return found
    return None


async def _received(v: Viewer, item_ref: str) -> list[Assignment]:
    from duban.items.repository import ItemRepository  # noqa: PLC0415

    return [a for a in await ItemRepository(v.session, v.tenant).assignments_for_ref(item_ref) if a.unit == v.tenant]


async def protected_object(v: Viewer, params: dict[str, Any]) -> tuple[str, Protected] | None:
    """The first protected object the path names (item, then assignment, then attachment), if any."""
    repo = ConfidentialityRepository(v.session, v.tenant)
    lookups: dict[str, Callable[[str], Awaitable[Protected | None]]] = {
        "item_id": lambda i: _item_by_id(v, repo, i),
        "assignment_id": lambda i: _assignment_by_id(v, repo, i),
        "attachment_id": lambda i: protected_attachment(v, i),
    }
    for name, lookup in lookups.items():
        value = params.get(name)
        if isinstance(value, str) and value:
            found = await lookup(value)
            if found is not None:
                return name, found
    return None


async def _item_by_id(v: Viewer, repo: ConfidentialityRepository, item_id: str) -> Protected | None:
    return await _of_item(v, await repo.item(item_id), "item")


async def _assignment_by_id(v: Viewer, repo: ConfidentialityRepository, assignment_id: str) -> Protected | None:
    return await _of_assignment(v, await repo.assignment(assignment_id), f"assignment {assignment_id}")


# -- the work named to the reader: one request's object ------------------------------------------------------------
async def named_object(v: Viewer, params: dict[str, Any]) -> str | None:
    """For a reader of the work named to them (``named_only``): the path parameter naming an object
    outside that work (item, assignment or attachment of this tenant), or None. A missing object is outside
    too: a route the reader's roles may not call then answers 404 alike for another's work and for nothing
    (not 404 for one and 403 for the other)."""
    repo = ConfidentialityRepository(v.session, v.tenant)
    name = v.actor.username
    for param in NOT_FOUND:
        value = params.get(param)
        if not isinstance(value, str) or not value:
            continue
        if param == "item_id":
            inside = await repo.named_item(value, name)
        elif param == "assignment_id":
            inside = await repo.named_assignment(value, name)
        else:
            inside = await _named_attachment(repo, value, name)
        if not inside:
            return param
    return None


async def _named_attachment(repo: ConfidentialityRepository, attachment_id: str, username: str) -> bool:
    """Is the attachment part of the work named to ``username`` (through its feedback's assignment, or the
    item or received assignment whose tree carries the report from below)? An upload not yet sent belongs
    to no work: outside."""
    a = await repo.attachment(attachment_id)
    if a is None or a.feedback_id is None:
        return False
    feedback = await repo.feedback(a.feedback_id)
    if feedback is not None:
        return await repo.named_assignment(feedback.assignment_id, username)
    ref = await repo.tree_item_of_feedback(a.feedback_id)
    if ref is None:
        return False
    if ref.startswith(f"{repo.tenant}/"):
        return await repo.named_item(ref.partition("/")[2], username)
    from duban.items.repository import ItemRepository  # noqa: PLC0415

    received = [c for c in await ItemRepository(repo.session, repo.tenant).assignments_for_ref(ref)
                if c.unit == repo.tenant]
    return any([await repo.named_assignment(c.id, username) for c in received])


# -- the guard on every route of an item, assignment or attachment -------------------------------------------------
async def need_to_know(connection: ASGIConnection, _handler: object) -> None:
    """Litestar guard (app.py): a protected object the caller is not on answers 404, as a missing one does
    (the refusal is audited as ``need_to_know``); a read of one the caller is on is audited as
    ``protected_read`` (who, which object, which item, its level). Routes without such an object, and
    objects not protected, pass untouched. For a reader of the work named to them (``named_only``) every
    object outside that work answers 404 the same way, protected or not."""
    params = connection.path_params
    if not any(name in params for name in NOT_FOUND):
        return
    actor = connection.scope.get("user")
    if not isinstance(actor, Actor):
        return
    platform: Platform = connection.app.state.platform
    reading = connection.scope["method"] in READS
    if named_only(platform.policy, actor):
        await _named_only(connection, platform, actor, params)
    if not reading and sees_all(platform.policy, actor):
        return  # nothing to refuse and nothing to record
    found = await _look(connection, platform, actor, protected_object, params)
    if found is None:
        return
    name, p = found
    target = f"{connection.scope['method']} {connection.url.path}"
    detail = f"{p.what} of {p.item_ref} 「{p.title}」 level {p.level}"
    if not p.allowed:
        async with platform.db.transaction(actor.tenant) as writing:
            await audit.record(writing, actor.tenant, actor.ref, NEED_TO_KNOW, target, platform.time.now(),
                               f"not on the protected item: {detail}")
        raise NotFound(NOT_FOUND[name])
    if reading:
        async with platform.db.transaction(actor.tenant) as writing:
            await audit.record(writing, actor.tenant, actor.ref, PROTECTED_READ, target, platform.time.now(), detail)


async def _look(connection: ASGIConnection, platform: Platform, actor: Actor,
                lookup: Callable[[Viewer, dict[str, Any]], Awaitable[Any]], params: dict[str, Any]) -> Any:
    """``lookup(viewer, params)`` in the read request's snapshot (auth.py), or in a snapshot of its own."""
    session = connection.scope.get(READ_SESSION)
    if session is not None:
        return await lookup(Viewer(actor.tenant, session, actor, platform.policy), params)
    async with platform.db.transaction(actor.tenant, snapshot=True) as own:
        return await lookup(Viewer(actor.tenant, own, actor, platform.policy), params)


async def _named_only(connection: ASGIConnection, platform: Platform, actor: Actor, params: dict[str, Any]) -> None:
    """The guard's part for a reader of the work named to them: 404 (audited) for an object outside it."""
    outside = await _look(connection, platform, actor, named_object, params)
    if outside is None:
        return
    target = f"{connection.scope['method']} {connection.url.path}"
    async with platform.db.transaction(actor.tenant) as writing:
        await audit.record(writing, actor.tenant, actor.ref, NEED_TO_KNOW, target, platform.time.now(),
                           f"not named on this work at 签收: {outside} {params[outside]}")
    raise NotFound(NOT_FOUND[outside])
