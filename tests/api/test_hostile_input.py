"""Hostile or broken input gets a 4xx with a message a clerk can read, never a 500 — with or without a
login; and a 500, should one still happen, is logged with its traceback."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import text

from duban.lists import cursor
from helpers import login, plan

DEEP = 100_000


async def test_invalid_utf8_at_login_is_400(client):
    r = await client.post("/api/login", content=b'{"tenant": "city", "username": "\xff\xfe", "password": "x"}',
                          headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert "JSON" in r.json()["detail"] or "UTF-8" in r.json()["detail"]


@pytest.mark.parametrize("body", [b"[" * DEEP + b"]" * DEEP, b'{"a":' * DEEP + b"1" + b"}" * DEEP])
async def test_a_very_deep_json_body_is_400_not_500(client, body):
    r = await client.post("/api/login", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text[:200]


async def test_a_deeply_nested_source_is_refused(client):
    inspector = await login(client, "city", "inspector")
    nested = '{"x":' * 5000 + "1" + "}" * 5000
    body = json.dumps(plan(source_kind="other", source={"x": "HERE"})).replace('"HERE"', nested)
    headers = {**inspector, "content-type": "application/json"}
    r = await client.post("/api/items", content=body.encode(), headers=headers)
    assert r.status_code == 400, r.text[:200]


LISTS = ["/api/items", "/api/assignments", "/api/inbox", "/api/reminders/flagged"]  # keyset paging (lists/)


@pytest.mark.parametrize("offset", [2**63, 2**64 + 5, -1])
async def test_offsets_out_of_range_are_400(client, offset):
    supervisor = await login(client, "city", "supervisor")
    r = await client.get("/api/notifications", params={"offset": offset}, headers=supervisor)
    assert r.status_code == 400, (offset, r.status_code, r.text[:200])


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("offset", [2**63, 2**64 + 5, -1, 0, 10])
async def test_lists_that_page_by_cursor_refuse_an_offset(client, path, offset):
    supervisor = await login(client, "city", "supervisor")
    r = await client.get(path, params={"offset": offset}, headers=supervisor)
    assert r.status_code == 400, (path, offset, r.status_code, r.text[:200])
    assert "cursor" in r.json()["detail"]


def _forged(kind: str, *values: object) -> str:
    """A cursor with a right check over wrong contents: what someone who read lists/cursor.py could make."""
    return cursor.encode(kind, values)


def _flip(token: str) -> str:
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]


KINDS = {"/api/items": "items", "/api/assignments": "queue", "/api/inbox": "inbox", "/api/reminders/flagged": "flagged"}
GENUINE = {"/api/items": _forged("items", "2026-11-02T02:00:00+00:00", "x"),
           "/api/assignments": _forged("queue", "2026-11-02", "x"),
           "/api/inbox": _forged("inbox", "2026-11-02T02:00:00+00:00", "x"),
           "/api/reminders/flagged": _forged("flagged", "2026-11-02T02:00:00+00:00", "x")}
TAMPERED = {
    "garbage": lambda path: "!!not base64!!",
    "empty": lambda path: "",
    "huge": lambda path: "A" * 5_000,
    "non-ascii": lambda path: "督查" * 10,
    "edited": lambda path: _flip(GENUINE[path]),
    "cut": lambda path: GENUINE[path][:-3],
    "check only": lambda path: GENUINE[path][:11],
    "another list's": lambda path: GENUINE["/api/assignments" if path != "/api/assignments" else "/api/items"],
    "wrong types": lambda path: _forged(KINDS[path], 2**70, ["x"]),
    "naive time": lambda path: _forged(KINDS[path], "2026-11-02T02:00:00", "x"),
    "bad date": lambda path: _forged(KINDS[path], "2026-13-45", "x"),
    "too many values": lambda path: _forged(KINDS[path], "2026-11-02", "x", "y"),
    "long id": lambda path: _forged(KINDS[path], "2026-11-02", "x" * 65),
}


@pytest.mark.parametrize("path", LISTS)
async def test_a_tampered_cursor_is_400_not_500(client, path):
    supervisor = await login(client, "city", "supervisor")
    assert (await client.get(path, params={"cursor": GENUINE[path]}, headers=supervisor)).status_code == 200
    for name, make in TAMPERED.items():
        r = await client.get(path, params={"cursor": make(path)}, headers=supervisor)
        assert r.status_code == 400, (path, name, r.status_code, r.text[:200])
        assert "游标" in r.json()["detail"] and "cursor" in r.json()["detail"], (path, name, r.text[:200])


async def test_an_unexpected_error_is_logged_with_its_traceback(client, platform, caplog):
    inspector = await login(client, "city", "inspector")
    # A real fault, not a mock: the tenant's items table is gone from under the node.
    async with platform.db.migration_connection("city") as conn:
        await conn.execute(text("ALTER TABLE items RENAME TO items_gone"))
    caplog.set_level(logging.ERROR)
    r = await client.get("/api/items", headers=inspector)
    assert r.status_code == 500
    assert "items_gone" not in r.text and "items" not in r.json()["detail"]  # no internals to the caller
    request_id = r.json()["request_id"]
    assert request_id in r.json()["detail"]
    [logged] = [rec for rec in caplog.records if rec.exc_info and "unexpected error" in rec.getMessage()]
    assert request_id in logged.getMessage() and "GET /api/items" in logged.getMessage()
    assert "items" in str(logged.exc_info[1])  # the database's own complaint, for the administrator


async def test_every_answer_carries_the_security_headers(client):
    inspector = await login(client, "city", "inspector")
    for r in (await client.get("/api/items", headers=inspector), await client.get("/api/items"),
              await client.post("/api/login", json={"tenant": "city", "username": "x", "password": "y"})):
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        assert r.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in r.headers["content-security-policy"]
    health = await client.get("/health")
    assert health.headers["x-frame-options"] == "DENY" and "content-security-policy" not in health.headers


@pytest.mark.parametrize(("change", "says"), [
    ({"title": "   "}, "标题不能为空"),
    ({"title": "正常标题\u0000"}, "控制字符"),
    ({"content": "内容\u0007响铃"}, "控制字符"),
    ({"source": {"leader": "市长", "instruction_text": "请办理", "instructed_on": "2026-11-30"}}, "晚于今天"),
    ({"source_kind": "meeting_item", "source": {"meeting_kind": "executive", "meeting_date": "2026-10-20",
                                                "session_number": "第5次", "agreed_text": "加快推进",
                                                "feedback_due": "2026-10-01"}}, "反馈时限"),
])
async def test_blank_garbled_or_inconsistent_plans_are_refused(client, change, says):
    inspector = await login(client, "city", "inspector")
    r = await client.post("/api/items", json=plan(**change), headers=inspector)
    assert r.status_code == 400 and says in r.json()["detail"], r.text


async def test_feedback_with_control_characters_is_refused(client):
    handler = await login(client, "qingjiangpu", "handler")
    r = await client.post("/api/assignments/x/feedback", json={"text": "进展\u0000"}, headers=handler)
    assert r.status_code == 400 and "控制字符" in r.json()["detail"]
