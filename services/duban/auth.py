"""Bearer-token (or cookie) authentication: the token names its tenant; the session lives there.

Every request's session is checked in a read-only transaction (it takes no write lock). A read request
then works in that same transaction (``deps.provide_ctx`` takes it from the scope): one transaction per
page. Only when something is due to be written — the session's last use is more than a minute old
(``TOUCH_EVERY``), or it has been idle too long and ends — is the check done again in a write transaction
of its own, before the work."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import timedelta

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware._utils import should_bypass_middleware
from litestar.types import Receive, Scope, Send

from duban.accounts.repository import AccountRepository
from duban.accounts.service import SESSION_IDLE, authenticate, session_state, tenant_of_token
from duban.errors import NotAuthenticated
from duban.policy.policy import Actor

COOKIE = "duban_session"
PUBLIC = ["^/api/login$", "^/schema", "^/health$"]
READS = ("GET", "HEAD", "OPTIONS")
READ_SESSION = "duban.read_session"  # scope key: a read request's open read-only session


class TokenAuthentication(AbstractAuthenticationMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if should_bypass_middleware(exclude_http_methods=self.exclude_http_methods,
                                    exclude_opt_key=self.exclude_opt_key, exclude_path_pattern=self.exclude,
                                    scope=scope, scopes=self.scopes):
            await self.app(scope, receive, send)
            return
        async with AsyncExitStack() as stack:  # a read request's transaction, open until the answer is sent
            try:
                actor, token = await self._authenticate(scope, stack)
            except NotAuthenticated as exc:
                raise NotAuthorizedException(exc.message) from exc
            scope["user"], scope["auth"] = actor, token
            await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope, stack: AsyncExitStack) -> tuple[Actor, str]:
        connection = ASGIConnection(scope)
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            token = connection.cookies.get(COOKIE, "")
        token = token.strip()
        if not token:
            raise NotAuthenticated("请先登录 (log in first: Authorization: Bearer <token>)")
        platform = connection.app.state.platform
        tenant = tenant_of_token(token)
        if tenant not in platform.tenants:
            raise NotAuthenticated("登录凭证无效 (unknown tenant in token)")
        minutes = platform.settings.session_idle_minutes
        idle, now = timedelta(minutes=minutes) if minutes else None, platform.time.now()
        reading = scope["method"] in READS
        session = await stack.enter_async_context(platform.db.transaction(tenant, snapshot=True))
        state = await session_state(AccountRepository(session, tenant), token, now, idle)
        actor = state.actor
        if state.needs_write or not reading:
            await session.close()  # its connection goes back before another is taken
        if state.needs_write:
            async with platform.db.transaction(tenant) as writing:
                actor = await authenticate(AccountRepository(writing, tenant), token, now, idle)
            if actor is None:  # idle too long: the session has been deleted
                raise NotAuthenticated(SESSION_IDLE)
            if reading:
                session = await stack.enter_async_context(platform.db.transaction(tenant, snapshot=True))
        if reading:
            scope[READ_SESSION] = session  # type: ignore[literal-required]
        return actor, token

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        raise NotImplementedError("TokenAuthentication.__call__ authenticates")  # pragma: no cover
