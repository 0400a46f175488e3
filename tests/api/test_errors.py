"""Bad input, wrong state and missing rights answer 4xx with a message a clerk can read — never 500."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import TEST_NOW, login, plan, registered_item

ITEM_ROUTES = [
    ("get", "/api/items"), ("post", "/api/items"), ("get", "/api/items/x"), ("patch", "/api/items/x"),
    ("post", "/api/items/x/submit"), ("post", "/api/items/x/approve"), ("post", "/api/items/x/reject"),
    ("post", "/api/items/x/assign"), ("post", "/api/items/x/complete"), ("post", "/api/items/x/archive"),
    ("get", "/api/assignments"), ("post", "/api/assignments/x/accept"), ("post", "/api/assignments/x/feedback"),
    ("post", "/api/assignments/x/request-completion"), ("get", "/api/inbox"), ("get", "/api/me"),
]


async def test_anonymous_callers_get_401(client):
    for method, path in ITEM_ROUTES:
        r = await client.request(method.upper(), path, json={} if method != "get" else None)
        assert r.status_code == 401, (method, path)
        assert "登录" in r.json()["detail"]


async def test_login_errors(client):
    r = await client.post("/api/login", json={"tenant": "city", "username": "inspector", "password": "wrong"})
    assert r.status_code == 401 and "密码" in r.json()["detail"]
    r = await client.post("/api/login", json={"tenant": "nowhere", "username": "inspector", "password": "x"})
    assert r.status_code == 401
    r = await client.post("/api/login", json={"tenant": "city"})
    assert r.status_code == 400
    r = await client.get("/api/me", headers={"Authorization": "Bearer garbage"})
    assert r.status_code == 401


@pytest.mark.parametrize(("role", "action"), [
    ("approver", "create"), ("handler", "create"), ("inspector", "approve"), ("chief", "assign"),
])
async def test_roles_without_the_right_get_403(client, role, action):
    tenant = "qingjiangpu" if role == "handler" else "city"
    headers = await login(client, tenant, role)
    if action == "create":
        r = await client.post("/api/items", json=plan(), headers=headers)
    else:
        r = await client.post(f"/api/items/anything/{action}", headers=headers)
    assert r.status_code == 403 and "权限" in r.json()["detail"]


BAD_PLANS = [
    ({"units": []}, "units"),
    ({"units": [{"unit": "qingjiangpu", "role": "co"}]}, "主办"),
    ({"units": [{"unit": "qingjiangpu", "role": "lead"}, {"unit": "huaian", "role": "lead"}]}, "主办"),
    ({"units": [{"unit": "qingjiangpu", "role": "lead"}, {"unit": "qingjiangpu", "role": "co"}]}, "重复"),
    ({"units": [{"unit": "atlantis", "role": "lead"}]}, "不存在"),
    ({"units": [{"unit": "city", "role": "lead"}]}, "下属"),
    ({"group": "nogroup"}, "督查组"),
    ({"deadline": (TEST_NOW.date() - timedelta(days=3)).isoformat()}, "已过"),
    ({"deadline": "next week"}, "deadline"),
    ({"source_kind": "gossip"}, "source_kind"),
    ({"source_kind": "meeting_item", "source": {"meeting_kind": "executive"}}, "来源"),
    ({"source": {"leader": "市长", "instruction_text": "x", "instructed_on": "yesterday"}}, "来源"),
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"surprise": 1}, "surprise"),
]


async def test_bad_plans_are_refused_with_a_reason(client):
    inspector = await login(client, "city", "inspector")
    for change, words in BAD_PLANS:
        r = await client.post("/api/items", json={**plan(), **change}, headers=inspector)
        assert r.status_code == 400, (change, r.text)
        assert words in r.text, (change, r.text)
    assert (await client.get("/api/items", headers=inspector)).json() == []  # nothing half-made


async def test_every_source_kind_of_article_3_is_accepted(client):
    inspector = await login(client, "city", "inspector")
    sources = {
        "guidance": {"tenant": "qingjiangpu", "note": "指导区督查工作"},
        "major_decision": {"document": "淮政发〔2026〕1号"},
        "meeting_item": {"meeting_kind": "executive", "meeting_date": "2026-11-02", "session_number": "第52次",
                         "agreed_text": "加快推进老旧小区改造"},
        "instruction": {"leader": "市长", "instruction_text": "请抓紧办理", "instructed_on": "2026-09-01"},
        "suggestion_proposal": {"kind": "proposal", "number": "第0123号", "proposer": "张委员"},
        "other": {"leader": "副市长", "note": "交办事项"},
    }
    for kind, source in sources.items():
        r = await client.post("/api/items", json=plan(source_kind=kind, source=source), headers=inspector)
        assert r.status_code == 201, (kind, r.text)
        assert r.json()["source_kind"] == kind and r.json()["source"]["note" if kind == "other" else next(iter(source))]


async def test_transitions_out_of_order_answer_409(client):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    r = await client.post("/api/items", json=plan(), headers=inspector)
    item_id = r.json()["id"]
    r = await client.post(f"/api/items/{item_id}/assign", headers=inspector)
    assert r.status_code == 409 and "草稿" in r.json()["detail"]
    r = await client.post(f"/api/items/{item_id}/approve", headers=approver)
    assert r.status_code == 409
    r = await client.post(f"/api/items/{item_id}/reject", json={"reason": ""}, headers=approver)
    assert r.status_code == 400  # a rejection needs a reason
    item_id = await registered_item(client, inspector, approver)
    r = await client.patch(f"/api/items/{item_id}", json={"title": "改标题"}, headers=inspector)
    assert r.status_code == 409  # a registered item is no longer a draft
    r = await client.post(f"/api/items/{item_id}/complete", headers=inspector)
    assert r.status_code == 409
    assert (await client.get("/api/items/does-not-exist", headers=inspector)).status_code == 404


async def test_openapi_schema_is_served(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/items/{item_id}/assign" in paths and "/api/assignments/{assignment_id}/accept" in paths


async def test_logout_ends_the_session(client):
    handler = await login(client, "qingjiangpu", "handler")
    assert (await client.get("/api/me", headers=handler)).json()["roles"] == ["handler"]
    assert (await client.post("/api/logout", headers=handler)).status_code == 204
    assert (await client.get("/api/me", headers=handler)).status_code == 401
