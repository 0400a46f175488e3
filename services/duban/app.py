"""The Litestar application factory."""

from __future__ import annotations

import gc
import logging
import uuid

from litestar import Litestar, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.enums import MediaType
from litestar.exceptions import HTTPException
from litestar.middleware.base import DefineMiddleware
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import IntegrityError

from duban.accounts.routes import AccountController
from duban.archive import ArchiveError
from duban.attachments.routes import AttachmentController
from duban.auth import PUBLIC, TokenAuthentication
from duban.bulletins.routes import BulletinController
from duban.calendar.routes import CalendarController
from duban.confidentiality.access import need_to_know
from duban.confidentiality.routes import InstructionController, ItemExportController
from duban.counits.routes import CoViewController, ItemCoViewController
from duban.deps import provide_ctx, provide_platform
from duban.documents.routes import DocumentController
from duban.errors import DubanError
from duban.events.routes import InboxController
from duban.extensions.routes import ExtensionDecisionController, ExtensionRequestController
from duban.figures.routes import FiguresController
from duban.items.routes import AssignmentController, ItemController
from duban.ledgers.routes import (
    AssignmentLedgerExportController,
    ItemLedgerExportController,
    LedgerImportController,
    LedgerTemplateController,
)
from duban.meetings.routes import MeetingController
from duban.merits.routes import MeritProposalController
from duban.notifications.routes import NotificationController
from duban.observability import routes as observability
from duban.openapi import SchemaOfAnyOf, document, openapi_config
from duban.pages.render import http_error as page_error
from duban.pages.routes import pages_router, static, template_config
from duban.platform import Platform
from duban.proposals.routes import ProposalController
from duban.reminders.routes import ReminderController
from duban.review.routes import ReviewController
from duban.security import screen_body, security_headers
from duban.supervision.routes import SupervisionController
from duban.tree.routes import PartController, TreeController

log = logging.getLogger("duban")


def _duban_error(_: Request, exc: DubanError) -> Response:
    return Response({"status_code": exc.status_code, "detail": exc.message, **exc.detail},
                    status_code=exc.status_code, media_type=MediaType.JSON)


def _integrity_error(_: Request, exc: IntegrityError) -> Response:
    log.warning("integrity error: %s", exc.orig)
    return Response({"status_code": 409, "detail": "与已有数据冲突，请刷新后重试 (conflicts with existing data)"},
                    status_code=409, media_type=MediaType.JSON)


def _archive_error(_: Request, exc: ArchiveError) -> Response:
    log.error("archive error: %s", exc)
    return Response({"status_code": 503, "detail": f"档案存储暂不可用 (archive store unavailable): {exc}"},
                    status_code=503, media_type=MediaType.JSON)


def _unreadable(request: Request, exc: Exception) -> Response:
    # What the JSON decoder cannot take: bytes that are not UTF-8, or nesting deeper than the decoder
    # recurses (a 100,000-deep array). Nothing the platform accepts is nested more than a few levels.
    log.warning("unreadable request body on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    why = "不是有效的 UTF-8 文本 (not valid UTF-8)" if isinstance(exc, UnicodeDecodeError) else \
        "嵌套层次过深 (nested too deeply)"
    return Response({"status_code": 400, "detail": f"请求内容无法解析：{why} (the request body cannot be read)"},
                    status_code=400, media_type=MediaType.JSON)


def _http_error(request: Request, exc: HTTPException) -> Response:
    # Litestar's own refusals (the login check's 401, a body's 400, 404, 405, 413) as JSON, whatever the
    # route answers otherwise: Litestar would send them in the route's media type (a CSV export's 401).
    # An unknown address outside /api asked by a browser: the pages' 未找到 page (pages/render.py).
    if exc.status_code == 404 and not request.url.path.startswith("/api") \
            and "text/html" in request.headers.get("accept", ""):
        return page_error(request, exc)
    body = {"status_code": exc.status_code, "detail": exc.detail, **({"extra": exc.extra} if exc.extra else {})}
    return Response(body, status_code=exc.status_code, headers=exc.headers, media_type=MediaType.JSON)


def _unexpected(request: Request, exc: Exception) -> Response:
    # Logged with the traceback, the request line and an id the answer carries (what a clerk reads out
    # to the administrator), so a 500 is never only an access-log line; the caller learns no internals.
    request_id = uuid.uuid4().hex[:12]
    log.error("unexpected error %s on %s %s", request_id, request.method, request.url.path, exc_info=exc)
    return Response({"status_code": 500, "request_id": request_id,
                     "detail": f"服务器内部错误（编号 {request_id}），已记录，请稍后重试或联系管理员 "
                               f"(internal error {request_id}; it has been logged)"}, status_code=500,
                    media_type=MediaType.JSON)


@get("/health", tags=["system"])
async def health(platform: NamedDependency[Platform]) -> dict[str, object]:
    """Liveness: the node answers and which tenants it hosts."""
    return {"status": "ok", "tenants": platform.tenants}


def create_app(platform: Platform, *, manage_platform: bool = True) -> Litestar:
    """Build the app around a platform; with ``manage_platform`` the app starts and stops it."""

    async def startup(app: Litestar) -> None:
        await platform.start()
        # What exists now (modules, the app, the platform) lives as long as the process: freeze it out of
        # the collector's passes, which otherwise stop every request for up to ~0.1 s now and then; and
        # collect the youngest objects less often (a list page makes thousands of them).
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)

    async def shutdown(app: Litestar) -> None:
        await platform.stop()

    app = Litestar(
        route_handlers=[health, AccountController, ItemController, AssignmentController, InboxController,
                        MeetingController, ProposalController,
                        AttachmentController,
                        NotificationController, CalendarController, SupervisionController,
                        ExtensionRequestController, ExtensionDecisionController, ReminderController,
                        PartController, TreeController, FiguresController,
                        CoViewController, ItemCoViewController, MeritProposalController,
                        InstructionController, ItemExportController,
                        LedgerImportController, ItemLedgerExportController, AssignmentLedgerExportController,
                        LedgerTemplateController,
                        BulletinController, ReviewController,
                        DocumentController, *observability.ROUTES,
                        pages_router, static],  # the web pages (pages/), outside /api and the OpenAPI document
        guards=[need_to_know],  # 第八条: a protected item's routes answer 404 to those not on it (confidentiality/)
        dependencies={"platform": Provide(provide_platform), "ctx": Provide(provide_ctx)},
        middleware=[security_headers, DefineMiddleware(TokenAuthentication, exclude=PUBLIC)],
        before_request=screen_body,  # no control characters or blank strings in a JSON body (security.py)
        plugins=[SchemaOfAnyOf()],  # ``source``: one of the six kinds' schemas in the document (openapi.py)
        exception_handlers={DubanError: _duban_error, IntegrityError: _integrity_error, ArchiveError: _archive_error,
                            UnicodeDecodeError: _unreadable, RecursionError: _unreadable, HTTPException: _http_error,
                            HTTP_500_INTERNAL_SERVER_ERROR: _unexpected},
        on_startup=[startup] if manage_platform else [],
        on_shutdown=[shutdown] if manage_platform else [],
        openapi_config=openapi_config(),
        **observability.app_options(platform.settings),  # JSON logs: Litestar leaves the root logger alone
        template_config=template_config(),
        debug=False,
    )
    app.state.platform = platform
    observability.install(app, platform)  # /ready, /metrics, request ids and latencies (observability/)
    document(app)  # every route's error answers in the OpenAPI document (openapi.py)
    return app
