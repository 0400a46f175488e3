"""What the browser tests share: a browser context on the live server, logging in through the login page
(with the TOTP step where the role needs it), reloading until an event has crossed NATS, the phone-width
check, and bearer tokens for setting up state through the API."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import APIRequestContext, Browser, BrowserContext, Locator, Page, expect

from duban.accounts.service import DEMO_PASSWORD
from helpers import TEST_NOW, totp_login_code

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 860}


def new_context(browser: Browser, live, viewport: dict = DESKTOP) -> BrowserContext:  # noqa: ANN001
    context = browser.new_context(base_url=live.url, viewport=viewport, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(15_000)
    return context


def login(page: Page, tenant: str, username: str, *, live=None, then: str = "/login") -> None:  # noqa: ANN001
    """Log in on the login page that ``then`` leads to; with ``live``, type the TOTP code where one is needed."""
    page.goto(then)
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.get_by_label("单位").select_option(tenant)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    code = totp_login_code(live.settings.data_dir, tenant, username, TEST_NOW) if live is not None else None
    if code is not None:
        page.get_by_text("动态口令（审定人、系统管理员须填写）").click()
        page.get_by_label("6位动态口令").fill(code)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("user")).to_contain_text(username)


def reload_until(page: Page, locator: Locator, what: str, within: float = 20.0) -> None:
    """Reload until ``locator`` shows (events cross NATS asynchronously)."""
    deadline = time.monotonic() + within
    while not locator.count():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(150)
        page.reload()


def fits(page: Page) -> None:
    """No horizontal scroll, and every visible control lies within the screen's width."""
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    outside = page.evaluate("""(w) => [...document.querySelectorAll('a, button, input, select, textarea, label')]
        .filter(e => e.offsetParent !== null && e.type !== 'hidden' && !e.classList.contains('skip'))
        .map(e => [e.tagName + ' ' + (e.name || e.textContent.trim().slice(0, 20)), e.getBoundingClientRect()])
        .filter(([_, r]) => r.left < -1 || r.right > w + 1).map(([n]) => n)""", width)
    assert not outside, f"controls outside the {width}px screen: {outside}"


def api_token(api: APIRequestContext, live) -> Callable[[str, str], dict[str, str]]:  # noqa: ANN001
    """``token(tenant, username)``: the Authorization header of a fresh API login (TOTP where needed)."""
    def token(tenant: str, username: str) -> dict[str, str]:
        body = {"tenant": tenant, "username": username, "password": DEMO_PASSWORD,
                "totp": totp_login_code(live.settings.data_dir, tenant, username, TEST_NOW)}
        return {"Authorization": f"Bearer {api.post('/api/login', data=body).json()['token']}"}

    return token
