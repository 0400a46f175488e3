"""The pages: login and logout, the role-aware home, the item page (assigner's side), the assignment page
(the unit's side), and each form's action. Every page reads and every action writes through the same
services and the same ``authorize`` as the JSON API routes; errors are shown next to their field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
from litestar import Controller, Request, Response, Router, get, post
from litestar.datastructures import CacheControlHeader, UploadFile
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.template import TemplateConfig

from duban.accounts.repository import AccountRepository
from duban.accounts.routes import over_tls
from duban.accounts.service import TOTP_REQUIRED, TOTP_WRONG, SecondFactorFailed, sign_in, token_hash
from duban.attachments import service as attachments
from duban.attachments.upload import Upload, too_large
from duban.auth import COOKIE
from duban.confidentiality import access
from duban.context import TenantContext
from duban.documents.models import KINDS as DOCUMENT_KINDS
from duban.documents.repository import DocumentRepository
from duban.errors import DubanError, InvalidInput, NotAuthenticated, NotFound, TooManyRequests
from duban.extensions import service as extensions
from duban.extensions.repository import ExtensionRepository
from duban.extensions.schemas import ExtensionApprove, ExtensionCreate
from duban.items import service, views
from duban.items.repository import ItemRepository
from duban.items.schemas import FeedbackCreate, ItemCreate
from duban.lists.query import ListQuery
from duban.pages import csrf, labels
from duban.pages.account import AccountPageController
from duban.pages.dashboard import DashboardController
from duban.pages.inbox import InboxPageController
from duban.pages.queue import QueuePageController
from duban.pages.render import (
    HOME,
    PAGE_HEADERS,
    back_to,
    duban_error,
    form_of,
    http_error,
    page,
    reading,
    safe_next,
    text,
    to_login,
    unexpected,
    unit,
)
from duban.reminders import service as reminders
from duban.reminders.repository import ReminderRepository
from duban.reminders.schemas import ReminderCreate
from duban.security import CONTROL
from duban.supervision import service as supervision
from duban.supervision.models import MODES as SUPERVISION_MODES
from duban.supervision.repository import SupervisionRepository
from duban.supervision.schemas import SupervisionCreate
from duban.supervision.service import WORKED_ON
from duban.tree import service as tree
from duban.tree.repository import TreeRepository
from duban.tree.schemas import PartCreate
from duban.web import Ctx, FromPath

HERE = Path(__file__).parent
NO_ITEM = "督查事项不存在 (no such item)"
NO_ASSIGNMENT = "承办任务不存在 (no such assignment)"
DONE = {"draft": "草稿已保存", "submit": "已报送审定", "approve": "已审定立项", "reject": "已退回修改",
        "assign": "已交办", "complete": "已办结", "archive": "已归档", "accept": "已签收", "feedback": "反馈已报送",
        "request_completion": "已申请办结", "split": "已分解交办",
        "remind": "催办已发出", "supervise": "督办已记录", "extension": "延期申请已报送",
        "extension_approve": "已同意延期", "extension_refuse": "已不同意延期",
        "password": "密码已修改，其他设备上的登录已退出"}
EXTENSION_STATES = {"pending": "待审批", "approved": "已同意", "refused": "未同意"}
EXTENSION_CLOCKS = {"completion": "办结时限", "feedback": "反馈时限", "progress": "进展报送时限"}


# -- login and logout ---------------------------------------------------------------------------------
def _tenants(request: Request) -> list[tuple[str, str]]:
    platform = request.app.state.platform
    return [(code, (platform.registry.get(code).name if platform.registry.get(code) else code))
            for code in platform.tenants]


def _login_page(request: Request, status: int = 200, *, values: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, token: str | None = None) -> Response:
    token = token or request.cookies.get(csrf.LOGIN_COOKIE) or csrf.new_login_token()
    values = values or {}
    why = request.query_params.get("why")
    notice = {"expired": "登录已失效或超时，请重新登录。", "login": "请先登录。",
              "out": "您已安全退出。"}.get(why or "")
    response = page(request, "login.html", status, tenants=_tenants(request), values=values, errors=errors or {},
                    login_csrf=token, next=safe_next(values.get("next") or request.query_params.get("next")),
                    notice=notice, totp_open=bool(values.get("totp")) or "totp" in (errors or {}))
    response.set_cookie(csrf.LOGIN_COOKIE, token, path="/login", httponly=True, samesite="strict",
                        secure=over_tls(request, request.app.state.platform.settings))
    return response


@get("/", include_in_schema=False)
async def root(request: Request) -> Redirect:
    """A browser's way in: the home page when signed in, else the login page."""
    return Redirect(HOME if request.cookies.get(COOKIE) else "/login", status_code=303, headers=PAGE_HEADERS)


@get("/login", include_in_schema=False)
async def login_form(request: Request) -> Response:
    """登录."""
    return _login_page(request)


