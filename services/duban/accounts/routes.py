"""Log in, log out, who am I."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post

from duban.accounts.repository import AccountRepository
from duban.accounts.schemas import LoginCreate, LoginRead, MeRead
from duban.accounts.service import sign_in, token_hash
from duban.auth import COOKIE
from duban.web import Ctx, JSONBody, Node


class AccountController(Controller):
    path = "/api"
    tags = ["accounts"]

    @post("/login", status_code=200)
    async def login(self, request: Request, data: JSONBody[LoginCreate], platform: Node) -> Response[LoginRead]:
        """Log in to one tenant; answers a bearer token (also set as a cookie). Throttled per account and
        per client address (429 with ``retry_after``)."""
        address = request.client.host if request.client else "?"
        result = await sign_in(platform.db, platform.policy, platform.login_throttle, data.tenant, data.username,
                               data.password, address, platform.time.now(), platform.settings.session_hours)
        body = LoginRead(result.token, data.tenant, result.actor.username, result.actor.display_name,
                         result.roles, result.expires_at)
        response = Response(body)
        response.set_cookie(COOKIE, result.token, httponly=True, samesite="strict",
                            max_age=platform.settings.session_hours * 3600)
        return response

    @post("/logout", status_code=204)
    async def logout(self, request: Request, ctx: Ctx) -> None:
        """End this session."""
        ctx.policy.authorize(ctx.actor, "session", "delete")
        await AccountRepository(ctx.session, ctx.tenant).drop_session(token_hash(request.auth))

    @get("/me")
    async def me(self, ctx: Ctx) -> MeRead:
        """The logged-in user and their roles."""
        ctx.policy.authorize(ctx.actor, "session", "read")
        tenant = ctx.registry.get(ctx.tenant)
        return MeRead(ctx.tenant, tenant.name if tenant else ctx.tenant, ctx.actor.username,
                      ctx.actor.display_name, ctx.policy.roles_of(ctx.actor), ctx.policy.group_of(ctx.actor))
