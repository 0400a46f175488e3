"""Downloads of a protected item's attachments are watermarked with the reader's name, unit and time (PDF:
text on every page, found again by pypdf; images: a band along the foot and faint text across), recorded as
protected reads; a type that cannot be marked is refused, never served unmarked. Attachments of other items
are served byte for byte as before."""

from __future__ import annotations

import hashlib
import io

from confidential_flow import assigned, audit_rows, real_pdf, real_png, users
from pypdf import PdfReader

from duban.confidentiality import watermark
from helpers import eventually

DOCX = b"PK\x03\x04" + b"\x14\x00" * 300
SENT = {"报告.pdf": real_pdf("County report"), "现场.png": real_png(), "方案.docx": DOCX}
MARK = watermark.Mark("督查室督查员", "inspector", "市政府办公室", "city", "2026-11-02 10:00")


def test_pdf_mark_is_on_every_page():
    original = real_pdf(pages=3)
    marked, ascii_only = watermark.apply(original, "application/pdf", MARK)
    assert not ascii_only and marked != original
    pages = PdfReader(io.BytesIO(marked)).pages
    assert len(pages) == 3
    for n, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert f"page {n}" in text  # the original is still there
        assert "督查室督查员" in text and "市政府办公室" in text and "2026-11-02 10:00" in text


def test_image_mark_has_a_band_and_differs():
    from PIL import Image

    original = real_png()
    marked, ascii_only = watermark.apply(original, "image/png", MARK)
    before, after = Image.open(io.BytesIO(original)).convert("RGB"), Image.open(io.BytesIO(marked)).convert("RGB")
    assert after.size == before.size and after.tobytes() != before.tobytes()
    width, height = after.size
    band = max(24, int(height * watermark.BAND))
    # The foot band is dark where the original was white, with light text in it.
    foot = [after.getpixel((x, height - 2)) for x in range(0, width, 7)]
    assert all(sum(p) < 200 for p in foot)
    strip = after.crop((0, height - band, width, height))
    assert all(high > 200 for _, high in strip.getextrema())  # the text
    assert ascii_only == (watermark.cjk_font_path() is None)


def test_unreadable_files_cannot_be_marked():
    import pytest

    for data, kind in ((b"%PDF-1.7\n% not really a pdf", "application/pdf"), (b"\x89PNG\r\n\x1a\n" + b"\0" * 50,
                                                                             "image/png"), (DOCX, "application/zip")):
        with pytest.raises(watermark.CannotMark):
            watermark.apply(data, kind, MARK)


async def _reported(client, u, level: str) -> tuple[str, list[str], dict[str, str]]:
    """A report from the county with a PDF, a PNG and a Word file: (item id, their ids at the county, name → id
    at the city)."""
    item_id, task = await assigned(client, u, level=level)
    handler = u["qingjiangpu/handler"]
    ids = []
    for name, data in SENT.items():
        r = await client.post("/api/attachments", headers=handler, files={"file": (name, data)})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    r = await client.post(f"/api/assignments/{task}/feedback", headers=handler,
                          json={"text": "已完成过半，附报告。", "attachments": ids})
    assert r.status_code == 201, r.text

    async def at_city():
        r = await client.get(f"/api/items/{item_id}", headers=u["city/inspector"])
        return [a for f in r.json()["feedback"] for a in f["attachments"]]

    files = await eventually(at_city, what="the report at the city")
    return item_id, ids, {a["name"]: a["id"] for a in files}


async def test_protected_downloads_are_marked_recorded_or_refused(client, platform):
    u = await users(client)
    item_id, county_ids, files = await _reported(client, u, "sensitive")
    inspector = u["city/inspector"]
    r = await client.get(f"/api/attachments/{files['报告.pdf']}", headers=inspector)
    assert r.status_code == 200, r.text
    assert r.headers["x-content-sha256"] == hashlib.sha256(r.content).hexdigest() != r.headers["x-original-sha256"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "County report" in text
    assert "督查室督查员" in text and "淮安市人民政府办公室" in text and "2026-11-02 10:00" in text  # who, where, when

    r = await client.get(f"/api/attachments/{files['现场.png']}", headers=u["city/supervisor"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/png")
    assert r.content != SENT["现场.png"] and r.content[:8] == b"\x89PNG\r\n\x1a\n"

    r = await client.get(f"/api/attachments/{files['方案.docx']}", headers=inspector)
    assert r.status_code == 409 and "水印" in r.json()["detail"], r.text

    # Not on the item: as if the file did not exist.
    r = await client.get(f"/api/attachments/{files['报告.pdf']}", headers=u["city/registrar"])
    assert r.status_code == 404 and r.json()["detail"] == "附件不存在 (no such attachment)"

    reads = [e for e in await audit_rows(platform, "city", "protected_read") if "/api/attachments/" in e.target]
    assert {(e.actor, e.target.rpartition("/")[2]) for e in reads} >= {
        ("city/inspector", files["报告.pdf"]), ("city/supervisor", files["现场.png"])}
    assert any("「报告.pdf」" in e.detail and f"city/{item_id}" in e.detail for e in reads)
    refused = await audit_rows(platform, "city", "need_to_know")
    assert [(e.actor, e.target) for e in refused] == [("city/registrar", f"GET /api/attachments/{files['报告.pdf']}")]

    # At the county, its own copy is marked for its own reader; its 分管领导, not named, does not see it.
    r = await client.get(f"/api/attachments/{county_ids[0]}", headers=u["qingjiangpu/chief"])
    assert r.status_code == 200, r.text
    text = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    assert "第一责任人" in text and "清江浦区" in text
    assert (await client.get(f"/api/attachments/{county_ids[0]}", headers=u["qingjiangpu/leader"])).status_code == 404


async def test_other_attachments_are_served_unchanged(client, platform):
    u = await users(client)
    _, _, files = await _reported(client, u, "internal")
    r = await client.get(f"/api/attachments/{files['报告.pdf']}", headers=u["city/inspector"])
    assert r.status_code == 200 and r.content == SENT["报告.pdf"]
    assert "x-watermark" not in r.headers
    assert (await client.get(f"/api/attachments/{files['方案.docx']}", headers=u["city/inspector"])).content == DOCX
    assert await audit_rows(platform, "city", "protected_read") == []