@post("/login", include_in_schema=False, request_max_body_size=64 * 1024)
async def login(request: Request) -> Response:
    """The login form's action: the API's sign-in (throttle, second factor, audit), the API's cookie."""
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    values = {k: form.get(k, "").strip() for k in ("tenant", "username", "totp", "next")}
    csrf.check_login(request, form)
    errors = {}
    if values["tenant"] not in request.app.state.platform.tenants:
        errors["tenant"] = "请选择单位"
    if not values["username"]:
        errors["username"] = "请输入用户名"
    if not form.get("password"):
        errors["password"] = "请输入密码"
    if errors:
        return _login_page(request, 400, values=values, errors=errors)
    platform, settings = request.app.state.platform, request.app.state.platform.settings
    address = request.client.host if request.client else "?"
    try:
        result = await sign_in(platform.db, platform.policy, platform.login_throttle, values["tenant"],
                               values["username"], form["password"], address, platform.time.now(),
                               settings.session_hours, totp=values["totp"] or None,
                               second_factor_roles=settings.second_factor_roles)
    except SecondFactorFailed as exc:
        message = "该账户须使用动态口令：请输入身份验证器上的6位动态口令，并重新输入密码" \
            if exc.message == TOTP_REQUIRED else "动态口令错误或已使用过，请输入当前的6位动态口令" \
            if exc.message == TOTP_WRONG else exc.message.split(" (")[0]
        return _login_page(request, 401, values=values, errors={"totp": message})
    except TooManyRequests as exc:
        return _login_page(request, 429, values=values, errors={"form": exc.message.split(" (")[0]})
    except NotAuthenticated:
        return _login_page(request, 401, values=values, errors={"password": "用户名或密码错误"})
    response = Redirect(safe_next(values["next"]), status_code=303, headers=PAGE_HEADERS)
    response.set_cookie(COOKIE, result.token, httponly=True, samesite="strict", path="/",
                        secure=over_tls(request, settings), max_age=settings.session_hours * 3600)
    response.delete_cookie(csrf.LOGIN_COOKIE, path="/login")
    return response


# -- the pages behind the login ------------------------------------------------------------------------
def _unit_name(ctx: TenantContext, code: str) -> str:
    found = ctx.registry.get(code)
    return found.name if found else code


def _who(ctx: TenantContext, ref: str | None) -> str:
    """'qingjiangpu/handler' → '清江浦区 handler'."""
    if not ref:
        return "—"
    tenant, _, user = ref.partition("/")
    return f"{_unit_name(ctx, tenant)} {user}".strip()


def _noted(ctx: TenantContext, note: str) -> str:
    """A history entry's note in words: a unit's name, a feedback's kind, or the note itself."""
    tenant, slash, rest = note.partition("/")
    if slash and tenant in ctx.registry and "/" not in rest and " " not in rest:  # an item's ref: its tenant's
        return f"{_unit_name(ctx, tenant)}事项 {rest[:8]}"
    return _unit_name(ctx, note) if note in ctx.registry else labels.FEEDBACK_KINDS.get(note, note)


def _listing(request: Request, ctx: TenantContext, names: tuple[str, ...], prefix: str = "") -> tuple[Any, dict,
                                                                                                         str | None]:
    """The filters of one list of the page (query parameters ``<prefix><name>``), checked as the API checks
    them; an error is a sentence next to the filters (and the list is left empty)."""
    given = {n: (request.query_params.get(prefix + n) or None) for n in (*names, "cursor")}
    shown = {n: v or "" for n, v in given.items()}
    try:
        checked = ListQuery(request.url.path, (), given, 50).check(ctx)
    except InvalidInput as exc:
        return None, shown, exc.message.split(" (")[0]
    return checked, shown, None


async def _overview(request: Request, ctx: TenantContext) -> dict[str, Any]:
    listing, shown, error = _listing(request, ctx, ("state", "light", "q", "source", "group", "unit", "leader",
                                                     "due_from", "due_to"))
    rows, cursor = [], None
    if listing is not None:
        found = await ItemRepository(ctx.session, ctx.tenant).list(listing.filters, listing.page, access.reader(ctx))
        rows, cursor = await views.item_views(ctx, found.rows), found.next_cursor
    below = [t for t in ctx.registry.tenants if t.code != ctx.tenant and ctx.registry.is_below(t.code, ctx.tenant)]
    return {"rows": rows, "filters": shown, "error": error, "next_cursor": cursor,
            "states": labels.ITEM_STATES, "sources": labels.SOURCE_LABELS,
            "groups": [g for g in ctx.registry.groups if g.tenant == ctx.tenant], "units": below,
            "leaders": ctx.registry.leaders if ctx.registry.get(ctx.tenant) and
            ctx.registry.get(ctx.tenant).parent is None else [],
            "more": any(shown[n] for n in ("group", "unit", "leader", "due_from", "due_to"))}


