"""分解 by clicking: the county splits the task it received for a town below it; the part appears on the
task page with its state, an impossible deadline is a sentence next to the field, and the town's handler
finds the part in its own to-do list (over NATS)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from helpers import TEST_NOW, plan
from pages.browse import api_token, login, reload_until


@pytest.mark.tenants("city", "qingjiangpu", "qjp_changxi")
def test_the_county_splits_its_task_for_a_town(browser: Browser, live, shots) -> None:  # noqa: ANN001
    # The city's side through the API (the path by clicking is test_path_pages.py).
    api = browser.new_context(base_url=live.url).request

    token = api_token(api, live)

    inspector, approver = token("city", "inspector"), token("city", "approver")
    item = api.post("/api/items", data=plan(title="整治城区交通秩序"), headers=inspector).json()["id"]
    for step, who in (("submit", inspector), ("approve", approver), ("assign", inspector)):
        assert api.post(f"/api/items/{item}/{step}", headers=who).ok, step

    context = browser.new_context(base_url=live.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    login(page, "qingjiangpu", "handler")
    task = page.locator("[data-section=queue]").get_by_role("link", name=re.compile("整治城区交通秩序"))
    reload_until(page, task, "the assignment at the county")
    task.click()
    assert page.get_by_text("分解给下级单位（可选）").count() == 0  # not before 签收
    page.get_by_role("button", name="签收").click()
    expect(page.get_by_role("status")).to_have_text("已签收")

    parent_due = TEST_NOW.date() + timedelta(days=30)
    page.get_by_text("分解给下级单位（可选）").click()
    page.get_by_label("主办单位").select_option("qjp_changxi")
    page.get_by_label(re.compile("^办结时限")).fill((parent_due + timedelta(days=5)).isoformat())
    page.get_by_role("button", name="分解交办").click()
    expect(page.locator("#err-split_deadline")).to_contain_text("不能晚于本单位的办结时限")
    shots(page, "split-deadline-error")
    page.get_by_label(re.compile("^办结时限")).fill((parent_due - timedelta(days=10)).isoformat())
    page.get_by_label("分解任务的内容（可不填，默认沿用交办内容）").fill("长西街道负责辖区内路段整治。")
    page.get_by_role("button", name="分解交办").click()
    expect(page.get_by_role("status")).to_have_text("已分解交办")
    parts = page.locator("[data-section=parts]")
    expect(parts).to_contain_text("清江浦区长西街道")
    expect(parts).to_contain_text("已交办")
    shots(page, "split-done")

    # The town's handler finds the part in its own to-do list.
    town = browser.new_context(base_url=live.url, locale="zh-CN").new_page()
    login(town, "qjp_changxi", "handler")
    part = town.locator("[data-section=queue]").get_by_role("link", name=re.compile("整治城区交通秩序"))
    reload_until(town, part, "the part at the town")
    expect(town.locator("[data-section=queue]")).to_contain_text("清江浦区人民政府交办")
    shots(town, "town-todo")

    # The county's 督查机构: its queue — the task received, with the light, and the part split down to the
    # town with the town's state and light.
    supervisor = browser.new_context(base_url=live.url, locale="zh-CN", viewport={"width": 375, "height": 812})
    supervisor.set_default_timeout(15_000)
    queue = supervisor.new_page()
    login(queue, "qingjiangpu", "supervisor")
    queue.get_by_role("link", name="本单位承办与分解情况").click()
    expect(queue.get_by_role("heading", name="本单位承办", exact=True)).to_be_visible()
    received = queue.locator(".queue-item").filter(has_text="整治城区交通秩序")
    expect(received.locator(".row [data-light]")).to_have_attribute("data-light", "green")
    expect(received.locator(".row .state")).to_have_text("已签收")
    town_node = received.locator("[data-section=subtree] [data-unit=qjp_changxi]")
    expect(town_node).to_contain_text("清江浦区长西街道")
    expect(town_node.locator(".state")).to_have_text("待签收")
    expect(town_node.locator("[data-light]")).to_have_attribute("data-light", "yellow")  # 签收 due within days
    expect(queue.get_by_test_id("count-green")).to_have_text("1")
    queue.get_by_label("信号灯", exact=True).select_option("red")
    queue.get_by_role("button", name="筛选").click()
    expect(queue.get_by_text("没有符合条件的任务")).to_be_visible()
    queue.goto("/queue")
    shots(queue, "county-queue-phone")
