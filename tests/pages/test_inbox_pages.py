"""收件箱 by clicking: the 督查室 sees the events that could not be applied with their reason; a replay that
still fails says why next to the event; a skip needs a reason, then the event is 已跳过; a handler is refused
the page."""

from __future__ import annotations

import asyncio
import datetime

import pytest
from playwright.sync_api import Browser, expect

from duban.events.models import InboxEvent
from helpers import TEST_NOW
from pages.browse import login


def _received(live, *rows: InboxEvent) -> None:  # noqa: ANN001
    """Rows in the city's inbox, written in the live node's own loop (as the consumer would have)."""
    async def add() -> None:
        async with live.platform.db.transaction("city") as session:
            session.add_all(rows)
    asyncio.run_coroutine_threadsafe(add(), live._loop).result(30)


@pytest.mark.tenants("city", "qingjiangpu")
def test_the_inbox_of_refused_events(browser: Browser, live, shots) -> None:  # noqa: ANN001
    at = TEST_NOW.astimezone(datetime.UTC)
    _received(live,
              InboxEvent(id="ev-conflict-1", kind="feedback.submitted", from_tenant="qingjiangpu",
                         item_ref="city/item-1", seq=3, status="conflict", reason="承办任务状态为已办结，不能反馈",
                         duplicates=0, body="{not an envelope", received_at=at),
              InboxEvent(id="ev-rejected-1", kind="assignment.accepted", from_tenant="qingjiangpu",
                         item_ref="city/item-2", seq=1, status="rejected", reason="网络策略不允许该单位发送此事件",
                         duplicates=0, body="{}", received_at=at - datetime.timedelta(minutes=5)))

    context = browser.new_context(base_url=live.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    inspector = context.new_page()
    login(inspector, "city", "inspector", live=live)
    inspector.get_by_role("link", name="收件箱：未能应用的事件").click()
    expect(inspector.get_by_role("heading", name="收件箱 · 收到的事件")).to_be_visible()
    expect(inspector.get_by_test_id("inbox-counts")).to_contain_text("冲突待处理 1")
    conflict = inspector.locator("[data-event=ev-conflict-1]")
    expect(conflict).to_contain_text("反馈 · 清江浦区人民政府")
    expect(conflict).to_contain_text("原因：承办任务状态为已办结，不能反馈")
    rejected = inspector.locator("[data-event=ev-rejected-1]")
    expect(rejected).to_contain_text("已拒收")
    assert rejected.get_by_role("button").count() == 0  # refused for good: nothing to decide

    # 重放 of an event that still cannot apply: the reason next to it, the event stays a conflict.
    conflict.get_by_role("button", name="重放").click()
    expect(inspector.locator("#err-ev-conflict-1")).to_contain_text("保存的事件无法解读")
    expect(inspector.locator("[data-event=ev-conflict-1]")).to_have_attribute("data-status", "conflict")
    shots(inspector, "inbox-replay-refused")

    # 跳过 needs a reason; then it is 已跳过.
    inspector.locator("[data-event=ev-conflict-1]").get_by_role("button", name="跳过").click()
    expect(inspector.locator("#err-ev-conflict-1")).to_have_text("请填写跳过的原因")
    inspector.get_by_label("跳过原因").fill("该事项已办结，反馈不再需要")
    inspector.locator("[data-event=ev-conflict-1]").get_by_role("button", name="跳过").click()
    expect(inspector.get_by_role("status")).to_have_text("已跳过该事件")
    skipped = inspector.locator("[data-event=ev-conflict-1]")
    expect(skipped).to_have_attribute("data-status", "skipped")
    expect(skipped).to_contain_text("该事项已办结，反馈不再需要")
    # The filter: only conflicts — none left.
    inspector.get_by_label("状态").select_option("conflict")
    inspector.get_by_role("button", name="筛选").click()
    expect(inspector.get_by_text("没有符合条件的事件")).to_be_visible()
    inspector.goto("/inbox")
    shots(inspector, "inbox")

    # A county handler may not open it.
    handler = browser.new_context(base_url=live.url, locale="zh-CN").new_page()
    login(handler, "qingjiangpu", "handler", live=live)
    response = handler.goto("/inbox")
    assert response is not None and response.status == 403
