"""HTTP routes for items (the assigner's side) and assignments (the unit's side). Each route:
authorize, call one service function, return."""

from __future__ import annotations

from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency, Provide

from duban.archive import DossierLocation
from duban.attachments import service as attachments
from duban.confidentiality import access
from duban.context import TenantContext
from duban.errors import Conflict
from duban.extensions.repository import ExtensionRepository
from duban.extensions.schemas import ExtensionRead
from duban.items import service, views
from duban.items.models import Feedback, Item
from duban.items.repository import ItemRepository
from duban.items.schemas import (
    AcceptBody,
    AssignmentDetail,
    AssignmentRead,
    FeedbackCreate,
    FeedbackRead,
    HistoryRead,
    ItemCreate,
    ItemDetail,
    ItemRead,
    ItemUpdate,
    Note,
    Reason,
    ReturnCreate,
    VerifyRead,
)
from duban.lists.query import ListQuery, item_query, queue_query
from duban.reminders.repository import ReminderRepository
from duban.reminders.schemas import ReminderRead
from duban.supervision.repository import SupervisionRepository
from duban.supervision.schemas import SupervisionRead
from duban.web import Ctx, FromPath, JSONBody, Node


def _read(ctx: TenantContext, item: Item) -> ItemRead:
    return ItemRead.of(item, ctx.tenant, ctx.time.today())


class ItemController(Controller):
    path = "/api/items"
    tags = ["items"]

    @post("")
    async def create(self, ctx: Ctx, data: JSONBody[ItemCreate]) -> ItemRead:
        """Draft a supervision plan (立项)."""
        ctx.policy.authorize(ctx.actor, "item", "create")
        return _read(ctx, await service.create_item(ctx, data))

    @get("", dependencies={"list_query": Provide(item_query)})
    async def list_items(self, ctx: Ctx, list_query: NamedDependency[ListQuery]) -> Response[list[ItemRead]]:
        """This tenant's items, newest first, each with its light (the worst of its units'); filtered and
        searched (lists/query.py), one page; the next page's cursor is in ``X-Next-Cursor`` and ``Link``."""
        ctx.policy.authorize(ctx.actor, "item", "read")
        listing = list_query.check(ctx)
        page = await ItemRepository(ctx.session, ctx.tenant).list(listing.filters, listing.page, access.reader(ctx))
        return listing.respond(await views.item_views(ctx, page.rows), page.next_cursor)

    @get("/{item_id:str}")
    async def read(self, ctx: Ctx, item_id: FromPath[str]) -> ItemDetail:
        """One item with its assignments, feedback and history."""
        ctx.policy.authorize(ctx.actor, "item", "read")
        repo = ItemRepository(ctx.session, ctx.tenant)
        item = await repo.get(item_id)
        assignments = await repo.assignments_of(item.id)
        [read] = await views.item_views(ctx, [item])
        return ItemDetail(
            item=read,
            assignments=await views.assignment_views(ctx, assignments),
            feedback=await _feedback_reads(ctx, await repo.feedback_of([a.id for a in assignments])),
            history=[HistoryRead.of(h) for h in await repo.history(service.item_ref(ctx.tenant, item.id))],
            supervisions=[SupervisionRead.of(s) for s in
                          await SupervisionRepository(ctx.session, ctx.tenant).of_item(read.ref)],
            extensions=[ExtensionRead.of(e) for e in await ExtensionRepository(ctx.session, ctx.tenant)
                        .of_assignments([a.id for a in assignments])],
            reminders=[ReminderRead.of(r) for r in await ReminderRepository(ctx.session, ctx.tenant)
                       .of_assignments([a.id for a in assignments])],
        )

    @patch("/{item_id:str}")
    async def update(self, ctx: Ctx, item_id: FromPath[str], data: JSONBody[ItemUpdate]) -> ItemRead:
        """Change a draft or a rejected plan."""
        ctx.policy.authorize(ctx.actor, "item", "update")
        return _read(ctx, await service.update_item(ctx, item_id, data))

    @post("/{item_id:str}/submit", status_code=200)
    async def submit(self, ctx: Ctx, item_id: FromPath[str]) -> ItemRead:
        """Send the plan for 审定."""
        ctx.policy.authorize(ctx.actor, "item", "submit")
        return _read(ctx, await service.submit(ctx, item_id))

    @post("/{item_id:str}/approve", status_code=200)
    async def approve(self, ctx: Ctx, item_id: FromPath[str], data: JSONBody[Note | None] = None) -> ItemRead:
        """审定批准: register the item."""
        ctx.policy.authorize(ctx.actor, "item", "approve")
        return _read(ctx, await service.approve(ctx, item_id, data.note if data else ""))

    @post("/{item_id:str}/reject", status_code=200)
    async def reject(self, ctx: Ctx, item_id: FromPath[str], data: JSONBody[Reason]) -> ItemRead:
        """Return the plan with a reason."""
        ctx.policy.authorize(ctx.actor, "item", "reject")
        return _read(ctx, await service.reject(ctx, item_id, data.reason))

    @post("/{item_id:str}/withdraw", status_code=200)
    async def withdraw(self, ctx: Ctx, item_id: FromPath[str], data: JSONBody[Reason]) -> ItemRead:
        """Withdraw an item not yet assigned."""
        ctx.policy.authorize(ctx.actor, "item", "withdraw")
        return _read(ctx, await service.withdraw(ctx, item_id, data.reason))

    @post("/{item_id:str}/assign", status_code=200)
    async def assign(self, ctx: Ctx, item_id: FromPath[str]) -> ItemDetail:
        """交办 to the planned units."""
        ctx.policy.authorize(ctx.actor, "item", "assign")
        item, assignments = await service.assign(ctx, item_id)
        [read] = await views.item_views(ctx, [item])
        return ItemDetail(read, await views.assignment_views(ctx, assignments), [], [])

    @post("/{item_id:str}/return", status_code=200)
    async def return_(self, ctx: Ctx, item_id: FromPath[str], data: JSONBody[ReturnCreate]) -> ItemRead:
        """退回重办: send one unit's work back."""
        ctx.policy.authorize(ctx.actor, "item", "return")
        return _read(ctx, await service.return_assignment(ctx, item_id, data.unit, data.reason))

    @post("/{item_id:str}/complete", status_code=200)
    async def complete(self, ctx: Ctx, item_id: FromPath[str], data: JSONBody[Note | None] = None) -> ItemRead:
        """审核办结: close the item."""
        ctx.policy.authorize(ctx.actor, "item", "complete")
        return _read(ctx, await service.complete(ctx, item_id, data.note if data else ""))

    @post("/{item_id:str}/archive", status_code=200)
    async def archive(self, ctx: Ctx, item_id: FromPath[str], platform: Node) -> ItemRead:
        """归档: seal the dossier into the archive."""
        ctx.policy.authorize(ctx.actor, "item", "archive")
        item = await service.archive(ctx, item_id, platform.archive, platform.settings.fonds_code)
        return _read(ctx, item)

    @get("/{item_id:str}/archive/verify")
    async def verify(self, ctx: Ctx, item_id: FromPath[str], platform: Node) -> VerifyRead:
        """Re-read and re-hash the archived dossier."""
        ctx.policy.authorize(ctx.actor, "archive", "verify")
        item = await ItemRepository(ctx.session, ctx.tenant).get(item_id)
        if not item.archive:
            raise Conflict("事项尚未归档 (not archived yet)")
        report = await platform.archive.verify(location_of(item))
        loc = report.location
        return VerifyRead(report.ok, loc.bucket, loc.prefix, loc.archival_code, report.files_checked, report.problems)


