"""Logins are throttled and sessions idle out, on the platform's own clock (moved, not slept)."""

from __future__ import annotations

import pytest

from duban.accounts.service import DEMO_PASSWORD
from helpers import login


@pytest.fixture
def settings(settings):
    # The production defaults, which the other tests switch off.
    return settings.with_(session_hours=12, session_idle_minutes=30, login_max_failures=5, login_lockout_minutes=15,
                          login_rate_per_minute=60)


async def _login(client, username: str, password: str, tenant: str = "city"):
    return await client.post("/api/login", json={"tenant": tenant, "username": username, "password": password})


async def test_wrong_passwords_pause_the_account_not_the_others(client, platform):
    for _ in range(5):
        assert (await _login(client, "inspector", "guess")).status_code == 401
    r = await _login(client, "inspector", DEMO_PASSWORD)  # even the right password, for now
    assert r.status_code == 429 and "15分钟" in r.json()["detail"] and r.json()["retry_after"] > 800
    assert (await _login(client, "supervisor", DEMO_PASSWORD)).status_code == 200  # another account is fine
    platform.time.advance(minutes=15, seconds=1)
    assert (await _login(client, "inspector", DEMO_PASSWORD)).status_code == 200
    # A success clears the count: four more wrong ones do not pause it.
    for _ in range(4):
        assert (await _login(client, "inspector", "guess")).status_code == 401
    assert (await _login(client, "inspector", DEMO_PASSWORD)).status_code == 200


async def test_a_login_flood_from_one_address_is_cut_before_hashing(client, platform):
    codes = [(await _login(client, f"nobody{n}", "x")).status_code for n in range(70)]
    assert codes[:60] == [401] * 60 and set(codes[60:]) == {429}
    platform.time.advance(minutes=1, seconds=1)
    assert (await _login(client, "inspector", DEMO_PASSWORD)).status_code == 200


async def test_an_unused_session_ends_after_the_idle_time(client, platform):
    headers = await login(client, "city", "inspector")
    platform.time.advance(minutes=29)
    assert (await client.get("/api/me", headers=headers)).status_code == 200  # use renews it
    platform.time.advance(minutes=29)
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    platform.time.advance(minutes=31)
    r = await client.get("/api/me", headers=headers)
    assert r.status_code == 401 and "超时" in r.json()["detail"]
    assert (await client.get("/api/me", headers=headers)).status_code == 401  # it is gone, not just stale


async def test_a_session_ends_after_its_hours_however_used(client, platform):
    headers = await login(client, "city", "inspector")
    answered = []
    for _ in range(12 * 3 + 2):
        platform.time.advance(minutes=20)
        answered.append((await client.get("/api/me", headers=headers)).status_code)
    assert answered[:35] == [200] * 35  # used every 20 minutes: never idle
    assert answered[35:] == [401] * 3  # 12 hours after the login it ends all the same