async def _waiting_approval(ctx: TenantContext) -> list[Any]:
    listing = ListQuery("/home", (), {"state": "pending_approval"}, 100).check(ctx)
    found = await ItemRepository(ctx.session, ctx.tenant).list(listing.filters, listing.page, access.reader(ctx))
    return await views.item_views(ctx, found.rows)


async def _queue(request: Request, ctx: TenantContext) -> dict[str, Any]:
    listing, shown, error = _listing(request, ctx, ("state", "light", "q"), prefix="t_")
    rows, cursor = [], None
    if listing is not None:
        found = await ItemRepository(ctx.session, ctx.tenant).received(listing.filters, listing.page,
                                                                        access.reader(ctx))
        rows, cursor = await views.assignment_views(ctx, found.rows), found.next_cursor
    return {"rows": rows, "filters": shown, "error": error, "next_cursor": cursor, "states": labels.QUEUE_STATES}


class PageController(Controller):
    path = "/"
    include_in_schema = False

    @get("/home")
    async def home(self, request: Request, ctx: Ctx) -> Response:
        """The home page: what this user's roles work on (overview, approvals, to-do list, sign-off)."""
        ctx.policy.authorize(ctx.actor, "session", "read")
        can = ctx.policy.can
        sections: dict[str, Any] = {}
        tenant = ctx.registry.get(ctx.tenant)
        if can(ctx.actor, "review", "read"):
            sections["dashboard"] = True
        if can(ctx.actor, "inbox", "read"):
            sections["inbox"] = True
        if can(ctx.actor, "item", "approve"):
            sections["approvals"] = await _waiting_approval(ctx)
        if can(ctx.actor, "assignment", "read") and tenant is not None and tenant.parent is not None:
            sections["queue"] = await _queue(request, ctx)  # what this unit received: its to-do list
            sections["chief"] = can(ctx.actor, "assignment", "request_completion")
        if can(ctx.actor, "item", "read"):  # what this tenant registered (at a unit: the parts it split)
            sections["overview"] = await _overview(request, ctx)
            sections["drafts"] = can(ctx.actor, "item", "create")
        return page(request, "home.html", sections=sections, today=ctx.time.today(),
                    done=DONE.get(request.query_params.get("done") or ""),
                    unit=lambda code: _unit_name(ctx, code))

    @get("/items/new")
    async def new_item(self, request: Request, ctx: Ctx) -> Response:
        """立项: the plan's form."""
        ctx.policy.authorize(ctx.actor, "item", "create")
        return _new_item_page(request, ctx, {}, {})

    @post("/items", request_max_body_size=256 * 1024)
    async def create_item(self, request: Request) -> Response:
        """The plan's form: a draft (and, with 保存并报审, sent for 审定 at once)."""
        form = await form_of(request)
        values = {k: text(form, k) for k in _PLAN_FIELDS}
        co_units = [v for v in (await request.form()).getall("co_units", []) if isinstance(v, str) and v]
        errors, data = _plan_of(values, co_units)
        item_id = None
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "item", "create")
                if data is None:
                    raise InvalidInput("表单有误，请按提示修改")  # nothing is written; the fields say what
                item = await service.create_item(ctx, data)
                item_id = item.id
                if form.get("then") == "submit":
                    ctx.policy.authorize(ctx.actor, "item", "submit")
                    await service.submit(ctx, item.id)
        except DubanError as exc:
            if exc.status_code in (403, 404):
                raise
            errors = errors or {_field_of(exc.message): exc.message.split(" (")[0]}
        if errors:
            async with reading(request) as ctx:
                return _new_item_page(request, ctx, {**values, "co_units": co_units}, errors, status=400)
        return back_to(f"/items/{item_id}", "submit" if form.get("then") == "submit" else "draft")

    @get("/items/{item_id:str}")
    async def item(self, request: Request, ctx: Ctx, item_id: FromPath[str]) -> Response:
        """One item: source, plan, clocks, units, history, feedback and attachments; the actions now open."""
        if not ctx.policy.can(ctx.actor, "item", "read"):
            raise NotFound(NO_ITEM)  # the same answer as for an item that does not exist
        ctx.policy.authorize(ctx.actor, "item", "read")
        return page(request, "item.html", **await _item_context(request, ctx, item_id))

    @post("/items/{item_id:str}/submit")
    async def submit(self, request: Request, item_id: FromPath[str]) -> Response:
        await form_of(request)
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "item", "submit")
                await service.submit(ctx, item_id)
        except DubanError as exc:
            return await _item_again(request, item_id, exc, "submit")
        return back_to(f"/items/{item_id}", "submit")

    @post("/items/{item_id:str}/approve")
    async def approve(self, request: Request, item_id: FromPath[str]) -> Response:
        form = await form_of(request)
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "item", "approve")
                await service.approve(ctx, item_id, _bounded(text(form, "note"), 2000, "审定意见"))
        except DubanError as exc:
            return await _item_again(request, item_id, exc, "approve")
        return back_to(f"/items/{item_id}", "approve")

    @post("/items/{item_id:str}/reject")
    async def reject(self, request: Request, item_id: FromPath[str]) -> Response:
        form = await form_of(request)
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "item", "reject")
                reason = _bounded(text(form, "reason"), 2000, "退回理由")
                if not reason:
                    raise InvalidInput("请填写退回理由，说明需要修改什么")
                await service.reject(ctx, item_id, reason)
        except DubanError as exc:
            return await _item_again(request, item_id, exc, "reject", {"reason": text(form, "reason")})
        return back_to(f"/items/{item_id}", "reject")

    @post("/items/{item_id:str}/assign")
    async def assign(self, request: Request, item_id: FromPath[str]) -> Response:
        await form_of(request)
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "item", "assign")
                await service.assign(ctx, item_id)
        except DubanError as exc:
            return await _item_again(request, item_id, exc, "assign")
        return back_to(f"/items/{item_id}", "assign")

    @post("/items/{item_id:str}/complete")
    async def complete(self, request: Request, item_id: FromPath[str]) -> Response:
        form = await form_of(request)
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "item", "complete")
                await service.complete(ctx, item_id, _bounded(text(form, "note"), 2000, "办结意见"))
        except DubanError as exc:
            return await _item_again(request, item_id, exc, "complete")
        return back_to(f"/items/{item_id}", "complete")

    @post("/items/{item_id:str}/archive")
    async def archive(self, request: Request, item_id: FromPath[str]) -> Response:
        await form_of(request)
        platform = request.app.state.platform
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "item", "archive")
                await service.archive(ctx, item_id, platform.archive, platform.settings.fonds_code)
        except DubanError as exc:
            return await _item_again(request, item_id, exc, "archive")
        return back_to(f"/items/{item_id}", "archive")

    @post("/items/{item_id:str}/remind")
    async def remind(self, request: Request, item_id: FromPath[str]) -> Response:
        """催办 by hand: a note to one unit or every unit still working (the API's reminders service)."""
        form = await form_of(request)
        values = {"note": text(form, "note"), "unit": text(form, "unit")}
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "item", "remind")
                note = _bounded(values["note"], 2000, "催办内容")
                if not note:
                    raise InvalidInput("请填写催办内容：要求承办单位做什么、何时前反馈")
                await reminders.remind(ctx, item_id, ReminderCreate(note, values["unit"] or None))
        except DubanError as exc:
            field = "remind_unit" if "不是本事项" in exc.message else "remind_note"
            return await _item_again(request, item_id, exc, "remind", values, field=field)
        return back_to(f"/items/{item_id}", "remind")

    @post("/items/{item_id:str}/supervise")
    async def supervise(self, request: Request, item_id: FromPath[str]) -> Response:
        """督办: a record of a written, on-site, research or joint supervision (the API's supervision service)."""
        form = await form_of(request)
        values = {k: text(form, k) for k in ("mode", "on", "people", "findings", "unit", "joint_bodies",
                                              "follow_up")}
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "item", "supervise")
                await supervision.record(ctx, item_id, _supervision_of(values, form.get("follow_up_required")))
        except DubanError as exc:
            field = next((f for words, f in _SUPERVISION_FIELDS if words in exc.message), "findings")
            return await _item_again(request, item_id, exc, "supervise", values, field=f"supervise_{field}")
        return back_to(f"/items/{item_id}", "supervise")

    @post("/items/{item_id:str}/extensions/{extension_id:str}/approve")
    async def approve_extension(self, request: Request, item_id: FromPath[str],
                                extension_id: FromPath[str]) -> Response:
        """The assigner agrees to a 延期申请 (the date asked for, or another later one)."""
        form = await form_of(request)
        values = {"new_due": text(form, "new_due"), "note": text(form, "note"), "extension": extension_id}
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "item", "decide_extension")
                try:
                    new_due = date.fromisoformat(values["new_due"]) if values["new_due"] else None
                except ValueError:
                    raise InvalidInput("请按 年-月-日 填写新的时限，或留空按申请的日期") from None
                await extensions.approve(ctx, item_id, extension_id,
                                         ExtensionApprove(new_due, _bounded(values["note"], 2000, "审批意见")))
        except DubanError as exc:
            return await _item_again(request, item_id, exc, "extension_approve", values, field="extension_new_due")
        return back_to(f"/items/{item_id}", "extension_approve")

    @post("/items/{item_id:str}/extensions/{extension_id:str}/refuse")
    async def refuse_extension(self, request: Request, item_id: FromPath[str],
                               extension_id: FromPath[str]) -> Response:
        """The assigner refuses a 延期申请, with the reason."""
        form = await form_of(request)
        values = {"reason": text(form, "reason"), "extension": extension_id}
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "item", "decide_extension")
                reason = _bounded(values["reason"], 2000, "不同意的理由")
                if not reason:
                    raise InvalidInput("请填写不同意延期的理由")
                await extensions.refuse(ctx, item_id, extension_id, reason)
        except DubanError as exc:
            return await _item_again(request, item_id, exc, "extension_refuse", values, field="extension_reason")
        return back_to(f"/items/{item_id}", "extension_refuse")

    # -- the unit's side ---------------------------------------------------------------------------------
    @get("/assignments/{assignment_id:str}")
    async def assignment(self, request: Request, ctx: Ctx, assignment_id: FromPath[str]) -> Response:
        """One assignment received: the task, its clocks, feedback, history; 签收, 反馈, 办结申请."""
        if not ctx.policy.can(ctx.actor, "assignment", "read"):
            raise NotFound(NO_ASSIGNMENT)
        ctx.policy.authorize(ctx.actor, "assignment", "read")
        return page(request, "assignment.html", **await _assignment_context(request, ctx, assignment_id))

    @post("/assignments/{assignment_id:str}/accept")
    async def accept(self, request: Request, assignment_id: FromPath[str]) -> Response:
        await form_of(request)
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "assignment", "accept")
                await service.accept(ctx, assignment_id)
        except DubanError as exc:
            return await _assignment_again(request, assignment_id, exc, "accept")
        return back_to(f"/assignments/{assignment_id}", "accept")

    @post("/assignments/{assignment_id:str}/feedback", request_max_body_size=None)
    async def feedback(self, request: Request, assignment_id: FromPath[str]) -> Response:
        """反馈 with an optional file: the file goes to the attachments service (the API's upload, streamed
        into the tenant's bucket), then the feedback claims it in the unit of work."""
        platform = request.app.state.platform
        limit = platform.settings.attachment_max_mb
        if (request.content_length or 0) > limit * 1024 * 1024 + 128 * 1024:
            return await _assignment_again(request, assignment_id, too_large(limit), "feedback", {}, field="file")
        form = await form_of(request)
        values = {"text": text(form, "text"), "kind": text(form, "kind") or "progress"}
        try:
            data = _feedback_of(values)
        except DubanError as exc:
            return await _assignment_again(request, assignment_id, exc, "feedback", values, field="text")
        upload = form.get("file")
        ids = []
        if isinstance(upload, UploadFile) and upload.filename:
            target = f"{request.method} {request.url.path}"
            try:
                await attachments.authorize_upload(platform, request.user, target)
                stored = await attachments.upload(platform, request.user,
                                                  Upload(upload.filename, _chunks(upload)), target)
            except DubanError as exc:
                return await _assignment_again(request, assignment_id, exc, "feedback", values, field="file")
            ids.append(stored.id)
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "assignment", "feedback")
                await service.add_feedback(ctx, assignment_id, msgspec.structs.replace(data, attachments=ids))
        except DubanError as exc:
            return await _assignment_again(request, assignment_id, exc, "feedback", values, field="text")
        return back_to(f"/assignments/{assignment_id}", "feedback")

    @post("/assignments/{assignment_id:str}/request-completion")
    async def request_completion(self, request: Request, assignment_id: FromPath[str]) -> Response:
        form = await form_of(request)
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "assignment", "request_completion")
                await service.request_completion(ctx, assignment_id, _bounded(text(form, "note"), 2000, "说明"))
        except DubanError as exc:
            return await _assignment_again(request, assignment_id, exc, "request_completion",
                                           {"note": text(form, "note")}, field="note")
        return back_to(f"/assignments/{assignment_id}", "request_completion")

    @post("/assignments/{assignment_id:str}/extensions")
    async def request_extension(self, request: Request, assignment_id: FromPath[str]) -> Response:
        """延期申请: before the due date, with the reason, the date needed and the progress so far."""
        form = await form_of(request)
        values = {k: text(form, k) for k in ("requested_due", "reason", "progress", "clock")}
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "assignment", "request_extension")
                await extensions.request(ctx, assignment_id, _extension_of(values))
        except DubanError as exc:
            field = "ext_reason" if "理由" in exc.message else "ext_progress" if "进展" in exc.message \
                else "ext_requested_due"
            return await _assignment_again(request, assignment_id, exc, "extension", values, field=field)
        return back_to(f"/assignments/{assignment_id}", "extension")

    @post("/assignments/{assignment_id:str}/parts")
    async def split(self, request: Request, assignment_id: FromPath[str]) -> Response:
        """分解: a part of the task for units below, with its own deadline, assigned at once."""
        form = await form_of(request)
        values = {k: text(form, k) for k in ("lead_unit", "deadline", "content")}
        co_units = [v for v in (await request.form()).getall("co_units", []) if isinstance(v, str) and v]
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "assignment", "split")
                await tree.split(ctx, assignment_id, _part_of(values, co_units))
        except DubanError as exc:
            field = "deadline" if "时限" in exc.message else "lead_unit" if "单位" in exc.message else "split"
            return await _assignment_again(request, assignment_id, exc, "split", values, field=f"split_{field}")
        return back_to(f"/assignments/{assignment_id}", "split")

    @post("/logout")
    async def logout(self, request: Request) -> Response:
        """退出: this session ends (as the API's logout)."""
        await form_of(request)
        async with unit(request) as ctx:
            ctx.policy.authorize(ctx.actor, "session", "delete")
            await AccountRepository(ctx.session, ctx.tenant).drop_session(token_hash(request.auth))
        response = Redirect("/login?why=out", status_code=303, headers=PAGE_HEADERS)
        response.delete_cookie(COOKIE, path="/")
        return response


