"""The read-only roles of the responsibility network over HTTP: the archivist (档案管理员) reads items and
assignments and verifies dossiers; the observer (领导查阅) reads everything of its tenant and writes nothing."""

from __future__ import annotations

from duban.accounts.repository import AccountRepository
from duban.accounts.service import DEMO_PASSWORD, create_user
from helpers import login, plan, registered_item


async def _add_user(platform, tenant: str, username: str, roles: list[str]) -> None:
    async with platform.db.transaction(tenant) as session:
        await create_user(AccountRepository(session, tenant), platform.policy, username, username, DEMO_PASSWORD,
                          roles, cost=platform.settings.password_cost)


async def test_the_archivist_and_the_observer_read_and_change_nothing(client, platform):
    inspector, approver = await login(client, "city", "inspector"), await login(client, "city", "approver")
    item_id = await registered_item(client, inspector, approver)
    await _add_user(platform, "city", "keeper", ["archivist"])
    await _add_user(platform, "city", "mayor_ro", ["observer"])
    archivist, observer = await login(client, "city", "keeper"), await login(client, "city", "mayor_ro")
    handler = await login(client, "qingjiangpu", "handler")

    for who in (archivist, observer):
        assert (await client.get("/api/items", headers=who)).status_code == 200
        assert (await client.get(f"/api/items/{item_id}", headers=who)).json()["item"]["id"] == item_id
        assert (await client.get("/api/assignments", headers=who)).status_code == 200
        # Verifying is theirs: the item is not archived yet (409), not a refusal (403).
        assert (await client.get(f"/api/items/{item_id}/archive/verify", headers=who)).status_code == 409
        for method, url, body in [("POST", "/api/items", plan()), ("POST", f"/api/items/{item_id}/assign", None),
                                  ("POST", f"/api/items/{item_id}/reminders", {"note": "请加快"}),
                                  ("POST", "/api/merit-proposals", {"kind": "commend", "unit": "city",
                                                                    "reason": "好", "basis_items": [item_id]})]:
            r = await client.request(method, url, json=body, headers=who)
            assert r.status_code == 403, (method, url, r.text)
    assert (await client.get("/api/merit-proposals", headers=observer)).status_code == 200
    assert (await client.get("/api/merit-proposals", headers=archivist)).status_code == 403
    assert (await client.get("/api/figures", headers=observer)).status_code == 200
    assert (await client.get("/api/inbox", headers=observer)).status_code == 200
    assert (await client.get(f"/api/items/{item_id}/archive/verify", headers=handler)).status_code == 403
    r = await client.get(f"/api/items/{item_id}/archive/verify", headers=await login(client, "city", "admin"))
    assert r.status_code == 403, "the administrator keeps users and the calendar, not the dossiers"
