"""SQL for items, assignments, feedback and history of one tenant."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Date, Select, String, and_, bindparam, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

import duban.audit.history  # noqa: F401 — numbers and hashes history rows at commit (the chain)
from duban.deadlines.models import OPEN, Clock
from duban.deadlines.repository import light_condition
from duban.deadlines.service import DONE_STATES
from duban.errors import NotFound
from duban.items.models import Assignment, Feedback, HistoryEntry, Item
from duban.lists.cursor import Keyset, Page, PageRequest
from duban.lists.filters import Filters, LightFilter

if TYPE_CHECKING:
    from duban.confidentiality.access import Reader
from duban.confidentiality.repository import item_visibility, named_assignments, named_items, queue_visibility
from duban.db.prepared import Row, Shapes, chunked, ids_parameters
from duban.lists.search import clause, how, like_pattern, phrase

__all__ = ["ITEMS_ORDER", "QUEUE_ORDER", "ItemRepository", "LightFilter"]

# The lists' orders (lists/cursor.py), each served by an index of the same columns.
ITEMS_ORDER = Keyset("items", (Item.created_at, Item.id), descending=True, types=(datetime, str))
QUEUE_ORDER = Keyset("queue", (Assignment.deadline, Assignment.id), descending=False, types=(date, str))


# -- the lists' prepared statements (db/prepared.py), one per shape: which filters were given ---------------


def _shape(f: Filters) -> tuple[bool, ...]:
    return (f.state is not None, f.source is not None, f.group is not None, f.leader is not None,
            f.due_from is not None, f.due_to is not None)


def _values(f: Filters) -> dict[str, object]:
    light = f.light or (None, None, None)
    return {"state": f.state, "source_kind": f.source, "group_code": f.group, "issuing_leader": f.leader,
            "due_from": f.due_from, "due_to": f.due_to, "unit": f.unit, "assigner": f.assigner,
            "today": light[1], "warn_until": light[2],
            "pattern": like_pattern(f.q) if f.q is not None else None,
            "match": phrase(f.q) if f.q is not None else None}


def _reader(r: Reader | None) -> dict[str, object]:
    if r is None:
        return {}
    return {"reader_ref": r.actor_ref, "reader_name": r.username, "items_prefix": f"{r.tenant}/",
            "reader_tenant": r.tenant}


def _hides_protected(r: Reader | None) -> bool:
    """Does need-to-know hide protected rows from this reader (no role of theirs sees them all)?"""
    return r is not None and not r.sees_protected


def _named_to() -> tuple[ColumnElement[str], ColumnElement[str]]:
    """The reader's tenant and username as parameters (the work named to them: confidentiality/)."""
    return bindparam("reader_tenant", type_=String()), bindparam("reader_name", type_=String())


def _common(query: Select, model: type[Item] | type[Assignment], state: bool, source: bool, group: bool,
            leader: bool, due_from: bool, due_to: bool, way: str | None) -> Select:
    """The filters items and assignments share: state, source, group, leader, due dates, words."""
    for column, given in ((model.state, state), (model.source_kind, source), (model.group_code, group),
                          (model.issuing_leader, leader)):
        if given:
            query = query.where(column == bindparam(column.key, type_=column.type))
    if due_from:
        query = query.where(model.deadline >= bindparam("due_from", type_=Date()))
    if due_to:
        query = query.where(model.deadline <= bindparam("due_to", type_=Date()))
    if way is not None:
        query = query.where(clause(way, model.id, model.title, model.content, bindparam("pattern", type_=String()),
                                   bindparam("match", type_=String())))
    return query


def _open() -> ColumnElement[bool]:
    """The unit still works on it (the states are written into the statement: no expanding IN)."""
    return Assignment.state.not_in([literal(s) for s in DONE_STATES])


def _light(colour: str) -> ColumnElement[bool]:
    return light_condition(Assignment.id, colour, bindparam("today", type_=Date()),
                           bindparam("warn_until", type_=Date()))


