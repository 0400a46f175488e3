"""Security headers on every response: no sniffing, no framing, no referrer; API answers are never
cached and may not load or run anything (a JSON body has no business doing so)."""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
API = [
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]


def security_headers(app: ASGIApp) -> ASGIApp:
    """ASGI middleware adding the headers (those a handler set itself are kept)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        extra = COMMON + (API if scope["path"].startswith("/api") else [])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *((n, v) for n, v in extra if n not in present)]}
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
