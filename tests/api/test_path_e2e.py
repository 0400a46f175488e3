"""One supervision item travels the whole 督查 path across two tenants, over HTTP, a real
nats-server and a real S3 server, on SQLite and on PostgreSQL (ARCHITECTURE §3)."""

from __future__ import annotations

import hashlib
import json

from minio import Minio

from duban.cli import _verify
from helpers import eventually, login, plan


async def test_item_travels_the_whole_path(client, platform, s3_server, settings):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    handler = await login(client, "qingjiangpu", "handler")
    chief = await login(client, "qingjiangpu", "chief")

    # 立项: the inspector drafts the plan, the approver first sends it back, then approves it.
    r = await client.post("/api/items", json=plan(), headers=inspector)
    assert r.status_code == 201, r.text
    item = r.json()
    item_id = item["id"]
    assert item["state"] == "draft" and item["source_kind"] == "instruction"
    assert item["units"] == [{"unit": "qingjiangpu", "role": "lead"}] and item["division"] == "督查一处"
    assert (await client.post(f"/api/items/{item_id}/submit", headers=inspector)).json()["state"] == "pending_approval"
    r = await client.post(f"/api/items/{item_id}/reject", json={"reason": "办理要求不够具体"}, headers=approver)
    assert r.json()["state"] == "rejected" and r.json()["reject_reason"] == "办理要求不够具体"
    r = await client.patch(f"/api/items/{item_id}", json={"requirements": "每周五前反馈进展。"}, headers=inspector)
    assert r.status_code == 200, r.text
    assert (await client.post(f"/api/items/{item_id}/submit", headers=inspector)).json()["state"] == "pending_approval"
    r = await client.post(f"/api/items/{item_id}/approve", headers=approver)
    assert r.json()["state"] == "registered" and r.json()["serial"].endswith("-0001")

    # 交办: one assignment for the county, delivered as an event into the county's own queue.
    r = await client.post(f"/api/items/{item_id}/assign", headers=inspector)
    assert r.status_code == 200, r.text
    assert r.json()["item"]["state"] == "assigned"
    [sent] = r.json()["assignments"]
    assert sent["unit"] == "qingjiangpu" and sent["state"] == "issued"

    async def county_queue():
        return (await client.get("/api/assignments", headers=handler)).json()

    [received] = await eventually(county_queue, what="the assignment to reach the county")
    assert received["id"] == sent["id"] and received["assigner"] == "city"
    assert received["requirements"] == "每周五前反馈进展。" and received["state"] == "issued"

    # 签收 → 反馈 → 办结申请 at the county.
    r = await client.post(f"/api/assignments/{received['id']}/accept", headers=handler)
    assert r.json()["state"] == "accepted" and r.json()["accepted_by"] == "qingjiangpu/handler"
    r = await client.post(f"/api/assignments/{received['id']}/feedback", headers=handler,
                          json={"text": "征地拆迁已完成，配套道路已通车。", "kind": "result"})
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/assignments/{received['id']}/request-completion", headers=chief,
                          json={"note": "经区政府主要负责同志审签，申请办结。"})
    assert r.json()["state"] == "completion_requested", r.text

    # The city sees the county's answers arrive, and the item moves to completion review.
    async def city_view():
        detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
        return detail if detail["item"]["state"] == "completion_review" else None

    detail = await eventually(city_view, what="the completion request to reach the city")
    [mirrored] = detail["assignments"]
    assert mirrored["state"] == "completion_requested" and mirrored["accepted_by"] == "qingjiangpu/handler"
    assert [f["text"] for f in detail["feedback"]] == ["征地拆迁已完成，配套道路已通车。"]

    # 办结 at the city; the county's assignment becomes done.
    r = await client.post(f"/api/items/{item_id}/complete", headers=inspector)
    assert r.json()["state"] == "completed", r.text

    async def county_done():
        a = (await client.get(f"/api/assignments/{received['id']}", headers=handler)).json()
        return a["assignment"]["state"] == "done"

    await eventually(county_done, what="the completion to reach the county")

    # 归档: the dossier goes to S3; read it back and check every hash ourselves.
    r = await client.post(f"/api/items/{item_id}/archive", headers=inspector)
    assert r.status_code == 200, r.text
    archived = r.json()
    assert archived["state"] == "archived"
    where = archived["archive"]
    s3 = Minio(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=False)
    manifest_bytes = s3.get_object(where["bucket"], where["prefix"] + "manifest.json").read()
    assert hashlib.sha256(manifest_bytes).hexdigest() == where["manifest_sha256"]
    manifest = json.loads(manifest_bytes)
    names = {f["name"] for f in manifest["files"]}
    assert {"item.json", "history.json", "assignments.json", "feedback.json"} <= names
    for entry in manifest["files"]:
        body = s3.get_object(where["bucket"], where["prefix"] + entry["name"]).read()
        assert hashlib.sha256(body).hexdigest() == entry["sha256"], entry["name"]
        assert len(body) == entry["size"]
    history = json.loads(s3.get_object(where["bucket"], where["prefix"] + "history.json").read())
    actions = [h["action"] for h in history]
    for step in ("create", "submit", "reject", "update", "approve", "assign", "accept", "feedback",
                 "request_completion", "complete"):
        assert step in actions, step
    assert {h["actor"] for h in history} >= {"city/inspector", "city/approver", "qingjiangpu/handler",
                                             "qingjiangpu/chief"}
    feedback = json.loads(s3.get_object(where["bucket"], where["prefix"] + "feedback.json").read())
    assert feedback[0]["author"] == "qingjiangpu/handler"

    # The API's verification and `duban archive verify` agree.
    r = await client.get(f"/api/items/{item_id}/archive/verify", headers=inspector)
    assert r.json()["ok"] is True and r.json()["files_checked"] == len(manifest["files"])
    assert await _verify(settings, "city", item_id) == 0

    # A changed file is caught: object lock keeps the old version, but the newest no longer matches.
    s3.put_object(where["bucket"], where["prefix"] + "feedback.json", _bytes(b"[]"), 2)
    r = await client.get(f"/api/items/{item_id}/archive/verify", headers=inspector)
    assert r.json()["ok"] is False and any("feedback.json" in p for p in r.json()["problems"])
    assert await _verify(settings, "city", item_id) == 1

    # An archived item takes no further transitions.
    r = await client.post(f"/api/items/{item_id}/complete", headers=inspector)
    assert r.status_code == 409


def _bytes(data: bytes):
    import io

    return io.BytesIO(data)