# -- helpers of the forms ---------------------------------------------------------------------------------
_PLAN_FIELDS = ("title", "source_kind", "src_leader", "src_text", "src_date", "src_document", "division", "group",
                "deadline", "lead_unit", "content", "requirements")


def _bounded(value: str, limit: int, label: str) -> str:
    if len(value) > limit:
        raise InvalidInput(f"{label}不能超过 {limit} 个字")
    if CONTROL.search(value):
        raise InvalidInput(f"{label}含有不可见的控制字符，请删除后重试")
    return value


def _plan_of(values: dict[str, str], co_units: list[str]) -> tuple[dict[str, str], ItemCreate | None]:
    """The plan's form as the API's ItemCreate; missing or malformed fields named."""
    errors = {}
    required = {"title": "请填写事项名称", "division": "请填写责任处室", "group": "请选择督查组",
                "deadline": "请选择办结时限", "lead_unit": "请选择主办单位", "src_text": "请填写批示或交办内容"}
    if values["source_kind"] == "instruction":
        required |= {"src_leader": "请填写批示领导", "src_date": "请选择批示日期"}
    for name, message in required.items():
        if not values[name]:
            errors[name] = message
    for name in values:
        if CONTROL.search(values[name]):
            errors[name] = "含有不可见的控制字符，请删除后重试"
    dates = {}
    for name in ("deadline", "src_date"):
        if values[name] and name not in errors:
            try:
                dates[name] = date.fromisoformat(values[name])
            except ValueError:
                errors[name] = "请按 年-月-日 填写日期"
    if values["source_kind"] not in ("instruction", "other"):
        errors["source_kind"] = "请选择事项来源"
    if errors:
        return errors, None
    if values["source_kind"] == "instruction":
        source = {"leader": values["src_leader"], "instruction_text": values["src_text"],
                  "instructed_on": values["src_date"], "document": values["src_document"]}
    else:
        source = {"leader": values["src_leader"], "note": values["src_text"]}
    units = [{"unit": values["lead_unit"], "role": "lead"}] + \
        [{"unit": u, "role": "co"} for u in co_units if u != values["lead_unit"]]
    body = {"title": values["title"], "source_kind": values["source_kind"], "source": source,
            "division": values["division"], "group": values["group"], "deadline": values["deadline"],
            "units": units, "content": values["content"], "requirements": values["requirements"]}
    try:
        return {}, msgspec.convert(body, ItemCreate, strict=False)
    except msgspec.ValidationError as exc:
        where = str(exc)
        field = next((f for f in ("title", "division", "content", "requirements") if f"$.{f}" in where), "form")
        return {field: "内容过长或格式不对，请检查后重试"}, None


