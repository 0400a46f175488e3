"""Log in, log out (here or everywhere), who am I; one's own password and second factor; a tenant
administrator's management of the tenant's users (policy object ``users``)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post, put

from duban.accounts import manage
from duban.accounts.repository import AccountRepository
from duban.accounts.schemas import (
    EnrollmentConfirm,
    EnrollmentRead,
    LoginCreate,
    LoginRead,
    MeRead,
    PasswordChange,
    RecoveryCodesRead,
    RolesUpdate,
    TemporaryPasswordRead,
    UserCreate,
    UserRead,
)
from duban.accounts.service import ENROLL, PASSWORD, sign_in, token_hash
from duban.auth import COOKIE
from duban.errors import Forbidden
from duban.settings import Settings
from duban.web import Ctx, FromPath, JSONBody, Node


def over_tls(request: Request, settings: Settings) -> bool:
    """Did the client reach us over https (directly, or through a trusted proxy that says so)?"""
    if request.url.scheme == "https":
        return True
    address = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return address in settings.trusted_proxies and forwarded == "https"


class AccountController(Controller):
    path = "/api"
    tags = ["accounts"]

    @post("/login", status_code=200)
    async def login(self, request: Request, data: JSONBody[LoginCreate], platform: Node) -> Response[LoginRead]:
        """Log in to one tenant; answers a bearer token (also set as a cookie: HttpOnly, SameSite=Strict,
        Secure over https). Approvers and administrators also send their TOTP code (``totp``) or a
        recovery code. Throttled per account and per client address (429 with ``retry_after``)."""
        address = request.client.host if request.client else "?"
        settings = platform.settings
        result = await sign_in(platform.db, platform.policy, platform.login_throttle, data.tenant, data.username,
                               data.password, address, platform.time.now(), settings.session_hours, totp=data.totp,
                               recovery_code=data.recovery_code, second_factor_roles=settings.second_factor_roles)
        body = LoginRead(result.token, data.tenant, result.actor.username, result.actor.display_name,
                         result.roles, result.expires_at, result.scope == PASSWORD, result.scope == ENROLL)
        response = Response(body)
        response.set_cookie(COOKIE, result.token, httponly=True, samesite="strict", path="/",
                            secure=over_tls(request, settings), max_age=settings.session_hours * 3600)
        return response

    @post("/logout", status_code=204)
    async def logout(self, request: Request, ctx: Ctx) -> Response[None]:
        """End this session."""
        ctx.policy.authorize(ctx.actor, "session", "delete")
        await AccountRepository(ctx.session, ctx.tenant).drop_session(token_hash(request.auth))
        response = Response(None, status_code=204)
        response.delete_cookie(COOKIE, path="/")
        return response

    @post("/logout/all", status_code=204)
    async def logout_everywhere(self, request: Request, ctx: Ctx) -> Response[None]:
        """End every session of the logged-in user (this one included), on every device."""
        ctx.policy.authorize(ctx.actor, "session", "delete")
        await manage.log_out_everywhere(AccountRepository(ctx.session, ctx.tenant), ctx.actor, request.auth,
                                        ctx.time.now())
        response = Response(None, status_code=204)
        response.delete_cookie(COOKIE, path="/")
        return response

    @get("/me")
    async def me(self, ctx: Ctx) -> MeRead:
        """The logged-in user and their roles."""
        ctx.policy.authorize(ctx.actor, "session", "read")
        tenant = ctx.registry.get(ctx.tenant)
        return MeRead(ctx.tenant, tenant.name if tenant else ctx.tenant, ctx.actor.username,
                      ctx.actor.display_name, ctx.policy.roles_of(ctx.actor), ctx.policy.group_of(ctx.actor))

    @post("/account/password", status_code=204)
    async def change_password(self, request: Request, data: JSONBody[PasswordChange], ctx: Ctx,
                              platform: Node) -> None:
        """Change one's own password: the current one is required, the new one must be strong enough
        (10+ characters, three kinds of character). The user's other sessions end; this one stays."""
        ctx.policy.authorize(ctx.actor, "account", "update")
        now, throttle = ctx.time.now(), platform.login_throttle
        address = request.client.host if request.client else "?"
        throttle.check(ctx.tenant, ctx.actor.username, address, now)  # a paused account cannot guess here either
        try:
            await manage.change_password(AccountRepository(ctx.session, ctx.tenant), ctx.actor, request.auth,
                                         data.old_password, data.new_password, platform.settings.password_cost, now,
                                         platform.settings.second_factor_roles)
        except Forbidden:
            throttle.failed(ctx.tenant, ctx.actor.username, now)  # a wrong current password counts
            raise

    @post("/account/totp", status_code=200)
    async def start_enrollment(self, request: Request, ctx: Ctx) -> EnrollmentRead:
        """Start enrolling a second factor: a new TOTP secret and its otpauth:// URI for an authenticator
        app. Confirm with the app's code (``/api/account/totp/confirm``)."""
        ctx.policy.authorize(ctx.actor, "account", "update")
        secret, uri = await manage.start_enrollment(AccountRepository(ctx.session, ctx.tenant), ctx.actor,
                                                    request.auth)
        return EnrollmentRead(secret, uri)

    @post("/account/totp/confirm", status_code=200)
    async def confirm_enrollment(self, request: Request, data: JSONBody[EnrollmentConfirm],
                                 ctx: Ctx) -> RecoveryCodesRead:
        """Confirm the second factor with the app's current code; answers 10 one-time recovery codes, shown
        only now. From now on every login needs a code."""
        ctx.policy.authorize(ctx.actor, "account", "update")
        codes = await manage.confirm_enrollment(AccountRepository(ctx.session, ctx.tenant), ctx.actor, request.auth,
                                                data.code, ctx.time.now())
        return RecoveryCodesRead(codes)

    # -- the tenant administrator ------------------------------------------------------------------------
    @get("/users", tags=["users"])
    async def list_users(self, ctx: Ctx) -> list[UserRead]:
        """The tenant's users, their roles and account state."""
        ctx.policy.authorize(ctx.actor, "users", "read")
        return await manage.list_users(AccountRepository(ctx.session, ctx.tenant))

    @post("/users", status_code=201, tags=["users"])
    async def create_user(self, data: JSONBody[UserCreate], ctx: Ctx, platform: Node) -> TemporaryPasswordRead:
        """Create a user of this tenant; answers a temporary password (shown once), to be changed at the
        first login."""
        ctx.policy.authorize(ctx.actor, "users", "create")
        password = await manage.create(AccountRepository(ctx.session, ctx.tenant), ctx.policy, ctx.registry,
                                       ctx.actor, data.username, data.display_name, data.roles, data.email, data.group,
                                       platform.settings.password_cost, ctx.time.now())
        return TemporaryPasswordRead(data.username, password)

    @put("/users/{username:str}/roles", tags=["users"])
    async def change_roles(self, username: FromPath[str], data: JSONBody[RolesUpdate], ctx: Ctx,
                           platform: Node) -> list[str]:
        """Replace a user's roles."""
        ctx.policy.authorize(ctx.actor, "users", "change")
        return await manage.change_roles(AccountRepository(ctx.session, ctx.tenant), ctx.policy, ctx.registry,
                                         ctx.actor, username, data.roles, ctx.time.now(),
                                         platform.settings.second_factor_roles)

    @post("/users/{username:str}/disable", status_code=204, tags=["users"])
    async def disable(self, username: FromPath[str], ctx: Ctx) -> None:
        """Disable a user: their sessions end and they cannot log in."""
        ctx.policy.authorize(ctx.actor, "users", "change")
        await manage.set_active(AccountRepository(ctx.session, ctx.tenant), ctx.actor, username, False,
                                ctx.time.now())

    @post("/users/{username:str}/enable", status_code=204, tags=["users"])
    async def enable(self, username: FromPath[str], ctx: Ctx) -> None:
        """Enable a disabled user again."""
        ctx.policy.authorize(ctx.actor, "users", "change")
        await manage.set_active(AccountRepository(ctx.session, ctx.tenant), ctx.actor, username, True,
                                ctx.time.now())

    @post("/users/{username:str}/password-reset", status_code=200, tags=["users"])
    async def reset_password(self, username: FromPath[str], ctx: Ctx, platform: Node) -> TemporaryPasswordRead:
        """Give a user a temporary password (shown once): all their sessions end, and their next login may
        only change it."""
        ctx.policy.authorize(ctx.actor, "users", "reset")
        password = await manage.reset_password(AccountRepository(ctx.session, ctx.tenant), ctx.actor, username,
                                               platform.settings.password_cost, ctx.time.now())
        return TemporaryPasswordRead(username, password)

    @post("/users/{username:str}/second-factor-reset", status_code=204, tags=["users"])
    async def reset_second_factor(self, username: FromPath[str], ctx: Ctx) -> None:
        """Forget a user's second factor (lost phone and codes): all their sessions end; they enroll again
        at the next login."""
        ctx.policy.authorize(ctx.actor, "users", "reset")
        await manage.reset_second_factor(AccountRepository(ctx.session, ctx.tenant), ctx.actor, username,
                                         ctx.time.now())