def _items(state: bool, source: bool, group: bool, leader: bool, due_from: bool, due_to: bool, unit: bool,
           light: str | None, way: str | None, after: bool, need: bool | None, named: bool) -> Select:
    query = select(*Item.__table__.columns)
    if named:  # a 分管领导: only the work named to them at 签收
        query = query.where(named_items(*_named_to()))
    if need is not None:
        query = query.where(item_visibility(bindparam("items_prefix", type_=String()),
                                            bindparam("reader_ref", type_=String()), sees_all=False,
                                            decides_plans=need, named=named_items(*_named_to())))
    if unit:
        query = query.where(exists().where(Assignment.item_id == Item.id,
                                           Assignment.unit == bindparam("unit", type_=String())))
    query = _common(query, Item, state, source, group, leader, due_from, due_to, way)
    if light is not None:
        def units(colour: str) -> object:
            return exists().where(Assignment.item_id == Item.id, _open(), _light(colour))

        if light == "red":
            query = query.where(units("red"))
        elif light == "yellow":
            query = query.where(~units("red"), units("yellow"))
        else:
            query = query.where(~units("red"), ~units("yellow"), units("green"))
    return ITEMS_ORDER.prepared(query, after)


def _queue(state: bool, source: bool, group: bool, leader: bool, due_from: bool, due_to: bool, assigner: bool,
           light: str | None, way: str | None, after: bool, need: bool | None, named: bool) -> Select:
    query = select(*Assignment.__table__.columns).where(Assignment.unit == bindparam("tenant", type_=String()))
    if named:  # a 分管领导: only the work named to them at 签收
        query = query.where(named_assignments(*_named_to()))
    if need is not None:
        query = query.where(queue_visibility(bindparam("reader_ref", type_=String()),
                                             bindparam("reader_name", type_=String()), sees_all=False, signs_for=need))
    query = _common(query, Assignment, state, source, group, leader, due_from, due_to, way)
    if assigner:
        query = query.where(Assignment.assigner == bindparam("assigner", type_=String()))
    if light is not None:
        query = query.where(_open(), _light(light))
    return QUEUE_ORDER.prepared(query, after)


def _next_dues_of_items(n: int) -> Select:
    return (select(Assignment.item_id, Assignment.state, func.min(Clock.due).label("next_due"))
            .outerjoin(Clock, and_(Clock.assignment_id == Assignment.id, Clock.state == literal(OPEN)))
            .where(Assignment.item_id.in_(ids_parameters(n))).group_by(Assignment.id, Assignment.item_id,
                                                                        Assignment.state))


_ITEMS, _QUEUE, _NEXT_DUES_OF_ITEMS = Shapes(_items), Shapes(_queue), Shapes(_next_dues_of_items)


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

    async def list(self, filters: Filters = Filters(), page: PageRequest = PageRequest(),
                   reader: Reader | None = None) -> Page[Row]:
        """Items, newest first, one page (rows with the items' columns); ``filters.light`` keeps those whose
        worst unit shows that colour; ``reader`` (need-to-know, 第八条): only the protected items they may see,
        and for a 分管领导 only the work named to them (confidentiality/access.py)."""
        f = filters
        way = await how(self.session, "items", f.q) if f.q is not None else None
        need = reader.decides_plans if _hides_protected(reader) else None
        named = reader is not None and reader.named
        shape = (*_shape(f), f.unit is not None, f.light[0] if f.light else None, way, page.cursor is not None, need,
                 named)
        rows = await _ITEMS(*shape).rows(self.session, **_values(f), **_reader(reader), **ITEMS_ORDER.values(page))
        return ITEMS_ORDER.page(rows, page)

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

    async def received(self, filters: Filters = Filters(), page: PageRequest = PageRequest(),
                       reader: Reader | None = None) -> Page[Row]:
        """Assignments this tenant received as a unit (its own queue), what is due first, one page (rows
        with the assignments' columns); ``filters.light`` keeps one colour; ``reader`` (need-to-know):
        only the protected assignments they may see, and for a 分管领导 only those named to them."""
        f = filters
        way = await how(self.session, "assignments", f.q) if f.q is not None else None
        need = reader.signs_for if _hides_protected(reader) else None
        named = reader is not None and reader.named
        shape = (*_shape(f), f.assigner is not None, f.light[0] if f.light else None, way, page.cursor is not None,
                 need, named)
        rows = await _QUEUE(*shape).rows(self.session, tenant=self.tenant, **_values(f), **_reader(reader),
                                         **QUEUE_ORDER.values(page))
        return QUEUE_ORDER.page(rows, page)

    async def next_dues_of_items(self, item_ids: list[str]) -> list[Row]:
        """For each assignment issued for these items: (item_id, state, next_due), the earliest due date of its
        open clocks (None: none open) — what an item's light is made of."""
        rows: list[Row] = []
        for n, chunk in chunked(item_ids):
            rows += await _NEXT_DUES_OF_ITEMS(n).rows(self.session, **chunk)
        return rows

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
