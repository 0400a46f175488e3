"""SQL for items, assignments, feedback and history of one tenant."""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.deadlines.repository import light_condition
from duban.deadlines.service import DONE_STATES
from duban.errors import NotFound
from duban.items.models import Assignment, Feedback, HistoryEntry, Item

LightFilter = tuple[str, date, date]  # (colour, today, the last due date that shows yellow today)


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

    async def list(self, state: str | None = None, limit: int = 200, offset: int = 0,
                   light: LightFilter | None = None) -> list[Item]:
        """Items, newest first; ``light`` keeps those whose worst unit shows that colour."""
        query = select(Item).order_by(Item.created_at.desc()).limit(limit).offset(offset)
        if state is not None:
            query = query.where(Item.state == state)
        if light is not None:
            colour, today, warn_until = light

            def units(colour: str) -> object:
                return exists().where(Assignment.item_id == Item.id, Assignment.state.not_in(DONE_STATES),
                                      light_condition(Assignment.id, colour, today, warn_until))

            if colour == "red":
                query = query.where(units("red"))
            elif colour == "yellow":
                query = query.where(~units("red"), units("yellow"))
            else:
                query = query.where(~units("red"), ~units("yellow"), units("green"))
        return list(await self.session.scalars(query))

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

    async def assignments_of(self, item_id: str) -> list[Assignment]:
        """The assignments this tenant issued for one of its items."""
        return list(await self.session.scalars(
            select(Assignment).where(Assignment.item_id == item_id).order_by(Assignment.role.desc(), Assignment.unit)
        ))

    async def received(self, state: str | None = None, limit: int = 200, offset: int = 0,
                       light: LightFilter | None = None) -> list[Assignment]:
        """Assignments this tenant received as a unit (its own queue); ``light`` keeps one colour."""
        query = (select(Assignment).where(Assignment.unit == self.tenant)
                 .order_by(Assignment.assigned_at.desc()).limit(limit).offset(offset))
        if state is not None:
            query = query.where(Assignment.state == state)
        if light is not None:
            colour, today, warn_until = light
            query = query.where(Assignment.state.not_in(DONE_STATES),
                                light_condition(Assignment.id, colour, today, warn_until))
        return list(await self.session.scalars(query))

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
