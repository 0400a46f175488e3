"""Attachments go into the archived dossier (归档) as files with their SHA-256 and SM3 in the manifest;
archiving refuses a copy that changed since it was checked; `duban archive verify` passes, and fails
once an archived attachment is overwritten."""

from __future__ import annotations

import hashlib
import json

from attachment_flow import accepted_assignment, bucket, pdf, put, s3_client, sha256, upload

from duban.archive.dossier import HAS_SM3
from duban.cli import _verify
from helpers import eventually, login


async def test_the_dossier_holds_the_attachment_and_verify_catches_a_change(client, platform, settings, s3_server):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    handler = await login(client, "qingjiangpu", "handler")
    chief = await login(client, "qingjiangpu", "chief")
    item_id, task = await accepted_assignment(client, inspector, approver, handler)
    data = pdf(6 * 1024 * 1024 + 5, b"result")  # past one S3 part: the archive copies it as a stream
    a = (await upload(client, chief, "办结报告.pdf", data)).json()
    r = await client.post(f"/api/assignments/{task}/feedback", headers=handler,
                          json={"text": "已办结，附报告。", "kind": "result", "attachments": [a["id"]]})
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/assignments/{task}/request-completion", headers=chief, json={"note": "申请办结"})
    assert r.status_code == 200, r.text

    async def in_review():
        detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
        return detail if detail["item"]["state"] == "completion_review" else None

    detail = await eventually(in_review, what="the completion request at the city")
    [city_copy] = detail["feedback"][0]["attachments"]
    assert (await client.post(f"/api/items/{item_id}/complete", headers=inspector)).status_code == 200

    # The city's copy changed since it was checked: archiving refuses rather than seal the wrong bytes.
    s3 = s3_client(s3_server)
    key = f"received/qingjiangpu/{a['id']}/{a['sha256']}"
    put(s3, bucket(platform, "city"), key, b"%PDF-1.7 forged")
    r = await client.post(f"/api/items/{item_id}/archive", headers=inspector)
    assert r.status_code == 409 and "已被改动" in r.json()["detail"], r.text
    put(s3, bucket(platform, "city"), key, data)

    r = await client.post(f"/api/items/{item_id}/archive", headers=inspector)
    assert r.status_code == 200, r.text
    where = r.json()["archive"]
    manifest = json.loads(s3.get_object(where["bucket"], where["prefix"] + "manifest.json").read())
    entries = {f["name"]: f for f in manifest["files"]}
    name = "附件001-办结报告.pdf"
    assert entries[name]["sha256"] == sha256(data) and entries[name]["size"] == len(data)
    if HAS_SM3:
        assert entries[name]["sm3"] == hashlib.new("sm3", data).hexdigest()
    assert s3.get_object(where["bucket"], where["prefix"] + name).read() == data
    listing = json.loads(s3.get_object(where["bucket"], where["prefix"] + "attachments.json").read())
    assert [(x["file"], x["id"], x["sha256"], x["received_from"]) for x in listing] == [
        (name, city_copy["id"], sha256(data), "qingjiangpu")]
    feedback = json.loads(s3.get_object(where["bucket"], where["prefix"] + "feedback.json").read())
    assert feedback[0]["attachments"][0]["sha256"] == sha256(data)

    r = await client.get(f"/api/items/{item_id}/archive/verify", headers=inspector)
    assert r.json()["ok"] is True and r.json()["files_checked"] == len(manifest["files"]), r.text
    assert await _verify(settings, "city", item_id) == 0

    # Overwritten in the archive (object lock keeps the old version, but the newest no longer matches).
    put(s3, where["bucket"], where["prefix"] + name, pdf(len(data), b"forged"))
    r = await client.get(f"/api/items/{item_id}/archive/verify", headers=inspector)
    assert r.json()["ok"] is False and any(name in p and "SHA-256" in p for p in r.json()["problems"]), r.text
    assert await _verify(settings, "city", item_id) == 1