def _field_of(message: str) -> str:
    """Which field of the plan's form a service's message concerns."""
    for words, field in (("办结时限", "deadline"), ("承办单位", "lead_unit"), ("主办单位", "lead_unit"),
                         ("督查组", "group"), ("来源", "src_text"), ("批示", "src_date"), ("标题", "title"),
                         ("责任处室", "division")):
        if words in message:
            return field
    return "form"


def _feedback_of(values: dict[str, str]) -> FeedbackCreate:
    if not values["text"]:
        raise InvalidInput("请填写反馈内容：办理进展或结果")
    if values["kind"] not in labels.FEEDBACK_KINDS:
        raise InvalidInput("请选择反馈类型")
    return FeedbackCreate(_bounded(values["text"], 20000, "反馈内容"), values["kind"])


def _extension_of(values: dict[str, str]) -> ExtensionCreate:
    if values["clock"] not in EXTENSION_CLOCKS:
        raise InvalidInput("请选择要延期的时限")
    try:
        wanted = date.fromisoformat(values["requested_due"])
    except ValueError:
        raise InvalidInput("请选择申请延至的日期") from None
    if not values["reason"]:
        raise InvalidInput("请填写延期理由")
    return ExtensionCreate(wanted, _bounded(values["reason"], 2000, "延期理由"),
                           _bounded(values["progress"], 20000, "目前进展"), values["clock"])  # type: ignore[arg-type]


