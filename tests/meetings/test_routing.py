"""Routing by leader (第四条2): an item records its issuing leader; drafted without a group, the mayor's
item goes to the 督查室 and a vice-mayor's to that vice-mayor's 督查组, whose members draft and send
it — and only their own group's. Over HTTP and a real nats-server, on SQLite and PostgreSQL."""

from __future__ import annotations

from helpers import eventually, login, plan


def by_leader(leader: str | None, **more: object) -> dict:
    """A plan naming the issuing leader and no group."""
    body = plan(**more)
    del body["group"]
    if leader is not None:
        body["issuing_leader"] = leader
    return body


async def test_the_leader_routes_the_item_to_the_group_of_the_portfolio(client):
    inspector = await login(client, "city", "inspector")
    for leader, group in [("mayor", "mayor"), ("exec_vice_mayor", "group1"), ("vice_mayor_urban", "group2"),
                          ("vice_mayor_edu", "group3")]:
        r = await client.post("/api/items", json=by_leader(leader), headers=inspector)
        assert r.status_code == 201, r.text
        assert (r.json()["issuing_leader"], r.json()["group"]) == (leader, group)
    # A group named outright is kept, the leader recorded beside it; plans naming only a group still work.
    r = await client.post("/api/items", json={**plan(group="group1"), "issuing_leader": "mayor"}, headers=inspector)
    assert (r.json()["issuing_leader"], r.json()["group"]) == ("mayor", "group1")
    r = await client.post("/api/items", json=plan(), headers=inspector)
    assert (r.json()["issuing_leader"], r.json()["group"]) == (None, "mayor")

    r = await client.post("/api/items", json=by_leader(None), headers=inspector)
    assert r.status_code == 400 and "督查组或交办领导" in r.json()["detail"]
    r = await client.post("/api/items", json=by_leader("nobody"), headers=inspector)
    assert r.status_code == 400 and "nobody" in r.json()["detail"]

    # Changing the leader of a draft moves it to the new leader's group.
    item_id = (await client.post("/api/items", json=by_leader("mayor"), headers=inspector)).json()["id"]
    r = await client.patch(f"/api/items/{item_id}", json={"issuing_leader": "vice_mayor_edu"}, headers=inspector)
    assert r.status_code == 200 and (r.json()["issuing_leader"], r.json()["group"]) == ("vice_mayor_edu", "group3")
    assert len((await client.get("/api/items", headers=inspector)).json()) == 7


async def test_a_group_member_drafts_and_sends_only_its_own_groups_items(client):
    member = await login(client, "city", "member_group2")
    me = (await client.get("/api/me", headers=member)).json()
    assert me["roles"] == ["group_member"] and me["group"] == "group2"
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")

    # A vice-mayor's item lands with that vice-mayor's group, drafted by the group's member…
    r = await client.post("/api/items", json=by_leader("vice_mayor_urban"), headers=member)
    assert r.status_code == 201, r.text
    own = r.json()
    assert (own["group"], own["issuing_leader"], own["created_by"]) == ("group2", "vice_mayor_urban",
                                                                          "city/member_group2")
    # …who cannot draft for another leader's group, by leader or by group, nor move its own item there.
    for body in (by_leader("vice_mayor_edu"), by_leader("mayor"), plan(group="group3"),
                 {**plan(group="group3"), "issuing_leader": "vice_mayor_urban"}):
        r = await client.post("/api/items", json=body, headers=member)
        assert r.status_code == 403, r.text
        assert "group2" in r.json()["detail"]
    r = await client.patch(f"/api/items/{own['id']}", json={"issuing_leader": "vice_mayor_edu"}, headers=member)
    assert r.status_code == 403
    assert [i["id"] for i in (await client.get("/api/items", headers=member)).json()] == [own["id"]]

    # It cannot change, submit or send the 督查室's items either.
    mayors = (await client.post("/api/items", json=by_leader("mayor"), headers=inspector)).json()["id"]
    assert (await client.patch(f"/api/items/{mayors}", json={"title": "改"}, headers=member)).status_code == 403
    assert (await client.post(f"/api/items/{mayors}/submit", headers=member)).status_code == 403
    assert (await client.post(f"/api/items/{mayors}/submit", headers=inspector)).status_code == 200
    assert (await client.post(f"/api/items/{mayors}/approve", headers=approver)).status_code == 200
    assert (await client.post(f"/api/items/{mayors}/assign", headers=member)).status_code == 403
    assert (await client.post(f"/api/items/{mayors}/approve", headers=member)).status_code == 403, "no approval"

    # Its own item: it changes, submits and, once approved, sends it (交办) to the unit.
    r = await client.patch(f"/api/items/{own['id']}", json={"requirements": "每月底前反馈。"}, headers=member)
    assert r.status_code == 200, r.text
    assert (await client.post(f"/api/items/{own['id']}/submit", headers=member)).status_code == 200
    assert (await client.post(f"/api/items/{own['id']}/approve", headers=approver)).status_code == 200
    r = await client.post(f"/api/items/{own['id']}/assign", headers=member)
    assert r.status_code == 200, r.text
    handler = await login(client, "qingjiangpu", "handler")

    async def arrived():
        return [a for a in (await client.get("/api/assignments", headers=handler)).json()
                if a["item_ref"] == f"city/{own['id']}"]

    [received] = await eventually(arrived, what="the group's item to reach the county")
    assert received["requirements"] == "每月底前反馈。"
    history = (await client.get(f"/api/items/{own['id']}", headers=inspector)).json()["history"]
    actors = {h["action"]: h["actor"] for h in history}
    assert actors["create"] == actors["submit"] == actors["assign"] == "city/member_group2"
