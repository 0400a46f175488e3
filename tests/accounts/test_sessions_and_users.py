"""Sessions and the tenant's users: log out everywhere, change one's password, and a tenant administrator
who lists, creates, re-roles, disables and resets users — only in their own tenant, every action in the
tenant's audit log with who did what to whom."""

from __future__ import annotations

from sqlalchemy import select

from duban.accounts.service import DEMO_PASSWORD
from duban.audit.models import AuditEntry
from helpers import login, plan

STRONG = "Huaian-2026-duban"


async def _login(client, username: str, password: str = DEMO_PASSWORD, tenant: str = "city"):
    return await client.post("/api/login", json={"tenant": tenant, "username": username, "password": password})


def _bearer(response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def _audit(platform, tenant: str = "city") -> list[tuple[str, str, str, str]]:
    async with platform.db.transaction(tenant) as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(r.action, r.actor, r.target, r.detail) for r in rows]


async def test_log_out_everywhere_ends_every_session_of_the_user_only(client, platform):
    first, second = _bearer(await _login(client, "inspector")), _bearer(await _login(client, "inspector"))
    other = _bearer(await _login(client, "supervisor"))
    r = await client.post("/api/logout/all", headers=first)
    assert r.status_code == 204
    assert (await client.get("/api/me", headers=first)).status_code == 401
    assert (await client.get("/api/me", headers=second)).status_code == 401
    assert (await client.get("/api/me", headers=other)).status_code == 200
    assert ("logout_all", "city/inspector", "city/inspector", "sessions ended: 2") in await _audit(platform)


async def test_changing_the_password_needs_the_old_one_and_a_strong_new_one(client, platform):
    here, elsewhere = _bearer(await _login(client, "inspector")), _bearer(await _login(client, "inspector"))
    change = "/api/account/password"
    r = await client.post(change, json={"old_password": "wrong", "new_password": STRONG}, headers=here)
    assert r.status_code == 403 and "原密码错误" in r.json()["detail"]
    for weak in ("short-1A", "alllowercaseletters", "inspector-2026-ABC"):
        r = await client.post(change, json={"old_password": DEMO_PASSWORD, "new_password": weak}, headers=here)
        assert r.status_code == 400 and "新密码太弱" in r.json()["detail"], weak
    r = await client.post(change, json={"old_password": DEMO_PASSWORD, "new_password": STRONG}, headers=here)
    assert r.status_code == 204
    assert (await client.get("/api/me", headers=here)).status_code == 200  # this session stays
    assert (await client.get("/api/me", headers=elsewhere)).status_code == 401  # the others end
    assert (await _login(client, "inspector")).status_code == 401
    assert (await _login(client, "inspector", STRONG)).status_code == 200
    rows = await _audit(platform)
    assert ("password_changed", "city/inspector", "city/inspector", "other sessions ended: 1") in rows
    assert any(a == "denied" and actor == "city/inspector" and "原密码错误" in d for a, actor, _, d in rows)


async def test_wrong_current_passwords_count_towards_the_lockout(client, platform):
    here = _bearer(await _login(client, "inspector"))
    for _ in range(5):
        r = await client.post("/api/account/password", json={"old_password": "guess", "new_password": STRONG},
                              headers=here)
        assert r.status_code == 403
    r = await client.post("/api/account/password", json={"old_password": DEMO_PASSWORD, "new_password": STRONG},
                          headers=here)
    assert r.status_code == 429
    assert (await _login(client, "inspector")).status_code == 429


async def test_an_administrator_resets_a_password_and_the_user_must_change_it(client, platform):
    admin = await login(client, "city", "admin")
    inspector = _bearer(await _login(client, "inspector"))
    r = await client.post("/api/users/inspector/password-reset", headers=admin)
    assert r.status_code == 200
    temporary = r.json()["temporary_password"]
    assert (await client.get("/api/me", headers=inspector)).status_code == 401  # forced to log in again
    assert (await _login(client, "inspector")).status_code == 401  # the old password is gone
    r = await _login(client, "inspector", temporary)
    assert r.status_code == 200 and r.json()["must_change_password"]
    restricted = _bearer(r)
    r = await client.post("/api/items", json=plan(), headers=restricted)
    assert r.status_code == 403 and "修改密码" in r.json()["detail"]
    assert (await client.get("/api/items", headers=restricted)).status_code == 403
    r = await client.post("/api/account/password", json={"old_password": temporary, "new_password": STRONG},
                          headers=restricted)
    assert r.status_code == 204
    assert (await client.post("/api/items", json=plan(), headers=restricted)).status_code == 201
    r = await _login(client, "inspector", STRONG)
    assert r.status_code == 200 and not r.json()["must_change_password"]
    assert ("password_reset", "city/admin", "city/inspector", "sessions ended: 1") in await _audit(platform)