_SUPERVISION_FIELDS = (("方式", "mode"), ("日期", "on"), ("人员", "people"), ("参加单位", "joint_bodies"),
                       ("承办单位", "unit"), ("整改", "follow_up"))


def _names(value: str) -> list[str]:
    return [n.strip() for n in value.replace("，", ",").replace("、", ",").split(",") if n.strip()]


def _supervision_of(values: dict[str, str], follow: Any) -> SupervisionCreate:
    if values["mode"] not in SUPERVISION_MODES:
        raise InvalidInput("请选择督办方式")
    try:
        on = date.fromisoformat(values["on"])
    except ValueError:
        raise InvalidInput("请选择督办日期") from None
    people = _names(values["people"])
    if not people:
        raise InvalidInput("请填写督办人员（多人用逗号分隔）")
    if not values["findings"]:
        raise InvalidInput("请填写督办情况：看到了什么、发现什么问题")
    body = {"mode": values["mode"], "on": on.isoformat(), "people": people,
            "findings": _bounded(values["findings"], 20000, "督办情况"), "unit": values["unit"] or None,
            "joint_bodies": _names(values["joint_bodies"]), "follow_up_required": follow == "yes",
            "follow_up": _bounded(values["follow_up"], 20000, "整改要求")}
    try:
        return msgspec.convert(body, SupervisionCreate)
    except msgspec.ValidationError:
        raise InvalidInput("督办人员每人不超过100字、最多50人，请检查后重试") from None


