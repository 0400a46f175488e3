"""延期申请 by clicking: the county's handler asks on the assignment page (a date not after the current one, or
no reason, is a sentence next to its field); the city's 督查员 sees it on the item page, is told a refusal
needs a reason, and approves; the new date reaches both sides (over NATS)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from helpers import TEST_NOW, plan
from pages.browse import api_token, login, reload_until


@pytest.mark.tenants("city", "qingjiangpu")
def test_an_extension_is_asked_and_decided(browser: Browser, live, shots) -> None:  # noqa: ANN001
    api = browser.new_context(base_url=live.url).request

    token = api_token(api, live)

    inspector_api, approver_api = token("city", "inspector"), token("city", "approver")
    item = api.post("/api/items", data=plan(title="整治城区交通秩序"), headers=inspector_api).json()["id"]
    for step, who in (("submit", inspector_api), ("approve", approver_api), ("assign", inspector_api)):
        assert api.post(f"/api/items/{item}/{step}", headers=who).ok, step
    due = TEST_NOW.date() + timedelta(days=30)

    # The county's handler asks, on the assignment page.
    context = browser.new_context(base_url=live.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    handler = context.new_page()
    login(handler, "qingjiangpu", "handler")
    task = handler.locator("[data-section=queue]").get_by_role("link", name=re.compile("整治城区交通秩序"))
    reload_until(handler, task, "the assignment at the county")
    task.click()
    handler.get_by_role("button", name="签收").click()
    expect(handler.get_by_role("status")).to_have_text("已签收")
    handler.get_by_text("延期申请（须在时限到期前提出）").click()
    handler.get_by_label("申请延至").fill(due.isoformat())  # not after the current date
    handler.get_by_label("延期理由（必填）").fill("拆迁协议尚未签订完毕。")
    handler.get_by_role("button", name="报送延期申请").click()
    expect(handler.locator("#err-ext_requested_due")).to_contain_text(f"申请的日期须晚于现时限 {due.isoformat()}")
    expect(handler.get_by_label("延期理由（必填）")).to_have_value("拆迁协议尚未签订完毕。")  # kept
    handler.get_by_label("申请延至").fill((due + timedelta(days=18)).isoformat())
    handler.get_by_label("延期理由（必填）").fill("")
    handler.get_by_role("button", name="报送延期申请").click()
    expect(handler.locator("#err-ext_reason")).to_have_text("请填写延期理由")
    handler.get_by_label("延期理由（必填）").fill("拆迁协议尚未签订完毕。")
    handler.get_by_label("目前进展").fill("已签订协议八成。")
    shots(handler, "extension-form")
    handler.get_by_role("button", name="报送延期申请").click()
    expect(handler.get_by_role("status")).to_have_text("延期申请已报送")
    expect(handler.locator("[data-section=extensions] [data-extension=pending]")).to_contain_text("待审批")
    assert handler.get_by_role("button", name="报送延期申请").count() == 0  # one request at a time
    task_url = handler.url.split("?")[0]

    # The city decides on the item page.
    city = browser.new_context(base_url=live.url, locale="zh-CN")
    city.set_default_timeout(15_000)
    inspector = city.new_page()
    login(inspector, "city", "inspector")
    inspector.goto(f"/items/{item}")
    reload_until(inspector, inspector.locator("[data-section=extensions] [data-extension=pending]"),
                  "the extension request at the city")
    waiting = inspector.locator("[data-section=extensions]")
    expect(waiting).to_contain_text("拆迁协议尚未签订完毕。")
    expect(waiting).to_contain_text("已签订协议八成。")
    waiting.get_by_role("button", name="不同意延期").click()
    expect(inspector.locator("#err-extension_reason")).to_have_text("请填写不同意延期的理由")
    shots(inspector, "extension-decision")
    inspector.locator("[data-section=extensions]").get_by_role("button", name="同意延期", exact=True).click()
    expect(inspector.get_by_role("status")).to_have_text("已同意延期")
    later = due + timedelta(days=18)
    expect(inspector.locator("[data-section=extensions]")).to_contain_text(
        f"已同意延至 {later.year}年{later.month}月{later.day}日")
    expect(inspector.locator(".timeline")).to_contain_text("同意延期")

    # The county sees the decision and its new date.
    handler.goto(task_url)
    reload_until(handler, handler.locator("[data-section=extensions] [data-extension=approved]"),
                  "the decision at the county")
    expect(handler.locator(".clocks")).to_contain_text(f"{later.year}年{later.month}月{later.day}日")
    shots(handler, "extension-approved")
