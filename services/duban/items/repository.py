"""SQL for items, assignments, feedback and history of one tenant."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.deadlines.repository import light_condition
from duban.deadlines.service import DONE_STATES
from duban.errors import NotFound
from duban.items.models import Assignment, Feedback, HistoryEntry, Item
from duban.lists.cursor import Keyset, Page, PageRequest
from duban.lists.filters import Filters, LightFilter
from duban.lists.search import matching

__all__ = ["ITEMS_ORDER", "QUEUE_ORDER", "ItemRepository", "LightFilter"]

# The lists' orders (lists/cursor.py), each served by an index of the same columns.
ITEMS_ORDER = Keyset("items", (Item.created_at, Item.id), descending=True, types=(datetime, str))
QUEUE_ORDER = Keyset("queue", (Assignment.deadline, Assignment.id), descending=False, types=(date, str))


class ItemRepository:
    def __init__(self, session: AsyncSession, tenant: str) -> None:
        self.session, self.tenant = session, tenant

    # -- items ---------------------------------------------------------------------------------
    def add(self, item: Item) -> None:
        self.session.add(item)

    async def get(self, item_id: str) -> Item:
        """The item, or NotFound (also for another tenant's item: it isn't in this storage)."""
        item = await self.session.get(Item, item_id)
        if item is None:
            raise NotFound("督查事项不存在 (no such item)")
        return item

    async def list(self, filters: Filters = Filters(), page: PageRequest = PageRequest()) -> Page[Item]:
        """Items, newest first, one page; ``filters.light`` keeps those whose worst unit shows that colour."""
        f, query = filters, select(Item)
        if f.unit is not None:
            query = query.where(exists().where(Assignment.item_id == Item.id, Assignment.unit == f.unit))
        query = await self._common(query, Item, f)
        if f.light is not None:
            colour, today, warn_until = f.light

            def units(colour: str) -> object:
                return exists().where(Assignment.item_id == Item.id, Assignment.state.not_in(DONE_STATES),
                                      light_condition(Assignment.id, colour, today, warn_until))

            if colour == "red":
                query = query.where(units("red"))
            elif colour == "yellow":
                query = query.where(~units("red"), units("yellow"))
            else:
                query = query.where(~units("red"), ~units("yellow"), units("green"))
        return ITEMS_ORDER.page(await self.session.scalars(ITEMS_ORDER.select(query, page)), page)

    async def _common(self, query: Select, model: type[Item] | type[Assignment], f: Filters) -> Select:
        """The filters items and assignments share: state, source, group, leader, due dates, words."""
        for column, value in ((model.state, f.state), (model.source_kind, f.source), (model.group_code, f.group),
                              (model.issuing_leader, f.leader)):
            if value is not None:
                query = query.where(column == value)
        if f.due_from is not None:
            query = query.where(model.deadline >= f.due_from)
        if f.due_to is not None:
            query = query.where(model.deadline <= f.due_to)
        if f.q is not None:
            query = query.where(await matching(self.session, model.id, model.title, model.content, f.q))
        return query

    # -- assignments ---------------------------------------------------------------------------
    def add_assignment(self, assignment: Assignment) -> None:
        self.session.add(assignment)

    async def assignment(self, assignment_id: str) -> Assignment:
        """An assignment held by this tenant, or NotFound."""
        found = await self.session.get(Assignment, assignment_id)
        if found is None:
            raise NotFound("承办任务不存在 (no such assignment)")
        return found

    async def find_assignment(self, assignment_id: str) -> Assignment | None:
        return await self.session.get(Assignment, assignment_id)

    async def assignments_of_items(self, item_ids: list[str]) -> list[Assignment]:
        """The assignments this tenant issued for some of its items."""
        if not item_ids:
            return []
        return list(await self.session.scalars(
            select(Assignment).where(Assignment.item_id.in_(item_ids)).order_by(Assignment.role.desc(), Assignment.unit)
        ))

    async def assignments_for_ref(self, item_ref: str) -> list[Assignment]:
        """This tenant's assignments of an item known by its network-wide ref (received or issued)."""
        query = select(Assignment).where(Assignment.item_ref == item_ref).order_by(Assignment.id)
        return list(await self.session.scalars(query))

    async def assignments_of(self, item_id: str) -> list[Assignment]:
        """The assignments this tenant issued for one of its items."""
        return list(await self.session.scalars(
            select(Assignment).where(Assignment.item_id == item_id).order_by(Assignment.role.desc(), Assignment.unit)
        ))

    async def received(self, filters: Filters = Filters(), page: PageRequest = PageRequest()) -> Page[Assignment]:
        """Assignments this tenant received as a unit (its own queue), what is due first, one page;
        ``filters.light`` keeps one colour."""
        f = filters
        query = await self._common(select(Assignment).where(Assignment.unit == self.tenant), Assignment, f)
        if f.assigner is not None:
            query = query.where(Assignment.assigner == f.assigner)
        if f.light is not None:
            colour, today, warn_until = f.light
            query = query.where(Assignment.state.not_in(DONE_STATES),
                                light_condition(Assignment.id, colour, today, warn_until))
        return QUEUE_ORDER.page(await self.session.scalars(QUEUE_ORDER.select(query, page)), page)

    # -- feedback ------------------------------------------------------------------------------
    def add_feedback(self, feedback: Feedback) -> None:
        self.session.add(feedback)

    async def feedback_of(self, assignment_ids: list[str]) -> list[Feedback]:
        if not assignment_ids:
            return []
        return list(await self.session.scalars(
            select(Feedback).where(Feedback.assignment_id.in_(assignment_ids)).order_by(Feedback.submitted_at)
        ))

    async def has_feedback(self, assignment_id: str) -> bool:
        """Has the assignment any feedback yet (one row is enough to know)?"""
        return (await self.session.scalars(
            select(Feedback.id).where(Feedback.assignment_id == assignment_id).limit(1))).first() is not None

    async def feedback_exists(self, feedback_id: str) -> bool:
        return await self.session.get(Feedback, feedback_id) is not None

    # -- history (append-only) -----------------------------------------------------------------
    def record(
        self, item_ref: str, action: str, actor: str, from_state: str | None, to_state: str | None,
        note: str | None = None, assignment_id: str | None = None,
    ) -> None:
        """Append one entry to the history; entries are never changed afterwards."""
        self.session.add(HistoryEntry(
            item_ref=item_ref, action=action, actor=actor, from_state=from_state, to_state=to_state,
            note=note, assignment_id=assignment_id,
        ))

    async def history(self, item_ref: str, assignment_id: str | None = None) -> list[HistoryEntry]:
        query = select(HistoryEntry).where(HistoryEntry.item_ref == item_ref)
        if assignment_id is not None:
            query = query.where(HistoryEntry.assignment_id == assignment_id)
        return list(await self.session.scalars(query.order_by(HistoryEntry.id)))
