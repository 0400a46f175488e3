"""Security headers on every response: no sniffing, no framing, no referrer; API answers are never
cached and may not load or run anything (a JSON body has no business doing so); /schema's plain page
runs no script either. And what a request carries is bounded and screened before a route sees it: more
or larger headers than any client sends answer 431, an over-long address 414, control characters in the
path or the query (or a query that is not UTF-8) 400; every string of a JSON body is screened for control
characters and blankness (``screen_body``, 400 naming the field)."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_to_bytes

import msgspec
from litestar import Request
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from duban.errors import InvalidInput

COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
API = [
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]
SCHEMA = [(b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")]
MAX_HEADERS = 100  # a browser sends about 20
MAX_HEADER_BYTES = 16 * 1024  # all names and values together (a bearer token is 50 bytes, a cookie more)
MAX_PATH = 1024  # the longest route with two ids is under 200 characters
MAX_QUERY = 8 * 1024  # every filter of a list, a cursor and a search word fit many times over
TOO_LARGE = (f"请求头过大或过多（上限 {MAX_HEADERS} 个、共 {MAX_HEADER_BYTES // 1024} KB）"
             f" (request headers too large: at most {MAX_HEADERS}, {MAX_HEADER_BYTES // 1024} KiB in all)")


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not tab, newline or carriage return
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _refusal(status: int, detail: str) -> tuple[Message, Message]:
    # The connection is closed after it: what came with such a request is not worth reading on.
    body = json.dumps({"status_code": status, "detail": detail}, ensure_ascii=False).encode()
    return ({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"), *API, *COMMON]},
            {"type": "http.response.body", "body": body})


QUERY_LABELS = {"q": "搜索词", "state": "状态", "unit": "单位", "group": "督查组", "leader": "领导",
                "cursor": "分页游标"}


def _address_refused(scope: Scope) -> tuple[int, str] | None:
    """Why the path or the query string cannot be taken: longer than any the platform makes, control
    characters (NUL and the like, which no id, code or search word holds and which PostgreSQL refuses),
    or bytes that are not UTF-8."""
    raw = scope.get("query_string", b"") or b""
    if len(scope["path"]) > MAX_PATH or len(raw) > MAX_QUERY:
        return 414, (f"地址过长（路径至多 {MAX_PATH} 个字符，查询至多 {MAX_QUERY} 字节） "
                     f"(URI too long: path at most {MAX_PATH} characters, query at most {MAX_QUERY} bytes)")
    if CONTROL.search(scope["path"]):
        return 400, "地址含有不可见的控制字符 (the path holds control characters)"
    for pair in raw.split(b"&"):
        name, _, value = (unquote_to_bytes(part.replace(b"+", b" ")) for part in pair.partition(b"="))
        try:
            label = QUERY_LABELS.get(name.decode(), f"查询参数 {name.decode()}")
            value.decode()
        except UnicodeDecodeError:
            return 400, "查询参数不是有效的 UTF-8 文本 (the query is not valid UTF-8)"
        if CONTROL_BYTES.search(name) or CONTROL_BYTES.search(value):
            return 400, f"{label}含有不可见的控制字符 ({name.decode()!r} holds control characters)"
    return None


LABELS = {"title": "标题", "content": "交办内容", "requirements": "办理要求", "division": "责任处室",
          "text": "反馈内容", "reason": "理由", "note": "说明"}


# Routes whose service checks every string itself and names where (a meeting's agreed list: "议定事项第3项";
# its entries' sources through items.service._check_source).
OWN_CHECKS = {("POST", "/api/meetings")}


async def screen_body(request: Request) -> None:
    """``before_request``: every string of a JSON body (every field, at any depth, ``source`` too) holds
    no control characters, and none is blank but for spaces. Bodies that cannot be read are left to the
    route's own decoding, which answers 400; uploads (no ``data``) are streamed and not read here."""
    if "data" not in request.route_handler.parsed_fn_signature.parameters or \
            (request.method, request.scope["path"].rstrip("/")) in OWN_CHECKS:
        return
    body = await request.body()  # kept for the route; over the route's size limit: 413
    if not body.strip():
        return
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return
    stack: list[tuple[str, object]] = [("", document)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{where}.{k}" if where else str(k), v) for k, v in value.items())
            stack.extend((where or "(key)", k) for k in value)
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, str):
            label = LABELS.get(where, where or "请求内容")
            if CONTROL.search(value):
                raise InvalidInput(f"{label}含有不可见的控制字符，请删除后重试 "
                                   f"({where or 'the body'} holds control characters)")
            if value and not value.strip():
                raise InvalidInput(f"{label}不能为空，不能只有空格 ({where or 'the body'} is blank)")


def _headers_too_large(scope: Scope) -> bool:
    headers = scope.get("headers", [])
    return len(headers) > MAX_HEADERS or sum(len(n) + len(v) for n, v in headers) > MAX_HEADER_BYTES


def security_headers(app: ASGIApp) -> ASGIApp:
    """ASGI middleware adding the headers (those a handler set itself are kept)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = scope["path"]
        extra = COMMON + (API if path.startswith("/api") else SCHEMA if path.startswith("/schema") else [])
        if _headers_too_large(scope):
            for message in _refusal(431, TOO_LARGE):
                await send(message)
            return
        if refused := _address_refused(scope):
            for message in _refusal(*refused):
                await send(message)
            return

        # The request id, its log context and its latency per route (observability/http.py).
        observer = scope["app"].state.observer
        request_id, context, started = observer.start(scope)
        extra = [*extra, (b"x-request-id", request_id)]
        status = 500  # what an answer that never started counts as

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                present = {name.lower() for name, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *((n, v) for n, v in extra if n not in present)]}
            await send(message)

        try:
            await app(scope, receive, send_with_headers)
        except Exception as exc:  # answered further out (the login check's 401): counted as what it becomes
            status = getattr(exc, "status_code", 500)
            raise
        finally:
            observer.finish(scope, status, started, context)

    return middleware
