"""Issue 8, in a real browser: the whole path of an item by clicking only, across the city and a county
(over NATS and S3), with a screenshot of each page; a county user typing a city item's address sees
未找到; a handler never sees an approve button; the handler's to-do list and feedback form at 375 px."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Browser, expect

from helpers import TEST_NOW
from pages.browse import PHONE, fits, login, new_context, reload_until


def test_the_whole_path_by_clicking(browser: Browser, live, shots) -> None:  # noqa: ANN001
    due = (TEST_NOW.date() + timedelta(days=30)).isoformat()
    title = "推进淮安东站综合客运枢纽建设"

    # 登录: `/` leads a browser to the login page.
    inspector = new_context(browser, live).new_page()
    inspector.goto("/")
    expect(inspector).to_have_url(re.compile(r"/login"))
    shots(inspector, "login")
    login(inspector, "city", "inspector", live=live)
    expect(inspector.get_by_test_id("tenant")).to_have_text("淮安市人民政府办公室")
    expect(inspector.get_by_test_id("roles")).to_contain_text("督查员")

    # 立项: the inspector drafts the plan (an error first: the form names the missing field), then submits.
    inspector.get_by_role("link", name="新建督查事项").click()
    inspector.get_by_label("事项名称", exact=True).fill(title)
    inspector.get_by_role("button", name="保存草稿").click()
    expect(inspector.locator("#err-division")).to_have_text("请填写责任处室")
    expect(inspector.get_by_label("事项名称", exact=True)).to_have_value(title)  # what was typed is kept
    inspector.get_by_label("批示（交办）领导", exact=True).fill("市长")
    inspector.get_by_label("批示日期", exact=True).fill((TEST_NOW.date() - timedelta(days=2)).isoformat())
    inspector.get_by_label("批示或交办内容", exact=True).fill("请抓紧推进，按期完成。")
    inspector.get_by_label("责任处室", exact=True).fill("督查一处")
    inspector.get_by_label("督查组", exact=True).select_option("mayor")
    inspector.get_by_label("办结时限", exact=True).fill(due)
    inspector.get_by_label("主办单位", exact=True).select_option("qingjiangpu")
    inspector.get_by_label("交办内容", exact=True).fill("加快征地拆迁和配套道路建设。")
    inspector.get_by_label("办理要求", exact=True).fill("每周五前反馈进展。")
    shots(inspector, "new-item-form")
    inspector.get_by_role("button", name="保存草稿").click()
    expect(inspector.get_by_role("status")).to_have_text("草稿已保存")
    item_url = inspector.url.split("?")[0]
    inspector.get_by_role("button", name="报送审定").click()
    expect(inspector.get_by_role("status")).to_have_text("已报送审定")
    expect(inspector.locator(".badges .state")).to_have_text("待审定")
    shots(inspector, "item-submitted")

    # 审定: the approver (TOTP) sees the plan waiting; a reject needs a reason; then approves.
    approver = new_context(browser, live).new_page()
    login(approver, "city", "approver", live=live)
    waiting = approver.locator("[data-section=approvals]")
    expect(waiting.get_by_role("link", name=re.compile(title))).to_be_visible()
    shots(approver, "approver-home")
    waiting.get_by_role("link", name=re.compile(title)).click()
    approver.get_by_role("button", name="退回修改").click()
    expect(approver.locator("#err-reject")).to_have_text("请填写退回理由，说明需要修改什么")
    shots(approver, "reject-needs-reason")
    approver.get_by_role("button", name="审定立项").click()
    expect(approver.get_by_role("status")).to_have_text("已审定立项")
    expect(approver.get_by_text(re.compile(r"编号 \d{4}-0001"))).to_be_visible()

    # 交办: the inspector assigns it to the county.
    inspector.goto(item_url)
    inspector.get_by_role("button", name="交办").click()
    expect(inspector.get_by_role("status")).to_have_text("已交办")
    shots(inspector, "item-assigned")
    inspector.goto("/home")
    overview = inspector.locator("[data-section=overview]")
    expect(overview.get_by_role("link", name=title)).to_be_visible()
    expect(overview.locator("[data-light]")).to_have_attribute("data-light", "yellow")  # due within 3 workdays
    # The filters update the list in place (htmx) and keep the address: red shows nothing, then yellow.
    inspector.get_by_label("信号灯", exact=True).select_option("red")
    expect(overview.get_by_text("没有符合条件的事项")).to_be_visible()
    expect(inspector).to_have_url(re.compile(r"light=red"))
    inspector.get_by_label("信号灯", exact=True).select_option("yellow")
    expect(overview.get_by_role("link", name=title)).to_be_visible()
    inspector.get_by_label("搜索", exact=True).fill("不存在的词语")
    inspector.get_by_role("button", name="筛选").click()
    expect(overview.get_by_text("没有符合条件的事项")).to_be_visible()
    inspector.get_by_label("搜索", exact=True).fill("客运枢纽")
    inspector.get_by_role("button", name="筛选").click()
    expect(overview.get_by_role("link", name=title)).to_be_visible()
    shots(inspector, "overview")

    # A county user typing the city item's address sees 未找到; a handler never sees an approve button.
    handler_context = new_context(browser, live)
    handler = handler_context.new_page()
    login(handler, "qingjiangpu", "handler", live=live)
    response = handler.goto(item_url)
    assert response is not None and response.status == 404
    expect(handler.get_by_role("heading", name="未找到")).to_be_visible()
    shots(handler, "county-not-found")

    # 签收 at the county: the task arrives in the handler's to-do list.
    handler.goto("/home")
    task = handler.locator("[data-section=queue]").get_by_role("link", name=re.compile(title))
    reload_until(handler, task, "the assignment to reach the county's to-do list")
    shots(handler, "handler-todo")
    task.click()
    assert handler.get_by_role("button", name="审定立项").count() == 0
    handler.get_by_role("button", name="签收").click()
    expect(handler.get_by_role("status")).to_have_text("已签收")
    assert handler.get_by_role("button", name=re.compile("审定")).count() == 0
    task_url = handler.url.split("?")[0]

    # 反馈 with a file, on a phone: the to-do list and the form fit 375 px.
    phone = new_context(browser, live, PHONE).new_page()
    login(phone, "qingjiangpu", "handler", live=live)
    fits(phone)
    expect(phone.locator("[data-section=queue]").get_by_role("link", name=re.compile(title))).to_be_visible()
    shots(phone, "phone-todo")
    phone.locator("[data-section=queue]").get_by_role("link", name=re.compile(title)).click()
    expect(phone.get_by_role("button", name="报送反馈")).to_be_visible()
    fits(phone)
    phone.get_by_role("button", name="报送反馈").click()  # empty: the sentence next to the field
    expect(phone.locator("#err-text")).to_have_text("请填写反馈内容：办理进展或结果")
    phone.get_by_label("结果反馈", exact=True).check()
    phone.get_by_label("反馈内容", exact=True).fill("征地拆迁已完成，配套道路已通车。")
    report = Path(live.settings.data_dir).parent / "进展报告.pdf"
    report.write_bytes(b"%PDF-1.7\n" + "淮安东站综合客运枢纽建设进展".encode() * 200)
    phone.get_by_label("选择附件").set_input_files(str(report))
    for control in ("反馈内容", "结果反馈", "进展反馈"):
        expect(phone.get_by_label(control, exact=True)).to_be_visible()
    fits(phone)
    shots(phone, "phone-feedback-form")
    phone.get_by_role("button", name="报送反馈").click()
    expect(phone.get_by_role("status")).to_have_text("反馈已报送")
    expect(phone.get_by_role("link", name="进展报告.pdf")).to_be_visible()
    fits(phone)
    shots(phone, "phone-feedback-sent")

    # 办结申请 by the county's 第一责任人.
    chief = new_context(browser, live).new_page()
    login(chief, "qingjiangpu", "chief", live=live, then=task_url)  # the login page leads back to the task
    expect(chief).to_have_url(re.compile(re.escape(task_url)))
    chief.get_by_label(re.compile("办结申请说明")).fill("经区政府主要负责同志审签，申请办结。")
    shots(chief, "chief-request-completion")
    chief.get_by_role("button", name="申请办结").click()
    expect(chief.get_by_role("status")).to_have_text("已申请办结")

    # 办结 and 归档 at the city, once the county's answers have arrived.
    inspector.goto(item_url)
    reload_until(inspector, inspector.get_by_role("button", name="审核办结"), "the completion request at the city")
    expect(inspector.get_by_role("link", name="进展报告.pdf")).to_be_visible()
    inspector.get_by_role("button", name="审核办结").click()
    expect(inspector.get_by_role("status")).to_have_text("已办结")
    inspector.get_by_role("button", name="归档").click()
    expect(inspector.get_by_role("status")).to_have_text("已归档")
    expect(inspector.locator(".badges .state")).to_have_text("已归档")
    expect(inspector.get_by_text("档号")).to_be_visible()
    timeline = inspector.locator(".timeline")
    for step in ("起草", "报审", "审定立项", "交办", "签收", "反馈", "申请办结", "办结", "归档"):
        expect(timeline).to_contain_text(step)
    assert inspector.get_by_role("button").filter(has_text=re.compile("交办|办结|归档|报送")).count() == 0
    shots(inspector, "item-archived")

    # The overview and the item page on a phone too.
    small = new_context(browser, live, PHONE).new_page()
    login(small, "city", "inspector", live=live)
    expect(small.locator("[data-section=overview]").get_by_role("link", name=title)).to_be_visible()
    fits(small)
    shots(small, "phone-overview")
    small.goto(item_url)
    expect(small.get_by_text("档号")).to_be_visible()
    fits(small)
    shots(small, "phone-item")

    # 退出.
    inspector.get_by_role("button", name="退出").click()
    expect(inspector.get_by_role("status")).to_have_text("您已安全退出。")
    inspector.goto(item_url)
    expect(inspector).to_have_url(re.compile(r"/login\?next="))
