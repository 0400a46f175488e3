"""One's own account in the browser: a new 审定人 logs in with the temporary password the administrator
got, is sent to 修改密码 (not shown 无权操作), then — the role needs a second factor — to 绑定动态口令,
enrolls with an authenticator's code, sees the recovery codes once and reaches the home page. An unknown
address answers the 未找到 page to a browser, while /api keeps JSON."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from duban.accounts import totp
from duban.accounts.service import DEMO_PASSWORD
from helpers import TEST_NOW, totp_login_code


@pytest.mark.tenants("city", "qingjiangpu")
def test_a_new_approver_changes_the_password_and_enrolls(browser: Browser, live, shots) -> None:  # noqa: ANN001
    api = browser.new_context(base_url=live.url).request
    body = {"tenant": "city", "username": "admin", "password": DEMO_PASSWORD,
            "totp": totp_login_code(live.settings.data_dir, "city", "admin", TEST_NOW)}
    admin = {"Authorization": f"Bearer {api.post('/api/login', data=body).json()['token']}"}
    made = api.post("/api/users", headers=admin, data={"username": "mishu2", "display_name": "副秘书长",
                                                       "roles": ["approver"]})
    assert made.ok, made.text()
    temporary = made.json()["temporary_password"]

    context = browser.new_context(base_url=live.url, locale="zh-CN", viewport={"width": 375, "height": 812})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("单位").select_option("city")
    page.get_by_label("用户名").fill("mishu2")
    page.get_by_label("密码").fill(temporary)
    page.get_by_role("button", name="登录").click()

    # A temporary password: to 修改密码 first (any other page leads here too).
    expect(page).to_have_url(re.compile(r"/account/password\?why=temp$"))
    expect(page.get_by_role("status")).to_contain_text("临时密码")
    page.goto("/home")
    expect(page).to_have_url(re.compile(r"/account/password"))
    page.get_by_label("原密码").fill(temporary)
    page.get_by_label("新密码", exact=True).fill("Huaian-2026-mishu")
    page.get_by_label("再次输入新密码").fill("Huaian-2026-other")
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator("#err-again")).to_have_text("两次输入的新密码不一致")
    page.get_by_label("原密码").fill(temporary)
    page.get_by_label("新密码", exact=True).fill("short")
    page.get_by_label("再次输入新密码").fill("short")
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator("#err-new")).to_be_visible()
    shots(page, "password-weak")
    page.get_by_label("原密码").fill(temporary)
    page.get_by_label("新密码", exact=True).fill("Huaian-2026-mishu")
    page.get_by_label("再次输入新密码").fill("Huaian-2026-mishu")
    page.get_by_role("button", name="修改密码").click()

    # The role needs a second factor: to 绑定动态口令 (not a 403 page).
    expect(page).to_have_url(re.compile(r"/account/totp$"))
    expect(page.get_by_role("heading", name="绑定动态口令")).to_be_visible()
    page.get_by_role("button", name="开始绑定").click()
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    right = totp.code_at(secret, TEST_NOW)
    page.get_by_label("6位动态口令").fill("000000" if right != "000000" else "111111")
    page.get_by_role("button", name="确认绑定").click()
    expect(page.locator("#err-code")).to_contain_text("动态口令不正确")
    shots(page, "totp-wrong-code")
    page.get_by_label("6位动态口令").fill(right)
    page.get_by_role("button", name="确认绑定").click()
    expect(page.get_by_role("status")).to_contain_text("动态口令已绑定")
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    shots(page, "totp-recovery-codes")
    page.get_by_role("link", name="我已保存，进入工作台").click()
    expect(page.get_by_test_id("user")).to_contain_text("mishu2")
    expect(page.locator("[data-section=approvals]")).to_be_visible()

    # An unknown address: the 未找到 page for a browser; JSON under /api.
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    shots(page, "unknown-address")
    answer = api.get("/api/no-such-thing", headers={"Accept": "text/html"})
    assert answer.status == 404 and answer.headers["content-type"].startswith("application/json")
