"""``/ready`` and ``/metrics`` (``/health``, the liveness answer, stays in app.py: the cheapest route).

Both answer without a login (auth.PUBLIC) and say nothing of hosts, ports or credentials. ``/ready``
is for the orchestrator: 200 when every check holds, 503 naming what does not. ``/metrics`` is for
Prometheus: with ``DUBAN_METRICS_TOKEN`` set, only a request bearing ``Authorization: Bearer <token>``;
without it, only a request from the node's own host (127.0.0.1, ::1) that no proxy forwarded (no
``Forwarded`` / ``X-Forwarded-For``): a scraper elsewhere needs the token."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from litestar import Litestar, Request, Response, get
from litestar.enums import MediaType
from litestar.openapi.datastructures import ResponseSpec
from prometheus_client import CONTENT_TYPE_LATEST

from duban.observability.http import RequestObserver
from duban.observability.metrics import Metrics
from duban.observability.probes import Probe

if TYPE_CHECKING:
    from duban.platform import Platform
    from duban.settings import Settings

LOOPBACK = {"127.0.0.1", "::1"}
FORWARDED = (b"forwarded", b"x-forwarded-for", b"x-real-ip")


class CheckRead(msgspec.Struct):
    ok: bool
    detail: str


class ReadyRead(msgspec.Struct):
    status: Literal["ready", "not ready"]
    checks: dict[str, CheckRead]  # database, nats, s3, consumers
    why: list[str]  # what does not hold, one line each (empty when ready)


def app_options(settings: Settings) -> dict[str, Any]:
    """What the Litestar app is built with: with JSON logs, no logging config of its own (its default
    would put its text format on the root logger, over the JSON one)."""
    return {"logging_config": None} if settings.log_format == "json" else {}


def install(app: Litestar, platform: Platform) -> None:
    """Give an app its probe, its registry and the middleware's request observer (app.state)."""
    probe = Probe(platform)
    metrics = Metrics(platform, probe)
    app.state.probe, app.state.metrics = probe, metrics
    app.state.observer = RequestObserver(metrics, access_log=platform.settings.log_format == "json")


@get("/ready", tags=["system"], security=[{}], responses={
    503: ResponseSpec(ReadyRead, description="未就绪：原因见 why (not ready: `why` says what does not hold)",
                      generate_examples=False)})
async def ready(request: Request) -> Response[ReadyRead]:
    """Readiness: every hosted tenant's database answers, NATS is connected, the object store answers and
    every tenant's event consumer is read. 503 with ``why`` when one does not."""
    checks = await request.app.state.probe.ready()
    why = [line for check in checks.values() for line in check.why]
    body = ReadyRead("not ready" if why else "ready", {name: CheckRead(c.ok, c.detail) for name, c in checks.items()},
                     why)
    return Response(body, status_code=503 if why else 200, media_type=MediaType.JSON)


def refusal(request: Request) -> Response | None:
    """Why this caller may not read /metrics (None: it may)."""
    token = request.app.state.probe.platform.settings.metrics_token
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        return Response({"status_code": 401, "detail": "需要监控令牌 (the metrics token is required: "
                                                        "Authorization: Bearer <DUBAN_METRICS_TOKEN>)"},
                        status_code=401, media_type=MediaType.JSON, headers={"WWW-Authenticate": "Bearer"})
    client = request.scope.get("client")
    forwarded = any(name in FORWARDED for name, _ in request.scope["headers"])
    if client and client[0] in LOOPBACK and not forwarded:
        return None
    return Response({"status_code": 403, "detail": "监控指标仅对本机开放，或设置 DUBAN_METRICS_TOKEN "
                                                    "(metrics are served to this host only, unless DUBAN_METRICS_TOKEN "
                                                    "is set)"}, status_code=403, media_type=MediaType.JSON)


@get("/metrics", include_in_schema=False, media_type=CONTENT_TYPE_LATEST)
async def metrics(request: Request) -> Response[bytes]:
    """The node's figures in the Prometheus text format (not JSON: outside the OpenAPI document)."""
    refused = refusal(request)
    if refused is not None:
        return refused
    registry: Metrics = request.app.state.metrics
    return Response(await registry.exposition(), media_type=CONTENT_TYPE_LATEST)


ROUTES = [ready, metrics]
