"""The login page, its errors next to their fields, the second factor, CSRF on every form, the pages' security
headers, and an ended session: back to login, then to the page the user wanted. The JSON API keeps
answering bearer tokens and JSON as before."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from duban.accounts.service import DEMO_PASSWORD
from helpers import TEST_NOW, totp_login_code


def test_login_errors_second_factor_csrf_and_an_ended_session(browser: Browser, live, shots) -> None:  # noqa: ANN001
    context = browser.new_context(base_url=live.url, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()

    # Anonymous: every page leads to the login page, which names the page wanted.
    page.goto("/home?state=draft")
    expect(page).to_have_url(re.compile(r"/login\?next=/home%3Fstate%3Ddraft"))
    expect(page.get_by_role("status")).to_have_text("请先登录。")
    partial = page.request.get(f"{live.url}/home?q=x", headers={"HX-Request": "true"}, max_redirects=0)
    assert partial.status == 204 and partial.headers["hx-redirect"] == "/login?next=/home%3Fq%3Dx&why=login"
    response = page.request.get(f"{live.url}/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["cache-control"] == "no-store"

    # Keyboard: every control of the form is reached with Tab, in order, and shows where the focus is.
    page.locator("body").focus()
    order = []
    for _ in range(7):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    assert order[:6] == ["跳到正文", "督督查督办平台", "tenant", "username", "password",  # the brand: seal + name
                         "动态口令（审定人、系统管理员须填写）"], order
    assert order[6] == "登录", order
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows no outline"

    # Errors are sentences next to their fields; nothing typed is lost but the password.
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#err-tenant")).to_have_text("请选择单位")
    expect(page.locator("#err-username")).to_have_text("请输入用户名")
    page.get_by_label("单位").select_option("city")
    page.get_by_label("用户名").fill("inspector")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#err-password")).to_have_text("用户名或密码错误")
    expect(page.get_by_label("用户名")).to_have_value("inspector")
    shots(page, "login-wrong-password")

    # An approver without the code: the second-factor field opens with the reason next to it.
    page.get_by_label("用户名").fill("approver")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#err-totp")).to_contain_text("该账户须使用动态口令")
    expect(page.get_by_label("6位动态口令")).to_be_visible()
    shots(page, "login-needs-totp")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_label("6位动态口令").fill(totp_login_code(live.settings.data_dir, "city", "approver", TEST_NOW))
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/home\?state=draft$"))  # where the user wanted to go
    expect(page.get_by_test_id("roles")).to_contain_text("审定人")
    assert page.get_by_role("link", name="新建督查事项").count() == 0  # an approver drafts nothing

    # CSRF: a form without the session's token is refused, and changes nothing (the session goes on).
    refused = page.request.post(f"{live.url}/logout", form={"csrf_token": "forged"})
    assert refused.status == 403 and "页面已过期" in refused.text()
    refused = page.request.post(f"{live.url}/login", form={"tenant": "city", "username": "inspector",
                                                           "password": DEMO_PASSWORD})
    assert refused.status == 403
    page.reload()
    expect(page.get_by_test_id("user")).to_contain_text("approver")

    # The session ends on the server (here the API's logout, with the same cookie) while the browser still
    # holds its cookie: the next page goes to the login page, saying so, and after the login back to it.
    [cookie] = [c for c in context.cookies() if c["name"] == "duban_session"]
    assert page.request.post(f"{live.url}/api/logout").status == 204
    context.add_cookies([cookie])
    page.goto("/home?light=red")
    expect(page).to_have_url(re.compile(r"/login\?next=/home%3Flight%3Dred"))
    expect(page.get_by_role("status")).to_contain_text("登录已失效")
    page.get_by_label("单位").select_option("city")
    page.get_by_label("用户名").fill("inspector")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/home\?light=red$"))
    expect(page.get_by_label("信号灯")).to_have_value("red")

    # An unknown address is 未找到, as a page; a next= to another site is not followed.
    response = page.goto("/items/no-such-item")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    page.goto("/login?next=//evil.example/")
    assert page.locator("input[name=next]").get_attribute("value") == "/home"

    # The JSON API: bearer tokens and JSON answers, as before.
    api = context.request
    token = api.post(f"{live.url}/api/login", data={"tenant": "qingjiangpu", "username": "handler",
                                                    "password": DEMO_PASSWORD}).json()["token"]
    me = api.get(f"{live.url}/api/me", headers={"Authorization": f"Bearer {token}", "Cookie": ""})
    assert me.status == 200 and me.json()["username"] == "handler"
    anonymous = browser.new_context(base_url=live.url).request.get(f"{live.url}/api/items")
    assert anonymous.status == 401 and anonymous.headers["content-type"].startswith("application/json")
    context.close()
