"""SQL of 第八条: the 批示件 register, who has acted on an item, what an attachment belongs to, and the
visibility clauses the lists add (need-to-know as a WHERE condition, so a page never shows, counts or
pages over a protected row its reader may not see)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, String, and_, cast, exists, false, literal, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from duban.attachments.models import Attachment
from duban.confidentiality.levels import PROTECTED
from duban.confidentiality.models import InstructionRecord
from duban.errors import NotFound
from duban.items.models import Assignment, Feedback, HistoryEntry, Item
from duban.lists.cursor import Keyset, Page, PageRequest
from duban.tree.models import TreeNode

# The register's order, newest first, served by ix_instruction_register_registered_at_id.
REGISTER_ORDER = Keyset("instructions", (InstructionRecord.registered_at, InstructionRecord.id), descending=True,
                        types=(datetime, str))


class ConfidentialityRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    # -- the 批示件 register ---------------------------------------------------------------------
    def add(self, record: InstructionRecord) -> None:
        self.session.add(record)

    async def get(self, record_id: str) -> InstructionRecord:
        found = await self.session.get(InstructionRecord, record_id)
        if found is None:
            raise NotFound("批示件登记不存在 (no such instruction record)")
        return found

    async def by_number(self, year: int, number: str) -> InstructionRecord | None:
        return (await self.session.scalars(select(InstructionRecord).where(
            InstructionRecord.year == year, InstructionRecord.number == number).limit(1))).first()

    async def of_item(self, item_id: str) -> InstructionRecord | None:
        return (await self.session.scalars(select(InstructionRecord).where(
            InstructionRecord.item_id == item_id).limit(1))).first()

    async def register(self, page: PageRequest, year: int | None = None, level: str | None = None,
                       leader: str | None = None) -> Page[InstructionRecord]:
        """The register, newest first, one page."""
        query = select(InstructionRecord)
        for column, value in ((InstructionRecord.year, year), (InstructionRecord.level, level),
                              (InstructionRecord.leader, leader)):
            if value is not None:
                query = query.where(column == value)
        return REGISTER_ORDER.page(await self.session.scalars(REGISTER_ORDER.select(query, page)), page)

    # -- what a request's object is ----------------------------------------------------------------
    async def item(self, item_id: str) -> Item | None:
        return await self.session.get(Item, item_id)

    async def assignment(self, assignment_id: str) -> Assignment | None:
        return await self.session.get(Assignment, assignment_id)

    async def attachment(self, attachment_id: str) -> Attachment | None:
        return await self.session.get(Attachment, attachment_id)

    async def feedback(self, feedback_id: str) -> Feedback | None:
        return await self.session.get(Feedback, feedback_id)

    async def tree_item_of_feedback(self, feedback_id: str) -> str | None:
        """The item ref here whose tree carries a report from below with this feedback id (its attachments
        were copied in under that id), if any."""
        return (await self.session.scalars(select(TreeNode.item_ref).where(
            TreeNode.last_feedback.is_not(None),
            cast(TreeNode.last_feedback, String).contains(feedback_id, autoescape=True)).limit(1))).first()

    # -- the work named to a 分管领导 (work:read_named) --------------------------------------------------------
    async def named_item(self, item_id: str, username: str) -> bool:
        """Is this item of the tenant part of the work named to ``username`` (``named_items``)?"""
        return (await self.session.scalars(select(Item.id).where(
            Item.id == item_id, named_items(self.tenant, username)).limit(1))).first() is not None

    async def named_assignment(self, assignment_id: str, username: str) -> bool:
        """Is this assignment held here part of the work named to ``username`` (``named_assignments``)?"""
        return (await self.session.scalars(select(Assignment.id).where(
            Assignment.id == assignment_id, named_assignments(self.tenant, username)).limit(1))).first() is not None

    # -- need-to-know ------------------------------------------------------------------------------
    async def has_acted(self, item_ref: str, actor_ref: str, assignment_id: str | None = None) -> bool:
        """Has this person acted on the item (or on one assignment of it): any entry of its history?"""
        query = select(HistoryEntry.id).where(HistoryEntry.item_ref == item_ref, HistoryEntry.actor == actor_ref)
        if assignment_id is not None:
            query = query.where(HistoryEntry.assignment_id == assignment_id)
        return (await self.session.scalars(query.limit(1))).first() is not None


# -- visibility clauses (the lists add them; access.py decides the same for one row) --------------------
def item_visibility(tenant: str | ColumnElement[str], actor_ref: str | ColumnElement[str], *, sees_all: bool,
                    decides_plans: bool, named: ColumnElement[bool] | None = None) -> ColumnElement[bool]:
    """Which of this tenant's items the actor may see: every item not protected; a protected one only if
    the actor created it, acted on it (its history), is the 分管领导 of the assignment it was split from
    (``named``: ``named_items`` of the actor), or — deciding plans — it waits for that decision.
    ``sees_all`` (a role the policy names, ``protected:see_all``): every item. The tenant and the actor
    are values, or parameters of a prepared statement (``tenant`` then names the items' ref prefix,
    ``<tenant>/``)."""
    if sees_all:
        return true()
    prefix = literal(f"{tenant}/", String) if isinstance(tenant, str) else tenant
    on_it = or_(
        Item.confidentiality.not_in([literal(p) for p in PROTECTED]),
        Item.created_by == actor_ref,
        exists().where(HistoryEntry.item_ref == prefix + Item.id, HistoryEntry.actor == actor_ref),
        *([] if named is None else [named]),
    )
    if decides_plans:
        on_it = or_(on_it, Item.state == literal("pending_approval"))
    return on_it


def queue_visibility(actor_ref: str | ColumnElement[str], username: str | ColumnElement[str], *, sees_all: bool,
                     signs_for: bool) -> ColumnElement[bool]:
    """Which assignments this tenant received the actor may see: every one not protected; a protected one
    only if the actor signed for it, is its 分管领导, acted on it (its history), or — signing for the unit's
    work — it still waits for 签收. ``sees_all``: every one."""
    if sees_all:
        return true()
    return or_(
        Assignment.confidentiality.not_in([literal(p) for p in PROTECTED]),
        Assignment.accepted_by == actor_ref,
        Assignment.leader_in_charge == username,
        and_(Assignment.state == literal("issued"), true() if signs_for else false()),
        exists().where(HistoryEntry.item_ref == Assignment.item_ref, HistoryEntry.assignment_id == Assignment.id,
                       HistoryEntry.actor == actor_ref),
    )



# -- the work named to a 分管领导 (policies/roles.csv: work:read_named; access.py decides who reads only that) ------
def named_items(tenant: str | ColumnElement[str], username: str | ColumnElement[str]) -> ColumnElement[bool]:
    """The tenant's items that are part of the work named to ``username`` at 签收: the parts (分解) of an
    assignment the tenant received and named them 分管领导 of. The tenant and the username are values, or
    parameters of a prepared statement."""
    named = aliased(Assignment, name="named_assignment")
    return exists().where(named.id == Item.parent_assignment_id, named.unit == tenant,
                          named.leader_in_charge == username)


def named_assignments(tenant: str | ColumnElement[str], username: str | ColumnElement[str]) -> ColumnElement[bool]:
    """The assignments held here that are part of the work named to ``username``: those the tenant received
    and named them 分管领导 of at 签收, and those it issued for a part of one (``named_items``)."""
    named = aliased(Assignment, name="named_assignment")
    return or_(
        and_(Assignment.unit == tenant, Assignment.leader_in_charge == username),
        and_(Assignment.assigner == tenant, exists().where(
            Item.id == Assignment.item_id, named.id == Item.parent_assignment_id, named.unit == tenant,
            named.leader_in_charge == username)),
    )
