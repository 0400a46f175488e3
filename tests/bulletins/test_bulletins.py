"""《督查通报》 over a fixture month with known outcomes (scenario.py): the figures exactly as expected — in
the stored snapshot, in the DOCX (python-docx) and in the PDF (pdftotext) —, the numbers 第1期, 第2期 with
no gap (a refused request takes none), a new series in a new year, the creation audited, and the roles."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document as read_docx
from sqlalchemy import select

from bulletins.scenario import at, build
from documents.checks import assert_docx_fonts, assert_fonts_embedded, first_page_png, missing_tools
from duban.audit.models import AuditEntry
from helpers import login

# The PDFs need fonts-noto-cjk and their checks poppler-utils (CI installs both; checks.missing_tools).
pytestmark = pytest.mark.skipif(missing_tools() is not None, reason=str(missing_tools()))

PERIOD = {"period_from": "2026-11-02", "period_to": "2026-11-30"}
REQUIREMENTS = "各承办单位要对照通报问题，逐项整改到位。"


def counts(assigned, done, on_time, overdue, awaiting, behind, completion_rate, on_time_rate) -> dict:
    return {"assigned": assigned, "done": done, "done_on_time": on_time, "done_late": done - on_time,
            "in_progress": assigned - done, "overdue": overdue, "awaiting": awaiting, "behind": behind,
            "completion_rate": completion_rate, "on_time_rate": on_time_rate}


def expected_figures(s: dict[str, str]) -> dict:
    """The figures of 11-02 … 11-30 (as of the end of 11-30), worked out by hand from scenario.py."""
    return {
        "period": {"from": "2026-11-02", "to": "2026-11-30"},
        # Items: A on time; B, F late; C (its lead unit) and G overdue; D in progress; E behind. X0: before.
        "overall": counts(7, 3, 1, 2, 0, 1, 42.9, 33.3),
        "by_source": [
            {"source_kind": "major_decision", "label": "重大决策部署", **counts(1, 0, 0, 1, 0, 0, 0.0, None)},
            {"source_kind": "meeting_item", "label": "会议议定事项", **counts(1, 0, 0, 1, 0, 0, 0.0, None)},
            {"source_kind": "instruction", "label": "领导批示交办事项", **counts(4, 3, 1, 0, 0, 1, 75.0, 33.3)},
            {"source_kind": "other", "label": "其他事项", **counts(1, 0, 0, 0, 0, 0, 0.0, None)},
        ],
        "units": [
            {"unit": "qingjiangpu", "name": "清江浦区人民政府", **counts(3, 2, 1, 1, 0, 0, 66.7, 50.0)},  # A, F; C
            {"unit": "huaian", "name": "淮安区人民政府", **counts(3, 1, 0, 1, 0, 1, 33.3, 0.0)},  # B; G; E
            {"unit": "fgw", "name": "淮安市发展和改革委员会", **counts(2, 0, 0, 0, 1, 0, 0.0, None)},  # C awaiting; D
        ],
        "units_total": counts(8, 3, 1, 2, 1, 1, 37.5, 33.3),
        "problems": [
            {"unit": "qingjiangpu", "name": "清江浦区人民政府",
             # 11-20 → 11-30: 23, 24, 25, 26, 27, 30 November.
             "overdue": [{"serial": s["C"], "title": "丙事项 老旧小区改造", "deadline": "2026-11-20",
                          "overdue_workdays": 6}],
             "late": [{"serial": s["F"], "title": "己事项 河道清淤整治", "deadline": "2026-11-27",
                       "completed_on": "2026-11-30", "late_workdays": 1}],
             "behind": []},
            {"unit": "huaian", "name": "淮安区人民政府",
             "overdue": [{"serial": s["G"], "title": "庚事项 落实减税降费", "deadline": "2026-11-25",
                          "overdue_workdays": 3}],  # 26, 27, 30 November
             "late": [{"serial": s["B"], "title": "乙事项 整治城区交通秩序", "deadline": "2026-11-13",
                       "completed_on": "2026-11-18", "late_workdays": 3}],  # 16, 17, 18 November
             # E is 敏感 (第八条): named by its 编号 only.
             "behind": [{"serial": s["E"], "title": "（敏感事项，标题不公开）", "missed": ["反馈"]}]},
        ],
    }


def docx_text(body: bytes) -> tuple[str, list[list[str]]]:
    doc = read_docx(io.BytesIO(body))
    rows = [[cell.text for cell in row.cells] for table in doc.tables for row in table.rows]
    return "\n".join(p.text for p in doc.paragraphs), rows


def pdf_text(body: bytes, tmp_path: Path) -> str:
    path = tmp_path / "bulletin.pdf"
    path.write_bytes(body)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def squeeze(text: str) -> str:
    return "".join(text.split())


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
async def test_a_bulletin_shows_exactly_the_expected_figures(client, platform, tmp_path):
    w = await build(client, platform)
    inspector = w.users["city"]["inspector"]
    expected = expected_figures(w.serials)

    r = await client.post("/api/bulletins", json={**PERIOD, "requirements": REQUIREMENTS}, headers=inspector)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["bulletin"]["number"] == 1 and first["bulletin"]["number_text"] == "第1期"
    assert first["bulletin"]["year"] == 2026
    assert first["bulletin"]["title"] == "关于2026年11月2日至11月30日督查事项办理情况的通报"
    assert first["figures"] == expected
    assert first["bulletin"]["created_by"] == "city/inspector"

    # Stored as issued: read back the same.
    bulletin_id = first["bulletin"]["id"]
    again = (await client.get(f"/api/bulletins/{bulletin_id}", headers=w.users["city"]["chief"])).json()
    assert again == first

    # DOCX: the masthead, number, addressees, sections and every figure of the table.
    r = await client.get(f"/api/bulletins/{bulletin_id}/docx", headers=inspector)
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    assert_docx_fonts(r.content, "第1期")  # East Asian font names on every run, the 公文 page (documents/)
    text, rows = docx_text(r.content)
    for words in ("淮安市人民政府办公室督查室", "第1期", "关于2026年11月2日至11月30日督查事项办理情况的通报",
                  "各县（区）人民政府", "一、总体情况", "二、存在问题", "三、工作要求", REQUIREMENTS,
                  "共交办7件，已办结3件（其中按期办结1件、逾期办结2件），正在办理4件（其中超时未办2件），完成率42.9%，按期办结率33.3%",
                  "（三）领导批示交办事项：交办4件，已办结3件（其中按期办结1件、逾期办结2件），正在办理1件（其中超时未办0件），"
                  "完成率75.0%，按期办结率33.3%",
                  f"清江浦区人民政府：超时未办1件（{w.serials['C']}《丙事项 老旧小区改造》，办结时限2026年11月20日，"
                  "已超时6个工作日）",
                  f"逾期办结1件（{w.serials['F']}《己事项 河道清淤整治》，办结时限2026年11月27日，"
                  "2026年11月30日申请办结，逾期1个工作日）",
                  f"进度滞后1件（{w.serials['E']}（敏感事项），反馈逾期未报）",
                  "2026年12月1日"):
        assert words in text, words
    assert "淮安市发展和改革委员会：" not in text  # nothing to name there
    assert "戊事项" not in text  # the protected item's title
    assert w.serials["A"] not in text and w.serials["X0"] not in text  # on time; before the period
    assert rows == [["承办单位", "承办件数", "办结数", "在办数", "超时未办数", "按期办结率"],
                    ["清江浦区人民政府", "3", "2", "1", "1", "50.0%"],
                    ["淮安区人民政府", "3", "1", "2", "1", "0.0%"],
                    ["淮安市发展和改革委员会", "2", "0", "2", "0", "—"],
                    ["合计", "8", "3", "5", "2", "33.3%"]]

    # PDF: the same words and figures, as text extracted from the pages.
    r = await client.get(f"/api/bulletins/{bulletin_id}/pdf", headers=inspector)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert_fonts_embedded(r.content)
    backend = "sqlite" if platform.settings.is_sqlite else "postgres"
    first_page_png(r.content, f"{backend}-bulletin")  # tests/.artifacts/documents/<backend>-bulletin.png, .pdf
    pdf = pdf_text(r.content, tmp_path)
    flat = squeeze(pdf)
    for words in ("淮安市人民政府办公室督查室", "第1期", "一、总体情况", "二、存在问题", "共交办7件，已办结3件",
                  "完成率42.9%，按期办结率33.3%", f"{w.serials['G']}《庚事项落实减税降费》", "已超时3个工作日",
                  "承办单位", "淮安市人民政府办公室督查室2026年12月1日印发"):
        assert squeeze(words) in flat, words
    # The 附件 table, row by row (a header may wrap in its narrow column; the rows do not).
    rows_at = [flat.index(squeeze(" ".join(row))) for row in (
        ("清江浦区人民政府", "3", "2", "1", "1", "50.0%"), ("淮安区人民政府", "3", "1", "2", "1", "0.0%"),
        ("淮安市发展和改革委员会", "2", "0", "2", "0", "—"), ("合计", "8", "3", "5", "2", "33.3%"))]
    assert rows_at == sorted(rows_at)

    # Audited: the creation, with its number and period, in the city's audit log.
    async with platform.db.transaction("city", snapshot=True) as session:
        [row] = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "bulletin_issued"))).all()
    assert row.target == f"bulletin/{bulletin_id}" and row.actor == "city/inspector"
    assert row.detail == "2026年第1期 2026-11-02至2026-11-30"


async def test_numbers_are_gapless_per_year_and_figures_stand_as_of_the_period_end(client, platform):
    w = await build(client, platform)
    inspector = w.users["city"]["inspector"]
    one = await client.post("/api/bulletins", json=PERIOD, headers=inspector)
    assert one.status_code == 201, one.text
    # Refused requests take no number: a period ending after today, a period the wrong way round.
    for bad in ({"period_from": "2026-11-02", "period_to": "2026-12-02"},
                {"period_from": "2026-11-20", "period_to": "2026-11-02"}):
        r = await client.post("/api/bulletins", json=bad, headers=inspector)
        assert r.status_code == 400 and "统计期" in r.json()["detail"], r.text
    # Half the month, as of 11-15: A done (on time); B overdue (due 11-13, asked 11-18); E behind; the rest open.
    two = await client.post("/api/bulletins", json={"period_from": "2026-11-02", "period_to": "2026-11-15"},
                            headers=inspector)
    assert two.status_code == 201, two.text
    assert two.json()["bulletin"]["number_text"] == "第2期"
    overall = two.json()["figures"]["overall"]
    assert overall == {"assigned": 7, "done": 1, "done_on_time": 1, "done_late": 0, "in_progress": 6, "overdue": 1,
                       "awaiting": 0, "behind": 1, "completion_rate": 14.3, "on_time_rate": 100.0}
    assert [(p["name"], [e["serial"] for e in p["overdue"]], [e["serial"] for e in p["behind"]])
            for p in two.json()["figures"]["problems"]] == [("淮安区人民政府", [w.serials["B"]], [w.serials["E"]])]
    # An earlier, quieter period: nothing 交办 in it.
    three = (await client.post("/api/bulletins", json={"period_from": "2026-10-01", "period_to": "2026-10-29"},
                               headers=inspector)).json()
    assert three["bulletin"]["number"] == 3 and three["figures"]["overall"]["assigned"] == 0
    assert three["figures"]["units"] == [] and three["figures"]["units_total"]["on_time_rate"] is None

    listed = (await client.get("/api/bulletins", headers=inspector)).json()
    assert sorted(b["number"] for b in listed) == [1, 2, 3]
    # A new year starts a new series.
    platform.time.set(at("2027-01-05"))
    r = await client.post("/api/bulletins", json=PERIOD, headers=inspector)
    assert r.status_code == 201, r.text
    assert (r.json()["bulletin"]["year"], r.json()["bulletin"]["number"]) == (2027, 1)
    assert r.json()["figures"] == {**one.json()["figures"]}  # the same period, the same figures


async def test_who_may_issue_and_read_bulletins(client, platform):
    inspector, handler = await login(client, "city", "inspector"), await login(client, "qingjiangpu", "handler")
    county_supervisor = await login(client, "qingjiangpu", "supervisor")
    body = {"period_from": "2026-10-01", "period_to": "2026-10-31"}
    r = await client.post("/api/bulletins", json=body, headers=inspector)
    assert r.status_code == 201, r.text
    bulletin_id = r.json()["bulletin"]["id"]
    assert (await client.post("/api/bulletins", json=body, headers=handler)).status_code == 403
    assert (await client.get("/api/bulletins", headers=handler)).status_code == 403
    assert (await client.get(f"/api/bulletins/{bulletin_id}", headers=await login(client, "city", "approver"))
            ).status_code == 403
    # A county's supervision division issues the county's own series; the city's bulletin is not there.
    r = await client.post("/api/bulletins", json=body, headers=county_supervisor)
    assert r.status_code == 201 and r.json()["bulletin"]["number"] == 1
    assert (await client.get(f"/api/bulletins/{bulletin_id}", headers=county_supervisor)).status_code == 404
    assert (await client.get(f"/api/bulletins/{bulletin_id}/pdf", headers=county_supervisor)).status_code == 404
    assert (await client.get("/api/bulletins/nosuch/docx", headers=inspector)).status_code == 404