def _part_of(values: dict[str, str], co_units: list[str]) -> PartCreate:
    if not values["lead_unit"]:
        raise InvalidInput("请选择分解给哪个单位（主办单位）")
    try:
        deadline = date.fromisoformat(values["deadline"])
    except ValueError:
        raise InvalidInput("请选择分解任务的办结时限") from None
    units = [{"unit": values["lead_unit"], "role": "lead"}] + \
        [{"unit": u, "role": "co"} for u in co_units if u != values["lead_unit"]]
    return msgspec.convert({"units": units, "deadline": deadline.isoformat(),
                            "content": _bounded(values["content"], 20000, "分解任务的内容")}, PartCreate)


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(256 * 1024):
        yield chunk


def _new_item_page(request: Request, ctx: TenantContext, values: dict[str, Any], errors: dict[str, str],
                   status: int = 200) -> Response:
    below = [t for t in ctx.registry.tenants if t.code != ctx.tenant and ctx.registry.is_below(t.code, ctx.tenant)]
    groups = [g for g in ctx.registry.groups if g.tenant == ctx.tenant]
    if ctx.policy.group_of(ctx.actor):  # a group member drafts only their own group's items
        groups = [g for g in groups if g.code == ctx.policy.group_of(ctx.actor)] or groups
    values = {"source_kind": "instruction", "co_units": [], **values}
    return page(request, "item_new.html", status, values=values, errors=errors, units=below, groups=groups,
                today=ctx.time.today())


async def _item_context(request: Request, ctx: TenantContext, item_id: str) -> dict[str, Any]:
    repo = ItemRepository(ctx.session, ctx.tenant)
    item = await repo.get(item_id)
    [read] = await views.item_views(ctx, [item])
    assignments = await views.assignment_views(ctx, await repo.assignments_of(item.id))
    feedback = await repo.feedback_of([a.id for a in assignments])
    files = await attachments.of_feedback(ctx.session, ctx.tenant, [f.id for f in feedback])
    history = await repo.history(service.item_ref(ctx.tenant, item.id))
    can = ctx.policy.can
    open_now = {
        "submit": read.state in ("draft", "rejected") and can(ctx.actor, "item", "submit"),
        "approve": read.state == "pending_approval" and can(ctx.actor, "item", "approve"),
        "assign": read.state == "registered" and can(ctx.actor, "item", "assign"),
        "complete": read.state == "completion_review" and can(ctx.actor, "item", "complete"),
        "archive": read.state == "completed" and can(ctx.actor, "item", "archive"),
        "remind": read.state in ("assigned", "in_progress") and can(ctx.actor, "item", "remind"),
        "supervise": read.state in WORKED_ON and can(ctx.actor, "item", "supervise"),
    }
    units = {a.unit: a for a in assignments}
    ref = service.item_ref(ctx.tenant, item.id)
    documents = []
    if can(ctx.actor, "document", "read"):
        documents = await DocumentRepository(ctx.session, ctx.tenant).of_item(item.id)
    extension_list = await ExtensionRepository(ctx.session, ctx.tenant).of_assignments([a.id for a in assignments])
    deciding = can(ctx.actor, "item", "decide_extension")
    return {"tree": await tree.item_tree(ctx, item.id) if assignments else None, "documents": documents,
            "extensions": extension_list, "extension_states": EXTENSION_STATES, "deciding": deciding,
            "supervisions": await SupervisionRepository(ctx.session, ctx.tenant).of_item(ref),
            "reminders": await ReminderRepository(ctx.session, ctx.tenant).of_assignments([a.id for a in assignments]),
            "modes": SUPERVISION_MODES, "today": ctx.time.today(), "document_kinds": DOCUMENT_KINDS,
            "units_by_id": {a.id: a.unit for a in assignments},
            "item": read, "assignments": assignments, "units": units, "feedback": feedback, "files": files,
            "history": history, "actions": {k for k, v in open_now.items() if v},
            "unit": lambda code: _unit_name(ctx, code), "who": lambda ref: _who(ctx, ref),
            "noted": lambda note: _noted(ctx, note),
            "done": DONE.get(request.query_params.get("done") or ""), "errors": {}, "values": {},
            "group": ctx.registry.group(read.group)}


