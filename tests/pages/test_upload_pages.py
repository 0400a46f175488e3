"""反馈 with a large file: the bar shows the real progress of the upload (XMLHttpRequest's upload events,
static/duban.js), on a network throttled so that the upload takes a while; then the page with its message."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from helpers import plan
from pages.browse import api_token, login


@pytest.mark.tenants("city", "qingjiangpu")
def test_a_large_file_shows_its_upload_progress(browser: Browser, live, shots) -> None:  # noqa: ANN001
    api = browser.new_context(base_url=live.url).request

    token = api_token(api, live)

    inspector, approver = token("city", "inspector"), token("city", "approver")
    item = api.post("/api/items", data=plan(title="整治城区交通秩序"), headers=inspector).json()["id"]
    for step, who in (("submit", inspector), ("approve", approver), ("assign", inspector)):
        assert api.post(f"/api/items/{item}/{step}", headers=who).ok, step
    county = token("qingjiangpu", "handler")
    deadline = time.monotonic() + 20
    while not (found := api.get("/api/assignments", headers=county).json()):
        assert time.monotonic() < deadline, "the assignment did not reach the county"
        time.sleep(0.2)
    assignment = found[0]["id"]
    assert api.post(f"/api/assignments/{assignment}/accept", headers=county).ok

    context = browser.new_context(base_url=live.url, locale="zh-CN")
    context.set_default_timeout(30_000)
    page = context.new_page()
    login(page, "qingjiangpu", "handler")
    page.goto(f"/assignments/{assignment}")
    big = Path(live.settings.data_dir).parent / "现场照片合集.zip"
    big.write_bytes(b"PK\x03\x04" + bytes(range(256)) * (6 * 4096))  # 6 MB
    page.get_by_label("反馈内容", exact=True).fill("附现场照片。")
    page.get_by_label("选择附件").set_input_files(str(big))
    # About 3 s to send 6 MB: the bar has time to move.
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                  "uploadThroughput": 2 * 1024 * 1024})
    page.get_by_role("button", name="报送反馈").click()
    bar = page.locator(".upload-progress")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("data-seen", re.compile(r"^[1-9][0-9]?$"))  # part of the file, not all
    expect(page.locator(".upload-status")).to_contain_text(re.compile(r"正在上传… \d+%（\d+\.\d MB / 6\.\d MB）"))
    shots(page, "upload-progress")
    expect(page.get_by_role("status")).to_have_text("反馈已报送")
    expect(page.get_by_role("link", name="现场照片合集.zip")).to_be_visible()
