"""Issue 8, in a real browser: the item page's 催办 and 督办 (errors next to their fields), its split tree with
each unit's state and light, its documents with DOCX/PDF links; the leaders' dashboard with its SVG charts,
the annual review's per-unit scoreboard (第十二条) and its Excel workbook downloaded with the browser's
session; a handler is refused the dashboard; the dashboard fits a 375-px phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from helpers import TEST_NOW, plan
from pages.browse import PHONE, api_token, fits, login, new_context


@pytest.mark.tenants("city", "qingjiangpu", "huaian")
def test_item_actions_tree_documents_and_the_dashboard(browser: Browser, live, shots) -> None:  # noqa: ANN001
    # Two items assigned through the API (the path by clicking is test_path_pages.py).
    api = browser.new_context(base_url=live.url).request

    token = api_token(api, live)

    inspector_api, approver_api = token("city", "inspector"), token("city", "approver")
    ids = []
    for title, units, source in (
            ("推进淮安东站综合客运枢纽建设", [("qingjiangpu", "lead"), ("huaian", "co")], {}),
            ("整治城区交通秩序", [("huaian", "lead")], {"source_kind": "other", "source": {"note": "市政府交办"}})):
        item = api.post("/api/items", data=plan(units=units, title=title, **source), headers=inspector_api)
        assert item.ok, item.text()
        ids.append(item.json()["id"])
        for step, who in (("submit", inspector_api), ("approve", approver_api), ("assign", inspector_api)):
            assert api.post(f"/api/items/{ids[-1]}/{step}", headers=who).ok, step

    # The item page: its split tree, each unit's state and light; its documents (通知单) to download.
    inspector = new_context(browser, live).new_page()
    login(inspector, "city", "inspector", live=live)
    inspector.goto(f"/items/{ids[0]}")
    tree = inspector.locator("[data-section=tree]")
    for code, name in (("qingjiangpu", "清江浦区"), ("huaian", "淮安区")):
        node = tree.locator(f"[data-unit={code}]")
        expect(node).to_contain_text(name)
        expect(node).to_contain_text("待签收")
        expect(node.locator("[data-light]")).to_have_attribute("data-light", "yellow")
    documents = inspector.locator("[data-section=documents]")
    expect(documents.get_by_role("link", name="下载 DOCX")).to_have_count(2)  # one 通知单 per unit
    expect(documents.get_by_role("link", name="下载 PDF").first).to_have_attribute(
        "href", re.compile(rf"^/api/items/{ids[0]}/documents/[^/]+/pdf$"))

    # 催办: without a note, the sentence sits next to the field; then sent, and recorded on the page.
    remind = inspector.locator("form[data-action=remind]")
    remind.get_by_role("button", name="发出催办").click()
    expect(inspector.locator("#err-remind_note")).to_have_text("请填写催办内容：要求承办单位做什么、何时前反馈")
    expect(inspector.get_by_label("催办内容（必填）")).to_have_attribute("aria-invalid", "true")
    inspector.get_by_label("催办单位").select_option("qingjiangpu")
    inspector.get_by_label("催办内容（必填）").fill("请于本周五前报送征地拆迁进展。")
    inspector.get_by_role("button", name="发出催办").click()
    expect(inspector.get_by_role("status")).to_have_text("催办已发出")
    records = inspector.locator("[data-section=supervision]")
    expect(records).to_contain_text("请于本周五前报送征地拆迁进展。")

    # 督办: no people named is refused next to that field; what was typed is kept; then recorded.
    supervise = inspector.locator("form[data-action=supervise]")
    supervise.get_by_text("记录督办（书面、实地、调研、联合督办）").click()
    supervise.get_by_label("督办方式").select_option("on_site")
    supervise.get_by_label("督办情况（必填）").fill("现场查看拆迁进度，约完成七成。")
    supervise.get_by_role("button", name="记录督办").click()
    expect(inspector.locator("#err-supervise_people")).to_have_text("请填写督办人员（多人用逗号分隔）")
    expect(inspector.get_by_label("督办情况（必填）")).to_have_value("现场查看拆迁进度，约完成七成。")
    inspector.get_by_label("督办人员（逗号分隔）").fill("张明，李华")
    inspector.get_by_role("button", name="记录督办").click()
    expect(inspector.get_by_role("status")).to_have_text("督办已记录")
    expect(records).to_contain_text("实地督办")
    expect(records).to_contain_text("督办人员：张明、李华")
    expect(inspector.locator(".timeline")).to_contain_text("督办")
    shots(inspector, "item-tree-documents-supervision")

    # The approver may not 催办 or 督办: no such form for them.
    approver = new_context(browser, live).new_page()
    login(approver, "city", "approver", live=live)
    approver.goto(f"/items/{ids[0]}")
    expect(approver.locator("[data-section=tree]")).to_be_visible()
    assert approver.get_by_role("button", name=re.compile("催办|督办")).count() == 0

    # The overview's further filters: a unit, due dates (a range the wrong way round said next to it).
    inspector.goto("/home")
    overview = inspector.locator("[data-section=overview]")
    expect(overview.get_by_role("link", name="整治城区交通秩序")).to_be_visible()
    inspector.get_by_text("更多条件（督查组、承办单位、交办领导、办结时限）").click()
    inspector.get_by_label("承办单位", exact=True).select_option("qingjiangpu")  # htmx: the list in place
    expect(overview.get_by_role("link", name="整治城区交通秩序")).to_have_count(0)
    expect(overview.get_by_role("link", name="推进淮安东站综合客运枢纽建设")).to_be_visible()
    expect(inspector).to_have_url(re.compile(r"unit=qingjiangpu"))
    inspector.goto("/home?due_from=2026-12-31&due_to=2026-12-01")
    expect(inspector.locator("#err-overview")).to_have_text("办结时限范围的起始日期晚于结束日期")
    expect(inspector.get_by_label("办结时限从")).to_have_attribute("aria-invalid", "true")

    # The leaders' dashboard, from the home page.
    inspector.goto("/home")
    inspector.get_by_role("link", name=re.compile("领导驾驶舱")).click()
    expect(inspector.get_by_role("heading", name="领导驾驶舱", exact=True)).to_be_visible()
    expect(inspector.get_by_test_id("kpi-handled")).to_have_text("3")  # three units' assignments this year
    expect(inspector.get_by_test_id("kpi-overdue")).to_have_text("0")
    units_chart = inspector.get_by_test_id("chart-units")
    expect(units_chart.locator("g.bar[data-label^=清江浦区]")).to_have_attribute("data-value", "—")  # none done
    expect(units_chart.locator("g.bar[data-label^=淮安区]")).to_have_count(1)
    sources = inspector.get_by_test_id("chart-sources")
    expect(sources.locator("g.bar[data-label=领导批示交办事项]")).to_have_attribute("data-value", "1")
    expect(sources.locator("g.bar[data-label=其他事项]")).to_have_attribute("data-value", "1")
    expect(inspector.get_by_test_id("chart-overdue").locator("g.point")).to_have_count(TEST_NOW.month)
    expect(inspector.get_by_test_id("chart-months").locator("g.bar")).to_have_count(TEST_NOW.month)
    board = inspector.locator("#scoreboard")
    expect(board.locator("tr[data-unit=qingjiangpu] td").nth(1)).to_have_text("1")
    expect(board.locator("tr[data-unit=huaian] td").nth(1)).to_have_text("2")
    expect(board.locator("tr.total td").first).to_have_text("合计")
    shots(inspector, "dashboard")

    # The review's Excel workbook, with the browser's own session (its cookie).
    with inspector.expect_download() as fetched:
        inspector.get_by_test_id("review-xlsx").click()
    download = fetched.value
    assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
    with open(download.path(), "rb") as workbook:
        assert workbook.read(2) == b"PK"  # a zip: the xlsx workbook

    # A year not begun: the sentence next to the year, no charts.
    inspector.goto(f"/dashboard?year={TEST_NOW.year + 1}")
    expect(inspector.locator("#err-year")).to_contain_text("尚未开始")
    assert inspector.get_by_test_id("chart-units").count() == 0

    # A county handler may not see it.
    handler = new_context(browser, live).new_page()
    login(handler, "qingjiangpu", "handler", live=live)
    assert handler.get_by_role("link", name=re.compile("领导驾驶舱")).count() == 0
    response = handler.goto("/dashboard")
    assert response is not None and response.status == 403
    expect(handler.get_by_role("heading", name="无权操作")).to_be_visible()

    # On a phone.
    phone = new_context(browser, live, PHONE).new_page()
    login(phone, "city", "inspector", live=live)
    phone.goto("/dashboard")
    expect(phone.get_by_test_id("chart-units")).to_be_visible()
    fits(phone)
    shots(phone, "phone-dashboard")
    phone.goto(f"/items/{ids[0]}")
    expect(phone.locator("[data-section=tree]")).to_be_visible()
    fits(phone)
    shots(phone, "phone-item-tree")
