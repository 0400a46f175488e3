"""The user's own account: 修改密码 and 绑定动态口令 (TOTP enrolment), through the API's account services
(accounts/manage.py) under the same ``authorize`` (``account``/``update``). A restricted session — a temporary
password to change, or a role that needs a second factor not enrolled yet — is sent here by the error page
(render.py) instead of being shown 无权操作."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect

from duban.accounts import manage
from duban.accounts.repository import AccountRepository
from duban.errors import DubanError, Forbidden, InvalidInput
from duban.pages.render import HOME, PAGE_HEADERS, form_of, page, unit
from duban.web import Ctx

PASSWORD_PAGE, TOTP_PAGE = "/account/password", "/account/totp"


def _said(exc: DubanError) -> str:
    return exc.message.split(" (")[0]


class AccountPageController(Controller):
    path = "/"
    include_in_schema = False

    @get(PASSWORD_PAGE)
    async def password_form(self, request: Request, ctx: Ctx) -> Response:
        """修改密码."""
        ctx.policy.authorize(ctx.actor, "account", "update")
        return page(request, "account_password.html", errors={}, forced=request.query_params.get("why") == "temp")

    @post(PASSWORD_PAGE, request_max_body_size=64 * 1024)
    async def change_password(self, request: Request) -> Response:
        form = await form_of(request)
        old, new, again = (form.get(k) if isinstance(form.get(k), str) else "" for k in ("old", "new", "again"))
        errors: dict[str, str] = {}
        if not old:
            errors["old"] = "请输入原密码"
        if not new:
            errors["new"] = "请输入新密码"
        elif new != again:
            errors["again"] = "两次输入的新密码不一致"
        elif len(new) > 200:
            errors["new"] = "新密码不能超过 200 个字符"
        platform = request.app.state.platform
        address = request.client.host if request.client else "?"
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "account", "update")
                if errors:
                    raise InvalidInput("表单有误，请按提示修改")  # nothing is written; the fields say what
                now, throttle = ctx.time.now(), platform.login_throttle
                throttle.check(ctx.tenant, ctx.actor.username, address, now)
                try:
                    await manage.change_password(AccountRepository(ctx.session, ctx.tenant), ctx.actor,
                                                 request.auth, old, new, platform.settings.password_cost, now,
                                                 platform.settings.second_factor_roles)
                except Forbidden:
                    throttle.failed(ctx.tenant, ctx.actor.username, now)
                    raise
        except Forbidden as exc:
            if "原密码" not in exc.message:
                raise
            errors["old"] = "原密码错误"
        except InvalidInput as exc:
            errors = errors or {"new": _said(exc)}
        except DubanError as exc:
            errors["form"] = _said(exc)
        if errors:
            return page(request, "account_password.html", 400, errors=errors, forced=False)
        # The other sessions have ended; this one goes on (to the enrolment first, if its role needs it).
        return Redirect(f"{HOME}?done=password", status_code=303, headers=PAGE_HEADERS)

    @get(TOTP_PAGE)
    async def totp_form(self, request: Request, ctx: Ctx) -> Response:
        """绑定动态口令: start."""
        ctx.policy.authorize(ctx.actor, "account", "update")
        return page(request, "account_totp.html", step="start", errors={})

    @post(TOTP_PAGE)
    async def totp_start(self, request: Request) -> Response:
        """A new secret for the authenticator app, shown once here, to confirm with the app's code."""
        await form_of(request)
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "account", "update")
                secret, uri = await manage.start_enrollment(AccountRepository(ctx.session, ctx.tenant), ctx.actor,
                                                            request.auth)
        except DubanError as exc:
            if exc.status_code != 409:
                raise
            return page(request, "account_totp.html", exc.status_code, step="start", errors={"form": _said(exc)})
        return page(request, "account_totp.html", step="confirm", secret=secret, uri=uri, errors={})

    @post(f"{TOTP_PAGE}/confirm")
    async def totp_confirm(self, request: Request) -> Response:
        form = await form_of(request)
        code = form.get("code") if isinstance(form.get("code"), str) else ""
        secret = form.get("secret") if isinstance(form.get("secret"), str) else ""
        code = code.strip().replace(" ", "")
        shown = {"secret": secret, "uri": ""}
        if not (code.isdigit() and len(code) == 6):
            return page(request, "account_totp.html", 400, step="confirm",
                        errors={"code": "请输入身份验证器上的6位动态口令"}, **shown)
        try:
            async with unit(request) as ctx:
                ctx.policy.authorize(ctx.actor, "account", "update")
                codes = await manage.confirm_enrollment(AccountRepository(ctx.session, ctx.tenant), ctx.actor,
                                                        request.auth, code, ctx.time.now())
        except DubanError as exc:
            if exc.status_code not in (400, 409):
                raise
            step = "confirm" if exc.status_code == 400 else "start"
            return page(request, "account_totp.html", exc.status_code, step=step, errors={"code": _said(exc)},
                        **shown)
        return page(request, "account_totp.html", step="done", codes=codes, errors={})
