"""The OpenAPI document tells the truth: the error answers every route can give, and /schema without any
script or asset from elsewhere.

``document(app)`` attaches to every route the error answers of its kind (a public or a signed-in route, a
read or a write, with or without a path parameter, query parameters or a body), plus the few only some
routes give (``EXTRA``). A route that sets ``responses=`` itself keeps what it says. It runs once, when the
app is built, before the document is first made (Litestar makes it on the first request for it)."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Litestar, Request
from litestar.enums import MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, Reference, Schema, SecurityScheme
from litestar.plugins import OpenAPISchemaPlugin
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator


class ErrorRead(msgspec.Struct):
    """Every error answer: the status and a message in Chinese and English; some carry more (the
    ``request_id`` of a 500, ``retry_after`` of a 429, ``extra`` naming the fields a 400 refused)."""

    status_code: int
    detail: str


WHY = {
    400: "请求有误 (bad input: a field, a parameter, a body that cannot be read)",
    401: "未登录或登录已失效 (not logged in, or the session has ended)",
    403: "没有权限 (the caller's roles do not allow this)",
    404: "不存在，或不属于本单位 (no such object here)",
    409: "当前状态不允许此操作，或与已有数据冲突 (the object's state does not allow it)",
    413: "请求内容过大 (the body is larger than the platform takes)",
    422: "所需年份的节假日安排尚未载入 (a working-day count needs a year whose holiday notice is not loaded)",
    429: "请求过于频繁 (too many attempts: wait retry_after seconds)",
    414: "地址过长 (the path or the query string is longer than the platform takes)",
    431: "请求头过大 (request headers too large or too many)",
    500: "服务器内部错误，已记录 (internal error; logged under the request_id the answer carries)",
    503: "依赖的服务暂不可用 (a service the platform needs is unavailable: the archive store, NATS)",
}

# Answers only some routes give, beyond those of their kind: "METHOD /path" -> statuses.
EXTRA: dict[str, tuple[int, ...]] = {
    "POST /api/login": (401, 429, 503),  # 401: a wrong password or an unknown account
    "GET /api/items/{item_id}/archive/verify": (409, 503),
    "GET /api/attachments/{attachment_id}": (503,),
    "GET /api/calendar/{year}": (503,),
    "GET /api/calendar/after": (503,),
    "POST /api/attachments": (413,),
    "GET /api/items/export": (409,),  # the selection holds protected items (第八条: no bulk export)
    "POST /api/account/password": (429,),  # wrong current passwords are throttled as logins are
}
PUBLIC = re.compile(r"^/(api/login|schema|health|ready)")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
PLAIN = {"self", "ctx", "platform", "request"}  # what a handler takes that is not the caller's input


def _answers(route: HTTPRoute, handler: HTTPRouteHandler, method: str) -> set[int]:
    public = bool(PUBLIC.match(route.path))
    inputs = set(handler.parsed_fn_signature.parameters) - PLAIN
    body = "data" in inputs or f"{method} {route.path}" == "POST /api/attachments"
    found = {414, 431, 500}  # every route: the address and header limits (security.py), the logged 500
    if inputs or handler.dependencies or route.path_parameters or not public:
        found.add(400)  # signed in: control characters in the address (security.py), a blank body string
    if body:
        found |= {400, 413}
    if not public:
        found |= {401, 403, 422}  # 422: clocks and lights count working days (calendar/)
    if route.path_parameters and not public:
        found.add(404)
    if method in WRITES and not public:
        found |= {409, 503}  # 503: what the write hands on (NATS, the archive store) is down
    return found | set(EXTRA.get(f"{method} {route.path_format}", ()))


def _answer_options_for(route: HTTPRoute, handler: HTTPRouteHandler) -> None:
    # Litestar 2.25 makes a path's OPTIONS handler with its first handlers and keeps it when it adds the
    # path's other methods to a new route, so ``Allow`` lists only the first ones (GET missing on
    # /api/items). Point the handler at the route that holds them all.
    fn = handler.fn
    if handler.handler_name == "options_handler" and getattr(fn, "__code__", None) is not None \
            and fn.__code__.co_freevars == ("self",) and fn.__closure__:
        fn.__closure__[0].cell_contents = route


def document(app: Litestar) -> None:
    """Attach the error answers to every route of ``app`` (before its document is made); a public route
    is documented as needing no token."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            _answer_options_for(route, handler)
            if not handler.resolve_include_in_schema():
                continue
            statuses: set[int] = set()
            for method in handler.http_methods:
                statuses |= _answers(route, handler, method)
            if PUBLIC.match(route.path):
                handler.security = [{}]  # no token needed (the document's default is the bearer token)
            own = dict(handler.responses or {})
            answers = {code: ResponseSpec(ErrorRead, description=WHY[code], generate_examples=False)
                       for code in sorted(statuses)}
            if handler.status_code == 204:  # no body, so no media type (Litestar would document JSON null)
                answers[204] = ResponseSpec(None, description="完成，无内容 (done; no body)")
            handler.responses = {**answers, **own}


