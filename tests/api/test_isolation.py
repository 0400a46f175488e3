"""Each tenant sees only its own storage: another tenant's object answers 404 (ARCHITECTURE §5)."""

from __future__ import annotations

from helpers import eventually, login, registered_item


async def _assigned_to_both(client) -> tuple[str, dict, dict]:
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    item_id = await registered_item(client, inspector, approver, units=[("qingjiangpu", "lead"), ("huaian", "co")])
    assert (await client.post(f"/api/items/{item_id}/assign", headers=inspector)).status_code == 200
    found = {}
    for county in ("qingjiangpu", "huaian"):
        handler = await login(client, county, "handler")

        async def queue(h=handler):
            return (await client.get("/api/assignments", headers=h)).json()

        [found[county]] = await eventually(queue, what=f"the assignment at {county}")
    return item_id, found["qingjiangpu"], found["huaian"]


async def test_a_county_cannot_read_or_change_the_citys_item(client):
    item_id, _, _ = await _assigned_to_both(client)
    for username in ("supervisor", "chief"):  # roles that may read items in their own tenant
        county = await login(client, "qingjiangpu", username)
        r = await client.get(f"/api/items/{item_id}", headers=county)
        assert r.status_code == 404, r.text
        assert item_id not in [i["id"] for i in (await client.get("/api/items", headers=county)).json()]
    # Changing it: roles that lack the action are refused outright; none reaches the city's data.
    for username in ("chief", "handler", "supervisor", "leader"):
        county = await login(client, "qingjiangpu", username)
        for action in ("approve", "assign", "complete", "archive", "submit"):
            r = await client.post(f"/api/items/{item_id}/{action}", headers=county)
            assert r.status_code in (403, 404), (username, action, r.status_code)
        r = await client.patch(f"/api/items/{item_id}", json={"title": "改"}, headers=county)
        assert r.status_code in (403, 404)
    inspector = await login(client, "city", "inspector")
    detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
    assert detail["item"]["title"] == "推进淮安东站综合客运枢纽建设" and detail["item"]["state"] == "assigned"


async def test_a_county_cannot_read_or_change_another_countys_assignment(client):
    _, ours, theirs = await _assigned_to_both(client)
    handler = await login(client, "qingjiangpu", "handler")
    chief = await login(client, "qingjiangpu", "chief")
    # huaian's assignment (its own row in huaian's storage) is invisible to qingjiangpu.
    assert ours["id"] != theirs["id"]
    assert (await client.get(f"/api/assignments/{theirs['id']}", headers=handler)).status_code == 404
    assert (await client.post(f"/api/assignments/{theirs['id']}/accept", headers=handler)).status_code == 404
    r = await client.post(f"/api/assignments/{theirs['id']}/feedback", json={"text": "代为反馈"}, headers=handler)
    assert r.status_code == 404
    r = await client.post(f"/api/assignments/{theirs['id']}/request-completion", headers=chief)
    assert r.status_code == 404
    other = await login(client, "huaian", "handler")
    unchanged = (await client.get(f"/api/assignments/{theirs['id']}", headers=other)).json()
    assert unchanged["assignment"]["state"] == "issued" and unchanged["feedback"] == []


async def test_a_token_only_opens_its_own_tenant(client):
    county = await login(client, "qingjiangpu", "chief")
    me = (await client.get("/api/me", headers=county)).json()
    assert me["tenant"] == "qingjiangpu" and me["roles"] == ["chief"]
    token = county["Authorization"].split()[1]
    forged = {"Authorization": "Bearer city." + token.split(".", 1)[1]}  # same secret, other tenant
    assert (await client.get("/api/me", headers=forged)).status_code == 401
