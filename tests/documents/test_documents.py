"""Generated documents from real items, over HTTP, on SQLite and PostgreSQL: 《领导批办事项通知单》 at 交办,
催办通知书 for an overdue assignment, 《督查专报》, a unit's 办理情况报告 — each downloaded as PDF (text,
embedded fonts, a picture of its first page kept) and DOCX (East Asian font names), and sealed into the
dossier with the hashes the downloads had."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from checks import assert_docx_fonts, assert_fonts_embedded, assert_text, first_page_png, missing_tools
from minio import Minio
from sqlalchemy import select

from duban.audit.models import AuditEntry
from helpers import TEST_NOW, eventually, login, registered_item

# The PDFs need fonts-noto-cjk and their checks poppler-utils (CI installs both; checks.missing_tools).
pytestmark = pytest.mark.skipif(missing_tools() is not None, reason=str(missing_tools()))

DEADLINE = TEST_NOW.date() + timedelta(days=30)  # helpers.plan: 2026-12-02
DEADLINE_CN = f"{DEADLINE.year}年{DEADLINE.month}月{DEADLINE.day}日"
TITLE = "推进淮安东站综合客运枢纽建设"


async def _docs(client, item_id, headers):
    r = await client.get(f"/api/items/{item_id}/documents", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _download(client, doc, fmt, headers):
    r = await client.get(doc[f"{fmt}_url"], headers=headers)
    assert r.status_code == 200, r.text
    assert hashlib.sha256(r.content).hexdigest() == r.headers["x-content-sha256"]
    return r.content


async def _check(client, doc, headers, backend, *expected):
    """The document's PDF and DOCX pass every check; the PDF's bytes."""
    pdf = await _download(client, doc, "pdf", headers)
    assert pdf.startswith(b"%PDF")
    assert_text(pdf, doc["kind_label"] if doc["kind"] != "result_report" else "办理情况的报告", doc["number"],
                *expected)
    fonts = assert_fonts_embedded(pdf)
    assert any("Noto" in f for f in fonts), fonts
    first_page_png(pdf, f"{backend}-{doc['kind']}")
    docx = await _download(client, doc, "docx", headers)
    assert_docx_fonts(docx, doc["number"], *[e for e in expected if "年" not in e])
    return pdf


async def test_every_document_of_an_item(client, platform, backend):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    handler = await login(client, "qingjiangpu", "handler")
    anonymous = {"Authorization": "Bearer not-a-session"}
    admin = await login(client, "city", "admin")
    item_id = await registered_item(client, inspector, approver, units=[("qingjiangpu", "lead"), ("huaian", "co")])
    assert await _docs(client, item_id, inspector) == []

    # 交办: one 通知单 per unit, numbered in the tenant's series for the year, nothing rendered yet.
    r = await client.post(f"/api/items/{item_id}/assign", headers=inspector)
    assert r.status_code == 200, r.text
    serial = r.json()["item"]["serial"]
    notices = await _docs(client, item_id, inspector)
    assert [(d["kind"], d["number"], d["unit"]) for d in notices] == [
        ("notice", "督办〔2026〕1号", "qingjiangpu"), ("notice", "督办〔2026〕2号", "huaian")]
    assert all(d["renditions"] == [] for d in notices)

    # Who may: anonymous 401, a role without documents 403, an unknown document 404.
    assert (await client.get(f"/api/items/{item_id}/documents", headers=anonymous)).status_code == 401
    assert (await client.get(f"/api/items/{item_id}/documents", headers=admin)).status_code == 403
    assert (await client.get(f"/api/items/{item_id}/documents/nope/pdf", headers=inspector)).status_code == 404
    assert (await client.get("/api/items/nope/documents", headers=inspector)).status_code == 404

    lead = notices[0]
    pdf = await _check(client, lead, inspector, backend, TITLE, serial, "清江浦区人民政府", "淮安区人民政府",
                       DEADLINE_CN, "2026年11月2日", "淮安市人民政府办公室督查室", "市长批示", "签收回执", "主办")
    # Rendered once, kept with its SHA-256: the next download is the same file.
    [kept] = [d for d in await _docs(client, item_id, inspector) if d["id"] == lead["id"]]
    assert {x["format"] for x in kept["renditions"]} == {"pdf", "docx"}
    assert [x["sha256"] for x in kept["renditions"] if x["format"] == "pdf"] == [hashlib.sha256(pdf).hexdigest()]
    assert await _download(client, lead, "pdf", inspector) == pdf

    # 催办通知书: refused while the assignment is not overdue; issued once it is.
    lead_assignment = lead["assignment_id"]
    body = {"assignment_id": lead_assignment, "phone": "0517-83600000"}
    r = await client.post(f"/api/items/{item_id}/documents/reminder-notices", json=body, headers=inspector)
    assert r.status_code == 409 and "未超期" in r.json()["detail"], r.text
    r = await client.post(f"/api/items/{item_id}/documents/reminder-notices", json=body, headers=approver)
    assert r.status_code == 403
    r = await client.post(f"/api/items/{item_id}/documents/reminder-notices",
                          json={"assignment_id": "nope"}, headers=inspector)
    assert r.status_code == 400
    platform.time.advance(days=35)  # 2026-12-07: five days past the 办结时限
    r = await client.post(f"/api/items/{item_id}/documents/reminder-notices", json=body, headers=inspector)
    assert r.status_code == 201, r.text
    reminder = r.json()
    assert reminder["number"] == "督催〔2026〕1号" and reminder["unit"] == "qingjiangpu"
    await _check(client, reminder, inspector, backend, TITLE, "清江浦区人民政府", "已超过办结时限5天", DEADLINE_CN,
                 "督办〔2026〕1号", "0517-83600000", "2026年12月7日")

    # 督查专报: the 督查室's text framed by the platform's figures.
    r = await client.post(f"/api/items/{item_id}/documents/special-reports", json={}, headers=inspector)
    assert r.status_code == 400
    text = {"basis": "根据市政府主要领导批示要求，市督查室于12月上旬对该事项进行了专项督查。",
            "progress": "征地拆迁已完成八成。", "problems": "配套道路资金尚未落实。", "causes": "部门协调不够。",
            "suggestions": "建议由市财政局牵头召开专题协调会。"}
    r = await client.post(f"/api/items/{item_id}/documents/special-reports", json=text, headers=inspector)
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["number"] == "第1期"
    await _check(client, report, inspector, backend, f"关于《{TITLE}》办理情况的专报", *text.values(),
                 "交办2个单位办理", "已办结或申请办结0个", "超过办结时限未办结2个", "清江浦区人民政府",
                 "淮安区人民政府", "二、存在的问题", "四、意见建议", "报：市长")

    # 办理情况报告: the lead unit's result feedback reaches the city and becomes its report.
    [received] = (await client.get("/api/assignments", headers=handler)).json()
    assert (await client.post(f"/api/assignments/{received['id']}/accept", headers=handler)).status_code == 200
    r = await client.post(f"/api/assignments/{received['id']}/feedback", headers=handler,
                          json={"text": "征地拆迁已全部完成，配套道路已于12月5日通车。", "kind": "result"})
    assert r.status_code == 201, r.text

    async def result_reports():
        return [d for d in await _docs(client, item_id, inspector) if d["kind"] == "result_report"]

    [result] = await eventually(result_reports, what="the result report to reach the city")
    assert result["number"] == "督收〔2026〕1号" and result["unit"] == "qingjiangpu"
    await _check(client, result, inspector, backend, "征地拆迁已全部完成，配套道路已于12月5日通车。",
                 "清江浦区人民政府", "督办〔2026〕1号", "超过办结时限报送")

    # The item's documents, oldest first (the platform's clock stands still here: same time, by kind).
    docs = await _docs(client, item_id, inspector)
    assert [d["kind"] for d in docs] == ["notice", "notice", "reminder_notice", "result_report", "special_report"]
    # Every creation is in the tenant's audit log, by whom it was made.
    async with platform.db.transaction("city", snapshot=True) as session:
        issued = {e.target: e.actor for e in await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "document_issued"))}
    assert issued == {f"document/{d['id']}": d["created_by"] for d in docs}
    assert issued[f"document/{result['id']}"] == "qingjiangpu/handler"


async def test_documents_go_into_the_dossier(client, platform, s3_server):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    handler = await login(client, "qingjiangpu", "handler")
    chief = await login(client, "qingjiangpu", "chief")
    item_id = await registered_item(client, inspector, approver)
    assert (await client.post(f"/api/items/{item_id}/assign", headers=inspector)).status_code == 200
    [notice] = await _docs(client, item_id, inspector)
    pdf = await _download(client, notice, "pdf", inspector)  # the PDF is kept; the DOCX is made at 归档
    [received] = (await client.get("/api/assignments", headers=handler)).json()
    await client.post(f"/api/assignments/{received['id']}/accept", headers=handler)
    await client.post(f"/api/assignments/{received['id']}/feedback", headers=handler,
                      json={"text": "已办结。", "kind": "result"})
    r = await client.post(f"/api/assignments/{received['id']}/request-completion", headers=chief, json={})
    assert r.status_code == 200, r.text

    async def in_review():
        return (await client.get(f"/api/items/{item_id}", headers=inspector)).json()["item"]["state"] == \
            "completion_review"

    await eventually(in_review, what="the completion request to reach the city")
    assert (await client.post(f"/api/items/{item_id}/complete", headers=inspector)).status_code == 200
    r = await client.post(f"/api/items/{item_id}/archive", headers=inspector)
    assert r.status_code == 200, r.text
    where = r.json()["archive"]
    s3 = Minio(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=False)
    manifest = json.loads(s3.get_object(where["bucket"], where["prefix"] + "manifest.json").read())
    files = {f["name"]: f for f in manifest["files"]}
    listing = json.loads(s3.get_object(where["bucket"], where["prefix"] + "documents.json").read())
    assert [d["kind"] for d in listing] == ["notice", "result_report"]
    sealed = listing[0]["files"]
    assert sealed["pdf"]["sha256"] == hashlib.sha256(pdf).hexdigest() == files[sealed["pdf"]["file"]]["sha256"]
    assert s3.get_object(where["bucket"], where["prefix"] + sealed["pdf"]["file"]).read() == pdf
    docx_name = sealed["docx"]["file"]
    assert docx_name.endswith(".docx") and files[docx_name]["sha256"] == sealed["docx"]["sha256"]
    # The DOCX made at 归档 is the one a download makes now (renditions are deterministic).
    assert hashlib.sha256(await _download(client, notice, "docx", inspector)).hexdigest() == sealed["docx"]["sha256"]
    r = await client.get(f"/api/items/{item_id}/archive/verify", headers=inspector)
    assert r.json()["ok"] is True, r.text


async def test_a_protected_items_documents(client, platform):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    registrar = await login(client, "city", "registrar")  # reads items, not on this one
    item_id = await registered_item(client, inspector, approver, confidentiality="sensitive")
    assert (await client.post(f"/api/items/{item_id}/assign", headers=inspector)).status_code == 200
    [notice] = await _docs(client, item_id, inspector)
    r = await client.get(notice["pdf_url"], headers=inspector)
    assert r.status_code == 200 and r.headers["x-watermark"] == "cjk"
    assert r.headers["x-original-sha256"] != r.headers["x-content-sha256"]
    assert_text(r.content, "督查室督查员", "仅供本人阅办", notice["number"])
    r = await client.get(notice["docx_url"], headers=inspector)
    assert r.status_code == 409 and "水印" in r.json()["detail"]
    for url in (f"/api/items/{item_id}/documents", notice["pdf_url"]):
        r = await client.get(url, headers=registrar)
        assert r.status_code == 404, (url, r.text)