async def _item_again(request: Request, item_id: str, exc: DubanError, action: str,
                      values: dict[str, str] | None = None, field: str = "") -> Response:
    """The item page again, the service's refusal next to the action's form (404 stays the 未找到 page)."""
    if exc.status_code == 404:
        raise exc
    async with reading(request) as ctx:
        context = await _item_context(request, ctx, item_id)
    context.update(errors={field or action: exc.message.split(" (")[0], "action": action}, values=values or {},
                   done=None)
    return page(request, "item.html", exc.status_code, **context)


async def _assignment_context(request: Request, ctx: TenantContext, assignment_id: str) -> dict[str, Any]:
    repo = ItemRepository(ctx.session, ctx.tenant)
    a = await repo.assignment(assignment_id)
    [read] = await views.assignment_views(ctx, [a])
    feedback = await repo.feedback_of([a.id])
    files = await attachments.of_feedback(ctx.session, ctx.tenant, [f.id for f in feedback])
    can, received = ctx.policy.can, a.unit == ctx.tenant
    open_now = {
        "accept": received and read.state == "issued" and can(ctx.actor, "assignment", "accept"),
        "feedback": received and read.state in ("accepted", "in_progress", "returned")
        and can(ctx.actor, "assignment", "feedback"),
        "request_completion": received and read.state == "in_progress"
        and can(ctx.actor, "assignment", "request_completion"),
        "split": received and read.state in tree.SPLITTABLE and can(ctx.actor, "assignment", "split"),
    }
    extension_list = await ExtensionRepository(ctx.session, ctx.tenant).of_assignments([a.id])
    open_now["extension"] = (received and read.state in ("issued", "accepted", "in_progress", "returned")
                             and can(ctx.actor, "assignment", "request_extension")
                             and not any(e.state == "pending" for e in extension_list))
    parts = await TreeRepository(ctx.session, ctx.tenant).parts_of([a.id])
    below = [t for t in ctx.registry.tenants if t.code != ctx.tenant and ctx.registry.is_below(t.code, ctx.tenant)]
    return {"a": read, "feedback": feedback, "files": files, "history": await repo.history(a.item_ref, a.id),
            "actions": {k for k, v in open_now.items() if v}, "unit": lambda code: _unit_name(ctx, code),
            "who": lambda ref: _who(ctx, ref), "done": DONE.get(request.query_params.get("done") or ""),
            "noted": lambda note: _noted(ctx, note), "errors": {}, "values": {}, "kinds": labels.FEEDBACK_KINDS,
            "max_mb": request.app.state.platform.settings.attachment_max_mb,
            "parts": await views.item_views(ctx, parts) if parts else [], "below": below,
            "extensions": extension_list, "extension_states": EXTENSION_STATES, "clock_kinds": EXTENSION_CLOCKS,
            "today": ctx.time.today(),
            "part_links": can(ctx.actor, "item", "read")}


async def _assignment_again(request: Request, assignment_id: str, exc: DubanError, action: str,
                            values: dict[str, str] | None = None, field: str = "") -> Response:
    if exc.status_code == 404 and "附件" not in exc.message:
        raise exc
    async with reading(request) as ctx:
        context = await _assignment_context(request, ctx, assignment_id)
    context.update(errors={field or action: exc.message.split(" (")[0], "action": action}, values=values or {},
                   done=None)
    return page(request, "assignment.html", exc.status_code, **context)


# -- the router: pages and their own static files, none of them in the OpenAPI document ----------------------
static = create_static_files_router(path="/static", directories=[HERE / "static"], include_in_schema=False,
                                    name="static", cache_control=CacheControlHeader(max_age=3600))


def template_config() -> TemplateConfig:
    """The pages' templates (app.py): autoescaped Jinja, with the labels as filters."""
    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine,
                          engine_callback=lambda engine: engine.engine.filters.update(labels.FILTERS))

pages_router = Router(
    path="/", route_handlers=[root, login_form, login, PageController, DashboardController, InboxPageController,
                              AccountPageController, QueuePageController],
    include_in_schema=False,
    exception_handlers={NotAuthorizedException: to_login, DubanError: duban_error, HTTPException: http_error,
                        HTTP_500_INTERNAL_SERVER_ERROR: unexpected},
)
