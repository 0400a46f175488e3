"""The request's side, called by the security middleware (security.py) — no layer of its own, so a
request pays two clock reads, an id and one histogram observation: the request id (the caller's
``X-Request-ID`` when it is a plain token, else a new one; sent back in ``X-Request-ID``), the latency per
route template (metrics.py) and, with JSON logs, the log context (logs.REQUEST) and one access line per
request carrying the id, the route, the status and the caller."""

from __future__ import annotations

import itertools
import logging
import os
import time
from contextvars import Token
from typing import Any

from duban.observability.logs import REQUEST, REQUEST_ID
from duban.observability.metrics import Metrics

access = logging.getLogger("duban.access")
# A request id: this process's random prefix and a count (unique across nodes and restarts, and cheaper
# than a fresh random number per request).
_PREFIX = os.urandom(5).hex().encode()
_COUNT = itertools.count(1)


class RequestObserver:
    """One per app: what the middleware calls at a request's start and end."""

    __slots__ = ("observe", "access_log")

    def __init__(self, metrics: Metrics, access_log: bool) -> None:
        self.observe, self.access_log = metrics.observe, access_log

    def start(self, scope: dict[str, Any]) -> tuple[bytes, Token | None, float]:
        """The request's id (as header bytes), its log context (JSON logs only: nothing else reads it), and
        when it began."""
        request_id = b""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                if REQUEST_ID.match(value.decode("latin-1")):
                    request_id = value
                break
        if not request_id:
            request_id = b"%s-%x" % (_PREFIX, next(_COUNT))
        token = REQUEST.set((request_id.decode("latin-1"), scope)) if self.access_log else None
        return request_id, token, time.perf_counter()

    def finish(self, scope: dict[str, Any], status: int, started: float, token: Token | None) -> None:
        seconds = time.perf_counter() - started
        route = scope.get("path_template") or "(unrouted)"
        self.observe(scope["method"], route, status, seconds)
        if token is not None:
            try:
                access.info("%s %s %s %.1f ms", scope["method"], scope["path"], status, seconds * 1000,
                            extra={"method": scope["method"], "route": route, "path": scope["path"],
                                   "status": status, "duration_ms": round(seconds * 1000, 2)})
            finally:
                REQUEST.reset(token)
