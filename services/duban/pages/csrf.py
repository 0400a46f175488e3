"""CSRF protection of every page form.

A signed-in form carries a token derived from the session token (HMAC-SHA256 keyed by it): the session
token sits in an HttpOnly cookie no other site can read, so no other site can compute the form's token.
The login form, before there is a session, uses a double-submit cookie: a random value in an HttpOnly,
SameSite=Strict cookie that the form must repeat. The JSON API is untouched (a bearer token is no
ambient credential; its cookie is SameSite=Strict)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from litestar import Request

from duban.errors import Forbidden

FIELD = "csrf_token"
LOGIN_COOKIE = "duban_login_csrf"
EXPIRED = "页面已过期或来源不明，请刷新页面后重试 (the form's CSRF token is missing or wrong: reload the page)"


def token_for(session_token: str) -> str:
    """The forms' token of one session."""
    return hmac.new(session_token.encode(), b"duban-page-forms", hashlib.sha256).hexdigest()


def check(request: Request, form: dict[str, str]) -> None:
    """Refuse (403) a signed-in form whose token is not the session's."""
    sent = form.get(FIELD, "")
    if not isinstance(request.auth, str) or not hmac.compare_digest(sent.encode(), token_for(request.auth).encode()):
        raise Forbidden(EXPIRED)


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def check_login(request: Request, form: dict[str, str]) -> None:
    """Refuse (403) a login form that does not repeat its cookie."""
    cookie, sent = request.cookies.get(LOGIN_COOKIE, ""), form.get(FIELD, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise Forbidden(EXPIRED)