async def _feedback_reads(ctx: TenantContext, feedback: list[Feedback]) -> list[FeedbackRead]:
    """Feedback with their attachments."""
    by_feedback = await attachments.of_feedback(ctx.session, ctx.tenant, [f.id for f in feedback])
    return [FeedbackRead.of(f, by_feedback) for f in feedback]


def location_of(item: Item) -> DossierLocation:
    """Where an archived item's dossier is."""
    a = item.archive or {}
    return DossierLocation(a["bucket"], a["prefix"], a["archival_code"], a["manifest_sha256"])


class AssignmentController(Controller):
    path = "/api/assignments"
    tags = ["assignments"]

    @get("", dependencies={"list_query": Provide(queue_query)})
    async def queue(self, ctx: Ctx, list_query: NamedDependency[ListQuery]) -> Response[list[AssignmentRead]]:
        """This tenant's queue: assignments it received, what is due first, with their clocks and lights;
        filtered and searched, one page (the next page's cursor in ``X-Next-Cursor`` and ``Link``)."""
        ctx.policy.authorize(ctx.actor, "assignment", "read")
        listing = list_query.check(ctx)
        page = await ItemRepository(ctx.session, ctx.tenant).received(listing.filters, listing.page,
                                                                       access.reader(ctx))
        return listing.respond(await views.assignment_views(ctx, page.rows), page.next_cursor)

    @get("/{assignment_id:str}")
    async def read(self, ctx: Ctx, assignment_id: FromPath[str]) -> AssignmentDetail:
        """One assignment with its feedback and history."""
        ctx.policy.authorize(ctx.actor, "assignment", "read")
        repo = ItemRepository(ctx.session, ctx.tenant)
        a = await repo.assignment(assignment_id)
        [read] = await views.assignment_views(ctx, [a])
        return AssignmentDetail(
            read, await _feedback_reads(ctx, await repo.feedback_of([a.id])),
            [HistoryRead.of(h) for h in await repo.history(a.item_ref, a.id)],
            [SupervisionRead.of(s) for s in await SupervisionRepository(ctx.session, ctx.tenant).of_assignment(a.id)],
            [ExtensionRead.of(e) for e in await ExtensionRepository(ctx.session, ctx.tenant).of_assignments([a.id])],
            [ReminderRead.of(r) for r in await ReminderRepository(ctx.session, ctx.tenant).of_assignments([a.id])],
        )

    @post("/{assignment_id:str}/accept", status_code=200)
    async def accept(self, ctx: Ctx, assignment_id: FromPath[str],
                     data: JSONBody[AcceptBody | None] = None) -> AssignmentRead:
        """签收, naming the leader in charge (分管领导) if the unit will."""
        ctx.policy.authorize(ctx.actor, "assignment", "accept")
        a = await service.accept(ctx, assignment_id, data.leader_in_charge if data else None)
        return (await views.assignment_views(ctx, [a]))[0]

    @post("/{assignment_id:str}/feedback")
    async def feedback(self, ctx: Ctx, assignment_id: FromPath[str], data: JSONBody[FeedbackCreate]) -> FeedbackRead:
        """反馈 progress or results."""
        ctx.policy.authorize(ctx.actor, "assignment", "feedback")
        return (await _feedback_reads(ctx, [await service.add_feedback(ctx, assignment_id, data)]))[0]

    @post("/{assignment_id:str}/request-completion", status_code=200)
    async def request_completion(self, ctx: Ctx, assignment_id: FromPath[str],
                                 data: JSONBody[Note | None] = None) -> AssignmentRead:
        """办结申请, signed off by the unit's 第一责任人."""
        ctx.policy.authorize(ctx.actor, "assignment", "request_completion")
        a = await service.request_completion(ctx, assignment_id, data.note if data else "")
        return (await views.assignment_views(ctx, [a]))[0]
