"""Feedback with attachments travels from the county to the city over a real NATS as references; the
city copies the bytes into its own bucket and checks them before the event commits. A missing or
changed object at the sender is a conflict kept in the city's inbox with the reason, applied by a replay
once the sender has the file back — never a silent loss."""

from __future__ import annotations

from attachment_flow import accepted_assignment, bucket, keys, pdf, put, s3_client, sha256, upload

from helpers import eventually, login


async def _actors(client):
    return (await login(client, "city", "inspector"), await login(client, "city", "approver"),
            await login(client, "qingjiangpu", "handler"))


async def _city_feedback(client, inspector, item_id):
    return (await client.get(f"/api/items/{item_id}", headers=inspector)).json()["feedback"]


async def test_feedback_carries_attachments_to_the_city(client, platform, s3_server):
    inspector, approver, handler = await _actors(client)
    item_id, task = await accepted_assignment(client, inspector, approver, handler)
    files = {"进展报告.pdf": pdf(6 * 1024 * 1024 + 17, b"big"),  # more than one S3 part
             "现场.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40}
    ids = [(await upload(client, handler, name, data)).json()["id"] for name, data in files.items()]
    r = await client.post(f"/api/assignments/{task}/feedback", headers=handler,
                          json={"text": "已完成过半，附报告与照片。", "kind": "progress", "attachments": ids})
    assert r.status_code == 201, r.text

    async def arrived():
        return [f for f in await _city_feedback(client, inspector, item_id) if f["attachments"]]

    [feedback] = await eventually(arrived, what="the feedback with its attachments at the city")
    got = {a["name"]: a for a in feedback["attachments"]}
    assert set(got) == set(files)
    s3 = s3_client(s3_server)
    for name, data in files.items():
        a = got[name]
        assert a["received_from"] == "qingjiangpu" and a["feedback_id"] == feedback["id"]
        assert a["id"] not in ids and a["sha256"] == sha256(data) and a["size"] == len(data)
        r = await client.get(f"/api/attachments/{a['id']}", headers=inspector)
        assert r.status_code == 200 and sha256(r.content) == sha256(data), name
    # The city's own copies, one per file, under keys that name the sender and the sender's id.
    city_keys = keys(s3, bucket(platform, "city"), "received/")
    expected = [f"received/qingjiangpu/{i}/{sha256(d)}" for i, d in zip(ids, files.values(), strict=True)]
    assert city_keys == sorted(expected)
    # The county still reads its own feedback with its own attachments.
    county = (await client.get(f"/api/assignments/{task}", headers=handler)).json()["feedback"]
    assert [a["id"] for a in county[0]["attachments"]] == ids


async def _conflict(client, inspector):
    async def kept():
        rows = (await client.get("/api/inbox?status=conflict", headers=inspector)).json()
        return [r for r in rows if r["kind"] == "feedback.submitted"]

    [row] = await eventually(kept, what="the feedback kept as a conflict at the city")
    return row


async def _replayed(client, inspector, row, item_id, data):
    r = await client.post(f"/api/inbox/{row['id']}/replay", headers=inspector)
    assert r.status_code == 200 and r.json()["status"] == "applied", r.text
    [feedback] = await _city_feedback(client, inspector, item_id)
    [a] = feedback["attachments"]
    got = await client.get(f"/api/attachments/{a['id']}", headers=inspector)
    assert sha256(got.content) == sha256(data) == a["sha256"]


async def test_a_missing_object_is_kept_as_a_conflict_and_replayed_once_back(client, platform, s3_server):
    inspector, approver, handler = await _actors(client)
    item_id, task = await accepted_assignment(client, inspector, approver, handler)
    data = pdf(50_000, b"missing")
    a = (await upload(client, handler, "报告.pdf", data)).json()
    s3 = s3_client(s3_server)
    county_bucket = bucket(platform, "qingjiangpu")
    s3.remove_object(county_bucket, f"uploads/{a['id']}")  # lost at the sender before the city copies it
    r = await client.post(f"/api/assignments/{task}/feedback", headers=handler,
                          json={"text": "附报告", "attachments": [a["id"]]})
    assert r.status_code == 201, r.text

    row = await _conflict(client, inspector)
    assert "不存在" in row["reason"] and a["id"] in row["reason"], row["reason"]
    assert await _city_feedback(client, inspector, item_id) == []  # nothing half-applied
    # Replaying before the file is back fails with the same reason, and changes nothing.
    r = await client.post(f"/api/inbox/{row['id']}/replay", headers=inspector)
    assert r.status_code == 409 and "不存在" in r.json()["detail"], r.text

    put(s3, county_bucket, f"uploads/{a['id']}", data)
    await _replayed(client, inspector, row, item_id, data)


async def test_a_changed_object_is_kept_as_a_conflict_and_replayed_once_restored(client, platform, s3_server):
    inspector, approver, handler = await _actors(client)
    item_id, task = await accepted_assignment(client, inspector, approver, handler)
    data = pdf(50_000, b"original")
    a = (await upload(client, handler, "报告.pdf", data)).json()
    s3 = s3_client(s3_server)
    county_bucket, key = bucket(platform, "qingjiangpu"), f"uploads/{a['id']}"
    put(s3, county_bucket, key, pdf(50_000, b"forged"))  # same size, other bytes
    r = await client.post(f"/api/assignments/{task}/feedback", headers=handler,
                          json={"text": "附报告", "attachments": [a["id"]]})
    assert r.status_code == 201, r.text

    row = await _conflict(client, inspector)
    assert "不符" in row["reason"] and "SHA-256" in row["reason"], row["reason"]
    assert keys(s3, bucket(platform, "city"), "received/") == [], "no copy of the wrong bytes is kept"
    put(s3, county_bucket, key, data + b"tail")  # a different size is caught too
    r = await client.post(f"/api/inbox/{row['id']}/replay", headers=inspector)
    assert r.status_code == 409 and "不符" in r.json()["detail"], r.text

    put(s3, county_bucket, key, data)
    await _replayed(client, inspector, row, item_id, data)
    assert len(keys(s3, bucket(platform, "city"), "received/")) == 1


async def test_a_reference_outside_the_senders_bucket_is_rejected(client, platform, s3_server):
    # A county may not make the city copy from anyone's bucket but its own (e.g. another county's).
    from duban.attachments.service import receive_refs
    from duban.context import EventContext
    from duban.errors import Refused
    from duban.events.envelope import AttachmentRef

    other = (await upload(client, await login(client, "huaian", "handler"), "x.pdf", pdf())).json()
    ref = AttachmentRef(other["id"], bucket(platform, "huaian"), f"uploads/{other['id']}", other["sha256"],
                        other["size"], "x.pdf", "application/pdf")
    async with platform.db.transaction("city") as session:
        ctx = EventContext("city", session, platform.registry, attachments=platform.attachments, sender="qingjiangpu")
        try:
            await receive_refs(ctx, [ref], "feedback-id")
        except Refused as exc:
            assert "its own bucket" in exc.message
        else:
            raise AssertionError("a reference into another tenant's bucket was taken")
