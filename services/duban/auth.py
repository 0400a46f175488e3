"""Bearer-token (or cookie) authentication: the token names its tenant; the session lives there.

Every request's session is checked in a read-only transaction (it takes no write lock). A read request
then works in that same transaction (``deps.provide_ctx`` takes it from the scope): one transaction per
page. Only when something is due to be written — the session's last use is more than a minute old
(``TOUCH_EVERY``), or it has been idle too long and ends — is the check done again in a write transaction
of its own, before the work."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import datetime, timedelta

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware._utils import should_bypass_middleware
from litestar.types import Receive, Scope, Send

from duban.accounts.repository import AccountRepository
from duban.accounts.service import (
    SESSION_IDLE,
    SessionState,
    authenticate,
    check_scope,
    session_state,
    tenant_of_token,
)
from duban.errors import NotAuthenticated
from duban.policy.policy import Actor

COOKIE = "duban_session"
PUBLIC = ["^/api/login$", "^/schema", "^/health$", "^/ready$", "^/metrics$"]  # /metrics: its own token
PUBLIC += ["^/$", "^/login$", "^/static/"]  # the web pages' way in (pages/): a browser is sent to /login
READS = ("GET", "HEAD", "OPTIONS")
READ_SESSION = "duban.read_session"  # scope key: a read request's open read-only session


class SeenSessions:
    """Sessions this node process found valid a moment ago, so that a burst of reads by one user checks
    the session in the database once, not once per request.

    An entry serves read requests only, for ``seconds`` of the node's time after its check, and only while
    its use needs nothing written (see ``SessionState.needs_write``). Every write request to a tenant —
    a logout, a password change or reset, a user disabled, anything — forgets that tenant's entries when it
    ends, after its commit: a generation number per tenant, taken before a check's read, keeps a check
    that began before such a write from storing what it read. Sessions ended by another process (a second
    ``duban serve``) are refused here within ``seconds``; 0 turns the cache off."""

    CAP = 100_000

    def __init__(self, seconds: float) -> None:
        self.ttl = timedelta(seconds=seconds)
        self._entries: dict[str, tuple[SessionState, datetime, int]] = {}
        self._generations: dict[str, int] = {}

    def generation(self, tenant: str) -> int:
        return self._generations.get(tenant, 0)

    def changed(self, tenant: str) -> None:
        self._generations[tenant] = self.generation(tenant) + 1

    def get(self, tenant: str, token: str, now: datetime) -> SessionState | None:
        found = self._entries.get(token)
        if found is None:
            return None
        state, checked, generation = found
        if generation != self.generation(tenant) or not checked <= now < checked + self.ttl:
            del self._entries[token]
            return None
        return state

    def put(self, tenant: str, token: str, state: SessionState, now: datetime, generation: int) -> None:
        if not self.ttl or generation != self.generation(tenant):
            return
        if len(self._entries) >= self.CAP:
            self._entries.pop(next(iter(self._entries)))
        self._entries[token] = (state, now, generation)


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
            try:
                await self.app(scope, receive, send)
            finally:
                if scope["method"] not in READS:  # it may have ended sessions (logout, reset…): check again
                    scope["app"].state.platform.seen_sessions.changed(actor.tenant)

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
        seen: SeenSessions = platform.seen_sessions
        if reading and (state := seen.get(tenant, token, now)) is not None:
            check_scope(state.scope, scope["method"], scope["path"])
            # The page's read transaction, as below (its connection is taken at its first statement).
            scope[READ_SESSION] = await stack.enter_async_context(platform.db.transaction(tenant, snapshot=True))
            return state.actor, token
        generation = seen.generation(tenant)
        session = await stack.enter_async_context(platform.db.transaction(tenant, snapshot=True))
        state = await session_state(AccountRepository(session, tenant), token, now, idle)
        check_scope(state.scope, scope["method"], scope["path"])  # a restricted session: reset, or not enrolled
        if not state.needs_write:
            seen.put(tenant, token, state, now, generation)
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
