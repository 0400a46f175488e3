"""Structured logs (issue 11 §3): with DUBAN_LOG_FORMAT=json every line is one JSON object; inside a
request it carries the request id (the caller's X-Request-ID, or the node's own, sent back) and, once
known, the tenant and the actor. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from dataclasses import replace

import pytest

from duban.observability.logs import JsonFormatter
from helpers import login


@pytest.fixture
def settings(settings):
    """These tests' node logs as JSON (DUBAN_LOG_FORMAT=json): one access line per request."""
    return replace(settings, log_format="json")


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


async def test_json_log_lines_carry_the_request_id_and_the_caller(client):
    lines = _Lines()
    logger = logging.getLogger("duban")
    logger.addHandler(lines)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        inspector = await login(client, "city", "inspector")
        r = await client.get("/api/items", headers={**inspector, "X-Request-ID": "probe-42"})
        assert r.status_code == 200 and r.headers["x-request-id"] == "probe-42"
        # A line written inside a request (the unreadable body's warning) carries its id too.
        bad = await client.post("/api/items", content=b'{"title": "\xff"}',
                                headers={**inspector, "Content-Type": "application/json"})
        assert bad.status_code == 400
        generated = bad.headers["x-request-id"]
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
    entries = [json.loads(line) for line in lines.lines]  # every line parses
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    [access] = [e for e in entries if e.get("request_id") == "probe-42"]
    assert access["logger"] == "duban.access" and access["route"] == "/api/items" and access["status"] == 200
    assert access["tenant"] == "city" and access["actor"] == "city/inspector"
    warned = [e for e in entries if e.get("request_id") == generated and e["level"] == "WARNING"]
    assert warned and "unreadable request body" in warned[0]["message"]
    assert warned[0]["actor"] == "city/inspector"


def test_the_command_logs_json_when_asked():
    code = ("from duban.observability.logs import configure; import logging; configure('json'); "
            "logging.getLogger('duban').warning('中文 %s', 1)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    [line] = out.stderr.strip().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "中文 1" and entry["level"] == "WARNING" and entry["logger"] == "duban"
