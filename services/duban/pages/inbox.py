"""收件箱 (the inbox of received events) for the 督查室 and a tenant's 督查机构: the events that could not be
applied (conflicts, waiting ones, refused ones) with the reason, and the operator's decision on each — 重放
(apply again once the cause is fixed) or 跳过 (with the reason) — through the node's inbox (events/inbox.py)
under the same ``authorize`` as ``/api/inbox`` (``inbox``/``read``, ``inbox``/``replay``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post

from duban.context import TenantContext
from duban.errors import DubanError, InvalidInput
from duban.events.repository import InboxRepository
from duban.lists.query import ListQuery
from duban.pages.render import back_to, form_of, page, reading, text, unit
from duban.web import Ctx, FromPath

STATUS_LABELS = {"conflict": "冲突待处理", "parked": "等待前序事件", "rejected": "已拒收", "skipped": "已跳过",
                 "duplicate": "重复", "applied": "已应用"}
KIND_LABELS = {"assignment.issued": "交办", "assignment.accepted": "签收", "feedback.submitted": "反馈",
               "assignment.completion_requested": "申请办结", "assignment.completed": "办结",
               "assignment.returned": "退回重办", "assignment.closed": "关闭", "reminder.sent": "催办",
               "supervision.recorded": "督办", "extension.requested": "延期申请", "extension.decided": "延期审批",
               "co.views": "协办意见", "proposal.assigned": "建议提案交办", "proposal.consulted": "建议提案沟通",
               "proposal.rated": "建议提案测评", "proposal.replied": "建议提案答复"}
DONE = {"replay": "已重放，事件已应用", "skip": "已跳过该事件"}


def _name(ctx: TenantContext, code: str) -> str:
    found = ctx.registry.get(code)
    return found.name if found else code


async def inbox_context(request: Request, ctx: TenantContext) -> dict[str, Any]:
    given = {"status": request.query_params.get("status") or None, "cursor": request.query_params.get("cursor")}
    shown = {"status": given["status"] or ""}
    rows, cursor, error = [], None, None
    try:
        listing = ListQuery(request.url.path, (), given, 50).check(ctx)
    except InvalidInput as exc:
        error = exc.message.split(" (")[0]
    else:
        found = await InboxRepository(ctx.session, ctx.tenant).list(listing.filters.status, listing.page)
        rows, cursor = found.rows, found.next_cursor
    return {"rows": rows, "next_cursor": cursor, "filters": shown, "error": error, "statuses": STATUS_LABELS,
            "kinds": KIND_LABELS, "counts": await InboxRepository(ctx.session, ctx.tenant).counts(),
            "unit": lambda code: _name(ctx, code), "may_replay": ctx.policy.can(ctx.actor, "inbox", "replay"),
            "done": DONE.get(request.query_params.get("done") or ""), "errors": {}, "values": {}}


class InboxPageController(Controller):
    path = "/"
    include_in_schema = False

    @get("/inbox")
    async def inbox(self, request: Request, ctx: Ctx) -> Response:
        """收件箱: the events received, the ones needing a decision first in the filter."""
        ctx.policy.authorize(ctx.actor, "inbox", "read")
        return page(request, "inbox.html", **await inbox_context(request, ctx))

    @post("/inbox/{event_id:str}/replay")
    async def replay(self, request: Request, event_id: FromPath[str]) -> Response:
        await form_of(request)
        platform = request.app.state.platform
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "inbox", "replay")
                await platform.inbox.replay(ctx.session, ctx.tenant, event_id, ctx.actor.ref)
        except DubanError as exc:
            return await _again(request, event_id, exc, {})
        return back_to("/inbox", "replay")

    @post("/inbox/{event_id:str}/skip")
    async def skip(self, request: Request, event_id: FromPath[str]) -> Response:
        form = await form_of(request)
        platform = request.app.state.platform
        values = {"reason": text(form, "reason")}
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "inbox", "replay")
                if not values["reason"]:
                    raise InvalidInput("请填写跳过的原因")
                if len(values["reason"]) > 2000:
                    raise InvalidInput("原因不能超过 2000 个字")
                await platform.inbox.skip(ctx.session, ctx.tenant, event_id, ctx.actor.ref, values["reason"])
        except DubanError as exc:
            return await _again(request, event_id, exc, values)
        return back_to("/inbox", "skip")


async def _again(request: Request, event_id: str, exc: DubanError, values: dict[str, str]) -> Response:
    """The inbox again, the refusal next to the event's row (404 stays the 未找到 page)."""
    if exc.status_code == 404:
        raise exc
    async with reading(request) as ctx:
        context = await inbox_context(request, ctx)
    context.update(errors={event_id: exc.message.split(" (")[0]}, values={event_id: values}, done=None)
    return page(request, "inbox.html", exc.status_code, **context)
