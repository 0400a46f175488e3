"""What every page shares: its headers, the header bar's context (tenant, user, roles, the forms' token),
the error pages, the way back to the login page, and the unit of work a form's action runs in."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect, Template

from duban.accounts.service import _SCOPE_ALLOWS, ENROLL, PASSWORD
from duban.auth import COOKIE
from duban.context import TenantContext
from duban.deps import provide_ctx
from duban.errors import DubanError
from duban.pages import csrf
from duban.policy.policy import Actor

log = logging.getLogger("duban.pages")

# Pages load only the app's own script and style; nothing inline, no other origin; never cached.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}
HOME = "/home"
NOT_FOUND_TITLE = "未找到"
# A restricted session's refusal (accounts/service.py) → the page where it does what it must first.
RESTRICTED = {_SCOPE_ALLOWS[PASSWORD][1]: "/account/password?why=temp", _SCOPE_ALLOWS[ENROLL][1]: "/account/totp"}


def safe_next(target: str | None) -> str:
    """Where to go after login: a path of this site only (never another host)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or target.startswith("/api"):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return HOME
    return target


def header(request: Request) -> dict[str, Any]:
    """The header bar: who is signed in, where, with which roles; the forms' CSRF token."""
    actor = request.scope.get("user")
    if not isinstance(actor, Actor):
        return {"me": None, "path": request.url.path}
    platform = request.app.state.platform
    tenant = platform.registry.get(actor.tenant)
    return {"me": {"tenant": actor.tenant, "tenant_name": tenant.name if tenant else actor.tenant,
                   "username": actor.username, "name": actor.display_name or actor.username,
                   "roles": platform.policy.roles_of(actor)},
            "csrf": csrf.token_for(request.auth) if isinstance(request.auth, str) else "",
            "path": request.url.path}


def page(request: Request, name: str, status: int = 200, **context: Any) -> Template:
    return Template(template_name=name, context={**header(request), **context}, status_code=status,
                    headers=PAGE_HEADERS)


def back_to(path: str, done: str | None = None) -> Redirect:
    """After a form's action: the page again (a GET), saying what was done."""
    return Redirect(path + (f"?done={quote(done)}" if done else ""), status_code=303, headers=PAGE_HEADERS)


# -- errors ------------------------------------------------------------------------------------------
def to_login(request: Request, exc: NotAuthorizedException) -> Response:
    """Not signed in, or the session ended: the login page, then back to the page asked for."""
    if request.method in ("GET", "HEAD"):
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:  # a form's action: back to the page it was sent from
        wanted = request.url.path.rsplit("/", 1)[0]
    why = "expired" if request.cookies.get(COOKIE) else "login"
    target = f"/login?next={quote(safe_next(wanted), safe='/')}&why={why}"
    if request.headers.get("hx-request") == "true":  # an htmx update of a part of a page: the whole page goes
        response: Response = Response(None, status_code=204, headers={**PAGE_HEADERS, "HX-Redirect": target})
    else:
        response = Redirect(target, status_code=303, headers=PAGE_HEADERS)
    if why == "expired":
        response.delete_cookie(COOKIE, path="/")
    return response


def duban_error(request: Request, exc: DubanError) -> Response:
    restricted = RESTRICTED.get(exc.message) if exc.status_code == 403 else None
    if restricted and request.url.path != restricted:  # a restricted session: to the page it must use first
        if request.headers.get("hx-request") == "true":
            return Response(None, status_code=204, headers={**PAGE_HEADERS, "HX-Redirect": restricted})
        return Redirect(restricted, status_code=303, headers=PAGE_HEADERS)
    title = {404: NOT_FOUND_TITLE, 403: "无权操作", 409: "当前状态不允许此操作", 413: "文件过大",
             429: "操作过于频繁"}.get(exc.status_code, "请求有误")
    message = "您要找的事项或页面不存在，或您无权查看。" if exc.status_code == 404 else exc.message
    return page(request, "error.html", exc.status_code, title=title, message=message)


def http_error(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    title = NOT_FOUND_TITLE if status == 404 else "请求有误" if status < 500 else "服务暂不可用"
    message = "您要找的页面不存在。" if status == 404 else str(exc.detail)
    return page(request, "error.html", status, title=title, message=message)


def unexpected(request: Request, exc: Exception) -> Response:
    request_id = uuid.uuid4().hex[:12]
    log.error("unexpected error %s on page %s %s", request_id, request.method, request.url.path, exc_info=exc)
    return page(request, "error.html", 500, title="系统出错",
                message=f"服务器内部错误（编号 {request_id}），已记录。请稍后重试，或将编号告知管理员。")


# -- a form's action -----------------------------------------------------------------------------------
async def form_of(request: Request) -> dict[str, Any]:
    """The form, its CSRF token checked (403 otherwise)."""
    form = {k: v for k, v in (await request.form()).items()}
    csrf.check(request, {k: v for k, v in form.items() if isinstance(v, str)})
    return form


def text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


@asynccontextmanager
async def unit(request: Request) -> AsyncIterator[TenantContext]:
    """The unit of work of a form's action: exactly the API's (``deps.provide_ctx``): one transaction in the
    caller's tenant, the write audited in it, a refusal audited on its own, committed at the end of the
    block (then the node sends its new events). An error rolls everything back and comes out of the block,
    so the page can show it next to its field."""
    steps = provide_ctx(request)
    ctx = await anext(steps)
    try:
        yield ctx
    except BaseException as exc:
        await steps.athrow(exc)  # rolls back (and audits a refusal), then raises it again
        raise
    try:
        await anext(steps)
    except StopAsyncIteration:
        pass


@asynccontextmanager
async def reading(request: Request) -> AsyncIterator[TenantContext]:
    """A read-only unit for a page shown again after a form's error (its own transaction was rolled back)."""
    platform = request.app.state.platform
    actor: Actor = request.user
    async with platform.db.transaction(actor.tenant, snapshot=True) as session:
        yield TenantContext(actor.tenant, session, actor, platform.registry, platform.policy, platform.calendar,
                            platform.time)
