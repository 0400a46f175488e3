"""Roll-up: when the units of a part change, the tenant that split it tells the level above; every level
passes what comes from below on up, until the item's origin. Nobody reads another tenant's tables.

``report`` is called in the transaction of the change (items/service.py, items/events.py), so the
state change and its roll-up event commit together."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from duban.attachments.repository import AttachmentRepository
from duban.attachments.service import ref_of
from duban.deadlines.repository import ClockRepository
from duban.events.envelope import NodeClock, NodeFeedback, TreeNodeReported
from duban.events.repository import OutboxRepository
from duban.items.models import Assignment, Feedback, Item
from duban.items.repository import ItemRepository


async def upward(session: AsyncSession, tenant: str, item: Item) -> Assignment | None:
    """The assignment this tenant received that ``item`` was split from (None: the item is an origin)."""
    if item.parent_assignment_id is None:
        return None
    parent = await ItemRepository(session, tenant).find_assignment(item.parent_assignment_id)
    return parent if parent is not None and parent.unit == tenant else None


def node_feedback(f: Feedback | None, attachments: list[dict] | None = None) -> NodeFeedback | None:
    if f is None:
        return None
    return NodeFeedback(f.id, f.kind, f.text, f.author, f.submitted_at, attachments or [])


async def report(session: AsyncSession, tenant: str, item: Item, assignments: list[Assignment], actor: str,
                 at: datetime) -> None:
    """Send the current state of these assignments of part ``item`` to the level above (nothing if the
    item is not a part)."""
    parent = await upward(session, tenant, item)
    if parent is None or not assignments:
        return
    ids = [a.id for a in assignments]
    clocks = await ClockRepository(session, tenant).of(ids)
    items = ItemRepository(session, tenant)
    last: dict[str, Feedback] = {}
    for f in sorted(await items.feedback_of(ids), key=lambda f: f.submitted_at):
        last[f.assignment_id] = f
    outbox = OutboxRepository(session, tenant)
    for a in assignments:
        node = TreeNodeReported(
            assignment_id=a.id, parent_assignment_id=parent.id, part_ref=f"{tenant}/{item.id}",
            part_serial=item.serial, part_title=item.title, assigner=a.assigner, unit=a.unit, role=a.role,
            state=a.state, deadline=a.deadline,
            clocks=[NodeClock(c.kind, c.seq, c.due, c.state, c.on_time) for c in clocks if c.assignment_id == a.id],
            last_feedback=node_feedback(last.get(a.id), await feedback_attachments(session, tenant, last.get(a.id))),
            changed_at=at,
        )
        await outbox.add(kind="tree.node", to_tenant=parent.assigner, item_ref=parent.item_ref, actor=actor,
                         payload=node, occurred_at=at)


async def pass_on(session: AsyncSession, tenant: str, item: Item, node: TreeNodeReported, actor: str) -> None:
    """A node reported from below about ``item`` (this tenant's part): send it on up, if there is an up."""
    parent = await upward(session, tenant, item)
    if parent is not None:
        await OutboxRepository(session, tenant).add(kind="tree.node", to_tenant=parent.assigner,
                                                    item_ref=parent.item_ref, actor=actor, payload=node,
                                                    occurred_at=node.changed_at)


async def feedback_attachments(session: AsyncSession, tenant: str, f: Feedback | None) -> list[dict]:
    """The references of a feedback's attachments, as this tenant holds them."""
    if f is None:
        return []
    return [msgspec.to_builtins(ref_of(a)) for a in await AttachmentRepository(session, tenant).of_feedback([f.id])]