async def test_an_administrator_manages_the_tenants_users(client, platform):
    admin = await login(client, "city", "admin")
    r = await client.get("/api/users", headers=admin)
    assert r.status_code == 200
    users = {u["username"]: u for u in r.json()}
    assert users["approver"]["roles"] == ["approver"] and users["approver"]["second_factor"]
    assert users["inspector"]["active"] and not users["inspector"]["second_factor"]

    r = await client.post("/api/users", json={"username": "clerk", "display_name": "新督查员", "roles": ["inspector"]},
                          headers=admin)
    assert r.status_code == 201
    temporary = r.json()["temporary_password"]
    assert (await client.post("/api/users", json={"username": "clerk", "display_name": "x", "roles": ["inspector"]},
                              headers=admin)).status_code == 409
    r = await client.post("/api/users", json={"username": "nobody", "display_name": "x", "roles": ["emperor"]},
                          headers=admin)
    assert r.status_code == 400 and "未知角色" in r.json()["detail"]
    r = await _login(client, "clerk", temporary)
    assert r.status_code == 200 and r.json()["must_change_password"] and r.json()["roles"] == ["inspector"]
    clerk = _bearer(r)
    assert (await client.post("/api/account/password", json={"old_password": temporary, "new_password": STRONG},
                              headers=clerk)).status_code == 204
    assert (await client.post("/api/items", json=plan(), headers=clerk)).status_code == 201

    # Roles change at once (the policy's grants follow): the clerk may no longer draft.
    r = await client.put("/api/users/clerk/roles", json={"roles": ["supervisor"]}, headers=admin)
    assert r.status_code == 200 and r.json() == ["supervisor"]
    assert (await client.post("/api/items", json=plan(), headers=clerk)).status_code == 403
    assert (await client.get("/api/me", headers=clerk)).json()["roles"] == ["supervisor"]

    # Disabled: the session ends and logins are refused; enabled: back.
    assert (await client.post("/api/users/clerk/disable", headers=admin)).status_code == 204
    assert (await client.get("/api/me", headers=clerk)).status_code == 401
    assert (await _login(client, "clerk", STRONG)).status_code == 401
    assert (await client.post("/api/users/clerk/enable", headers=admin)).status_code == 204
    assert (await _login(client, "clerk", STRONG)).status_code == 200

    # An administrator cannot lock themselves out.
    assert (await client.post("/api/users/admin/disable", headers=admin)).status_code == 409
    assert (await client.put("/api/users/admin/roles", json={"roles": ["inspector"]},
                             headers=admin)).status_code == 409

    rows = [(a, actor, target, detail) for a, actor, target, detail in await _audit(platform) if actor == "city/admin"
            and a != "write" and a != "login"]
    assert rows == [
        ("user_created", "city/admin", "city/clerk", "roles: inspector"),
        ("user_roles_changed", "city/admin", "city/clerk", "roles: inspector -> supervisor"),
        ("user_disabled", "city/admin", "city/clerk", ""),
        ("user_enabled", "city/admin", "city/clerk", ""),
    ]


async def test_only_an_administrator_and_only_in_their_own_tenant(client, platform):
    inspector = _bearer(await _login(client, "inspector"))
    for method, path, body in (("GET", "/api/users", None), ("POST", "/api/users/approver/password-reset", None),
                               ("PUT", "/api/users/approver/roles", {"roles": ["inspector"]}),
                               ("POST", "/api/users", {"username": "x1", "display_name": "x", "roles": ["inspector"]}),
                               ("POST", "/api/users/approver/disable", None)):
        r = await client.request(method, path, json=body, headers=inspector)
        assert r.status_code == 403, (method, path, r.text)
    # The city's administrator reaches only the city's users: a county's handler is not there.
    admin = await login(client, "city", "admin")
    assert (await client.post("/api/users/handler/password-reset", headers=admin)).status_code == 404
    county = _bearer(await _login(client, "handler", tenant="qingjiangpu"))
    assert (await client.get("/api/me", headers=county)).status_code == 200  # untouched
    assert (await client.get("/api/users", headers=county)).status_code == 403
    denied = [row for row in await _audit(platform) if row[0] == "denied" and row[1] == "city/inspector"]
    assert len(denied) == 5 and all("users:" in detail for *_, detail in denied)


async def test_session_cookies_are_httponly_strict_and_secure_over_tls(client, platform, settings):
    r = await _login(client, "inspector")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    r = await client.post("https://duban.test/api/login", json={"tenant": "city", "username": "inspector",
                                                               "password": DEMO_PASSWORD})
    assert "secure" in r.headers["set-cookie"].lower()
    # X-Forwarded-Proto counts only from a trusted proxy.
    forwarded = {"x-forwarded-proto": "https"}
    r = await client.post("/api/login", json={"tenant": "city", "username": "inspector", "password": DEMO_PASSWORD},
                          headers=forwarded)
    assert "secure" not in r.headers["set-cookie"].lower()
    platform.settings = settings.with_(trusted_proxies=("127.0.0.1",))
    r = await client.post("/api/login", json={"tenant": "city", "username": "inspector", "password": DEMO_PASSWORD},
                          headers=forwarded)
    assert "secure" in r.headers["set-cookie"].lower()
    r = await client.post("/api/logout", headers=_bearer(r))
    assert r.status_code == 204 and "max-age=0" in r.headers["set-cookie"].lower()  # the browser drops it
