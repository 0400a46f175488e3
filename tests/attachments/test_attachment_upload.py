"""Uploading an attachment (反馈附件): streamed into the tenant's own bucket with its SHA-256, downloaded by
those who may read the tenant's work; refused with a clear Chinese message when it is too large, of a type
not allowed, not what its extension says, or a program; and given to exactly one feedback."""

from __future__ import annotations

from dataclasses import replace

import pytest
from attachment_flow import accepted_assignment, bucket, keys, pdf, s3_client, sha256, upload

from helpers import login

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
DOCX = b"PK\x03\x04" + b"\x14\x00" * 300  # a zip container, as docx/xlsx/ofd are
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 100


@pytest.fixture
def settings(settings):
    """A 1 MB limit, so the size refusals are cheap to test."""
    return replace(settings, attachment_max_mb=1)


async def test_anonymous_and_forbidden(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert {"/api/attachments", "/api/attachments/{attachment_id}"} <= set(paths)
    assert (await client.post("/api/attachments", files={"file": ("a.pdf", pdf())})).status_code == 401
    inspector = await login(client, "city", "inspector")  # runs the procedure; reports come from units
    r = await upload(client, inspector, "a.pdf", pdf())
    assert r.status_code == 403, r.text


async def test_upload_and_download(client, platform, s3_server):
    handler = await login(client, "qingjiangpu", "handler")
    chief = await login(client, "qingjiangpu", "chief")
    data = pdf(300_000, b"report")
    r = await upload(client, handler, "C:\\fakepath\\进展报告.PDF", data)
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["name"] == "进展报告.PDF" and a["content_type"] == "application/pdf"
    assert a["size"] == len(data) and a["sha256"] == sha256(data)
    assert a["uploaded_by"] == "qingjiangpu/handler" and a["feedback_id"] is None
    s3 = s3_client(s3_server)
    assert keys(s3, bucket(platform, "qingjiangpu"), "uploads/") == [f"uploads/{a['id']}"]

    r = await upload(client, chief, "现场照片.png", PNG)  # the chief may attach too
    assert r.status_code == 201 and r.json()["content_type"] == "image/png"
    r = await upload(client, handler, "方案.docx", DOCX)
    assert r.status_code == 201, r.text

    r = await client.get(f"/api/attachments/{a['id']}", headers=chief)
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"].startswith("application/pdf")
    assert "filename*=UTF-8''%E8%BF%9B%E5%B1%95%E6%8A%A5%E5%91%8A.PDF" in r.headers["content-disposition"]
    assert r.headers["x-content-sha256"] == sha256(data)
    # Another tenant's user: not found, as for anything of another tenant.
    inspector = await login(client, "city", "inspector")
    assert (await client.get(f"/api/attachments/{a['id']}", headers=inspector)).status_code == 404
    assert (await client.get("/api/attachments/no-such-id", headers=chief)).status_code == 404


REFUSALS = [
    ("报告.pdf", PNG, 400, "内容与扩展名 .pdf 不符"),
    ("照片.jpg", pdf(), 400, "内容与扩展名 .jpg 不符"),
    ("报告.docx", pdf(), 400, "内容与扩展名 .docx 不符"),
    ("setup.exe", b"MZ\x90\x00" + b"\x00" * 100, 400, "不接受可执行文件或脚本"),
    ("说明.txt", ELF, 400, "不接受可执行文件或脚本"),
    ("说明.txt", b"#!/bin/sh\nrm -rf /\n", 400, "不接受可执行文件或脚本"),
    ("报告.pdf", b"MZ" + pdf(), 400, "不接受可执行文件或脚本"),
    ("archive.rar", b"Rar!\x1a\x07\x00", 400, "不支持的附件类型 .rar"),
    ("报告", pdf(), 400, "须带扩展名"),
    ("空.pdf", b"", 400, "空文件"),
    ("大.pdf", pdf(1024 * 1024 + 1), 413, "附件超过 1 MB 的上限"),
]


async def test_refusals(client, platform, s3_server):
    handler = await login(client, "qingjiangpu", "handler")
    for name, data, status, says in REFUSALS:
        r = await upload(client, handler, name, data)
        assert r.status_code == status, (name, r.text)
        assert says in r.json()["detail"], (name, r.json()["detail"])
    assert keys(s3_client(s3_server), bucket(platform, "qingjiangpu")) == [], "nothing kept of a refused file"


async def test_size_limit_on_a_stream_of_unknown_length(client, platform, s3_server):
    # Sent chunked (no Content-Length): the limit is applied to the bytes as they come, 6 MB > 1 MB, across
    # more than one S3 part; the multipart upload is aborted and nothing is kept.
    handler = await login(client, "qingjiangpu", "handler")
    boundary = "duban-test-boundary"

    async def body():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"大.pdf\"\r\n"
               "Content-Type: application/pdf\r\n\r\n").encode()
        yield pdf(64 * 1024)
        for _ in range(96):
            yield b"\x00" * (64 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    r = await client.post("/api/attachments", content=body(),
                          headers={**handler, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413 and "附件超过 1 MB 的上限" in r.json()["detail"], r.text
    assert keys(s3_client(s3_server), bucket(platform, "qingjiangpu")) == []


async def test_an_announced_size_over_the_limit_is_refused_before_reading(client):
    handler = await login(client, "qingjiangpu", "handler")
    r = await client.post("/api/attachments", content=b"x" * (2 * 1024 * 1024),
                          headers={**handler, "Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413, r.text


@pytest.mark.parametrize("send", [
    {"json": {"file": "not a form"}},
    {"files": {"other": ("a.pdf", b"%PDF-1.7")}},  # no field named file
    {"content": b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7 cut off",
     "headers": {"Content-Type": "multipart/form-data; boundary=b"}},
])
async def test_unreadable_uploads(client, platform, s3_server, send):
    handler = await login(client, "qingjiangpu", "handler")
    send = dict(send)
    headers = {**handler, **send.pop("headers", {})}
    r = await client.post("/api/attachments", headers=headers, **send)
    assert r.status_code == 400 and "multipart/form-data" in r.json()["detail"], r.text
    assert keys(s3_client(s3_server), bucket(platform, "qingjiangpu")) == []


async def test_feedback_takes_unused_uploads_of_its_tenant_once(client):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    handler = await login(client, "qingjiangpu", "handler")
    _, task = await accepted_assignment(client, inspector, approver, handler)
    first = (await upload(client, handler, "一.pdf", pdf(seed=b"1"))).json()
    second = (await upload(client, handler, "二.pdf", pdf(seed=b"2"))).json()
    # An id of another tenant (or none at all) is refused; nothing is sent.
    other = (await upload(client, await login(client, "huaian", "handler"), "x.pdf", pdf())).json()
    feedback = f"/api/assignments/{task}/feedback"
    r = await client.post(feedback, headers=handler, json={"text": "进展", "attachments": [other["id"]]})
    assert r.status_code == 400 and "附件不存在" in r.json()["detail"], r.text
    r = await client.post(feedback, headers=handler, json={"text": "进展", "attachments": [first["id"], first["id"]]})
    assert r.status_code == 400 and "两次" in r.json()["detail"]

    r = await client.post(feedback, headers=handler, json={"text": "进展", "attachments": [first["id"], second["id"]]})
    assert r.status_code == 201, r.text
    assert [(a["id"], a["sha256"]) for a in r.json()["attachments"]] == [
        (first["id"], first["sha256"]), (second["id"], second["sha256"])]
    r = await client.post(feedback, headers=handler, json={"text": "再报", "attachments": [second["id"]]})
    assert r.status_code == 409 and "已随另一条反馈报送" in r.json()["detail"], r.text
    detail = (await client.get(f"/api/assignments/{task}", headers=handler)).json()
    assert [len(f["attachments"]) for f in detail["feedback"]] == [2]
