"""Bearer-token (or cookie) authentication: the token names its tenant; the session lives there."""

from __future__ import annotations

from datetime import timedelta

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from duban.accounts.repository import AccountRepository
from duban.accounts.service import authenticate, tenant_of_token
from duban.errors import NotAuthenticated

COOKIE = "duban_session"
PUBLIC = ["^/api/login$", "^/schema", "^/health$"]


class TokenAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            token = connection.cookies.get(COOKIE, "")
        if not token:
            raise NotAuthorizedException("请先登录 (log in first: Authorization: Bearer <token>)")
        platform = connection.app.state.platform
        try:
            tenant = tenant_of_token(token.strip())
            if tenant not in platform.tenants:
                raise NotAuthenticated("登录凭证无效 (unknown tenant in token)")
            idle = platform.settings.session_idle_minutes
            async with platform.db.transaction(tenant) as session:
                actor = await authenticate(AccountRepository(session, tenant), token.strip(), platform.time.now(),
                                           timedelta(minutes=idle) if idle else None)
        except NotAuthenticated as exc:
            raise NotAuthorizedException(exc.message) from exc
        return AuthenticationResult(user=actor, auth=token)
