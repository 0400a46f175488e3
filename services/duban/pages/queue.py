"""The unit's queue (本单位承办): for a county's 督查机构 (and anyone of a unit who reads its assignments) —
what the unit received, with the traffic lights; what it split down, with each unit below and its state and
light at every level (the split tree, tree/service.py). The same services and ``authorize`` as
``GET /api/assignments`` and ``GET /api/assignments/{id}/tree``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from duban.confidentiality import access
from duban.errors import InvalidInput
from duban.items import views
from duban.items.repository import ItemRepository
from duban.lists.query import ListQuery
from duban.pages import labels
from duban.pages.render import page
from duban.tree import service as tree
from duban.tree.repository import TreeRepository
from duban.web import Ctx


class QueuePageController(Controller):
    path = "/"
    include_in_schema = False

    @get("/queue")
    async def queue(self, request: Request, ctx: Ctx) -> Response:
        """本单位承办: received, split down, the units' states with lights."""
        ctx.policy.authorize(ctx.actor, "assignment", "read")
        names = ("state", "light", "q")
        given = {n: (request.query_params.get(n) or None) for n in (*names, "cursor")}
        shown = {n: v or "" for n, v in given.items()}
        rows: list[Any] = []
        trees: dict[str, Any] = {}
        cursor = error = None
        try:
            listing = ListQuery(request.url.path, (), given, 50).check(ctx)
        except InvalidInput as exc:
            error = exc.message.split(" (")[0]
        else:
            found = await ItemRepository(ctx.session, ctx.tenant).received(listing.filters, listing.page,
                                                                            access.reader(ctx))
            rows, cursor = await views.assignment_views(ctx, found.rows), found.next_cursor
            split = {p.parent_assignment_id for p in
                     await TreeRepository(ctx.session, ctx.tenant).parts_of([a.id for a in rows])}
            for a in rows:
                if a.id in split:
                    trees[a.id] = await tree.assignment_tree(ctx, a.id)
        lights = {light: sum(1 for a in rows if a.light == light) for light in ("red", "yellow", "green")}
        return page(request, "queue.html", rows=rows, trees=trees, filters=shown, error=error, next_cursor=cursor,
                    states=labels.QUEUE_STATES, lights=lights,
                    unit=lambda code: (ctx.registry.get(code).name if ctx.registry.get(code) else code))