class AnyOf:
    """Marks a free-form JSON object field (``Annotated[dict[str, Any], AnyOf(A, B, …)]``) whose value is
    checked against one of these structs (another field says which): the document shows ``anyOf`` the
    structs' schemas instead of an object of anything. msgspec ignores the marker."""

    def __init__(self, *structs: type, description: str = "") -> None:
        self.structs = structs
        self.description = description


class SchemaOfAnyOf(OpenAPISchemaPlugin):
    """A field marked ``web.AnyOf(...)``: ``anyOf`` the structs' schemas, each closed to unknown fields as
    the structs are (``forbid_unknown_fields``)."""

    @staticmethod
    def _marker(field: FieldDefinition) -> AnyOf | None:
        return next((m for m in field.metadata if isinstance(m, AnyOf)), None)

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return self._marker(field_definition) is not None

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        marker = self._marker(field_definition)
        assert marker is not None
        choices = []
        for struct in marker.structs:
            ref = schema_creator.for_field_definition(FieldDefinition.from_annotation(struct))
            if isinstance(ref, Reference) and struct.__struct_config__.forbid_unknown_fields:
                schema_creator.schema_registry.from_reference(ref).schema.additional_properties = False
            choices.append(ref)
        return Schema(any_of=choices, description=marker.description or None)


class PlainPage(OpenAPIRenderPlugin):
    """/schema: a page with links to the document, without a script, a style or a font from elsewhere
    (Litestar's own pages load Swagger UI, Redoc or Scalar from a CDN)."""

    def __init__(self) -> None:
        super().__init__(path="/", media_type=MediaType.HTML)

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        info = openapi_schema.get("info", {})
        rows = "".join(
            f"<li><code>{html.escape(method.upper())} {html.escape(path)}</code> "
            f"{html.escape(str(op.get('summary', '')))}</li>"
            for path, item in sorted(openapi_schema.get("paths", {}).items())
            for method, op in item.items() if isinstance(op, dict))
        return (f'<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>'
                f'{html.escape(str(info.get("title", "")))} API</title></head><body>'
                f'<h1>{html.escape(str(info.get("title", "")))}</h1>'
                f'<p>{html.escape(str(info.get("description", "")))}</p>'
                f'<p>OpenAPI: <a href="/schema/openapi.json">openapi.json</a> · '
                f'<a href="/schema/openapi.yaml">openapi.yaml</a></p>'
                f'<ul>{rows}</ul></body></html>').encode()


def openapi_config() -> OpenAPIConfig:
    """The document at /schema/openapi.json (and .yaml), and a plain page at /schema."""
    return OpenAPIConfig(
        title="督查督办 network platform", version="0.1.0", path="/schema",
        description="淮政办发〔2007〕145号 — register, assign, remind, supervise, feed back, complete, archive.",
        components=Components(security_schemes={
            "bearer": SecurityScheme(type="http", scheme="bearer", description="token from POST /api/login"),
        }),
        security=[{"bearer": []}],
        render_plugins=[PlainPage(), JsonRenderPlugin(), YamlRenderPlugin()],
    )
