"""Log lines: the usual text (default), or with ``DUBAN_LOG_FORMAT=json`` one JSON object a line —
``time``, ``level``, ``logger``, ``message`` and, inside a request, ``request_id``, ``tenant`` and
``actor`` (once the caller is known), plus ``exc`` with the traceback of an error.

The request's context is one context variable set by the security middleware (security.py): the
request id and the ASGI scope, whose ``user`` the authentication fills in later; the formatter reads
the caller from it when a line is written, so nothing is looked up for requests that log nothing."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")
# (request id, ASGI scope) of the request being served, set by the security middleware.
REQUEST: ContextVar[tuple[str, dict[str, Any]] | None] = ContextVar("duban_request", default=None)
# What an incoming X-Request-ID may be to be kept (a proxy's id); anything else gets an id of our own.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Fields a caller may add with ``extra={...}`` that a JSON line carries (besides the request's).
EXTRA_FIELDS = ("tenant", "actor", "event_id", "kind", "from_tenant", "method", "route", "path", "status",
                "duration_ms")


def log_format(environ: dict[str, str] | None = None) -> str:
    """``DUBAN_LOG_FORMAT``: "text" (default) or "json"."""
    value = (os.environ if environ is None else environ).get("DUBAN_LOG_FORMAT", "").strip().lower() or "text"
    if value not in FORMATS:
        raise ValueError(f"DUBAN_LOG_FORMAT={value!r}: one of {', '.join(FORMATS)}")
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (Chinese kept as it is)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        current = REQUEST.get()
        if current is not None:
            request_id, scope = current
            entry["request_id"] = request_id
            actor = scope.get("user")
            if actor is not None and hasattr(actor, "tenant"):
                entry["tenant"], entry["actor"] = actor.tenant, actor.ref
        for name in EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(fmt: str | None = None, level: int = logging.INFO) -> str:
    """Set up the root logger for the ``duban`` command in the chosen format; returns the format."""
    wrong = None
    if fmt is None:
        try:
            fmt = log_format()
        except ValueError as exc:
            fmt, wrong = "text", exc
    if fmt == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(level)
    else:
        logging.basicConfig(level=level, format=TEXT_FORMAT)
    if wrong is not None:
        logging.getLogger("duban").warning("%s; logging as text", wrong)
    return fmt


def uvicorn_options(fmt: str) -> dict[str, Any]:
    """What ``uvicorn.Config`` is given: in JSON, uvicorn configures no logging of its own (its lines go to
    the root logger, as JSON) and its access log is replaced by the middleware's, which carries the
    request id, the route and the caller (``duban.access``)."""
    return {"log_config": None, "access_log": False} if fmt == "json" else {}
