"""Need-to-know (第八条): a protected (敏感) item, its assignments and their attachments are seen only by the
people on it and by the roles the policy names (protected:see_all); everyone else gets 404, as for an item
that does not exist. Every read of a protected object is in the tenant's audit log, and so is every refusal."""

from __future__ import annotations

from confidential_flow import assigned, audit_rows, users

from helpers import plan


async def test_outsiders_get_404_insiders_200_and_reads_are_recorded(client, platform):
    u = await users(client)
    inspector, approver = u["city/inspector"], u["city/approver"]
    r = await client.post("/api/items", json=plan(confidentiality="sensitive"), headers=inspector)
    assert r.status_code == 201
    item_id = r.json()["id"]
    path = f"/api/items/{item_id}"
    # A draft is the inspector's: the approver does not see it before it is put to them.
    assert (await client.get(path, headers=approver)).status_code == 404
    assert (await client.post(f"{path}/submit", headers=inspector)).status_code == 200
    assert (await client.get(path, headers=approver)).status_code == 200  # waiting for 审定: theirs to decide
    assert (await client.post(f"{path}/approve", headers=approver)).status_code == 200
    assert (await client.get(path, headers=approver)).status_code == 200  # acted on it: still on it

    # At the city: the supervision division and the 第一责任人 see every protected item (the policy says so);
    # a group member and the registrar, who read items, are not on this one: 404, like a missing item.
    for who in ("city/inspector", "city/supervisor", "city/chief"):
        assert (await client.get(path, headers=u[who])).status_code == 200, who
    missing = await client.get("/api/items/no-such-item", headers=u["city/registrar"])
    for who in ("city/registrar", "city/member_group1"):
        r = await client.get(path, headers=u[who])
        assert (r.status_code, r.json()["detail"]) == (404, missing.json()["detail"]), who
        assert (await client.get(f"{path}/tree", headers=u[who])).status_code == 404, who
    # A write route of the item: 404 too, not the 403 that would say it exists.
    r = await client.post(f"{path}/withdraw", json={"reason": "x"}, headers=u["city/member_group1"])
    assert r.status_code == 404, r.text

    # An item that is not protected: the same people see it, nothing is recorded as a protected read.
    open_item = (await client.post("/api/items", json=plan(), headers=inspector)).json()["id"]
    assert (await client.get(f"/api/items/{open_item}", headers=u["city/registrar"])).status_code == 200

    reads = await audit_rows(platform, "city", "protected_read")
    readers = {(e.actor, e.target) for e in reads}
    for who in ("city/inspector", "city/supervisor", "city/chief", "city/approver"):
        assert (who, f"GET {path}") in readers, who
    assert all(f"city/{item_id}" in e.detail and "sensitive" in e.detail for e in reads)
    assert not any(open_item in e.target for e in reads)
    refused = await audit_rows(platform, "city", "need_to_know")
    assert {e.actor for e in refused} >= {"city/registrar", "city/member_group1", "city/approver"}
    assert all(item_id in e.target for e in refused)


async def test_the_units_copy_is_protected_too(client, platform):
    u = await users(client)
    item_id, task = await assigned(client, u, accept=False)
    path = f"/api/assignments/{task}"
    # Carried by the assignment event: the county's copy has the item's level.
    r = await client.get(path, headers=u["qingjiangpu/handler"])  # waiting for 签收: the handler signs for it
    assert r.status_code == 200, r.text
    assert (await client.get(path, headers=u["qingjiangpu/leader"])).status_code == 404  # not named yet
    for who in ("qingjiangpu/chief", "qingjiangpu/supervisor"):
        assert (await client.get(path, headers=u[who])).status_code == 200, who
    r = await client.post(f"{path}/accept", headers=u["qingjiangpu/handler"], json={"leader_in_charge": "leader"})
    assert r.status_code == 200, r.text
    assert (await client.get(path, headers=u["qingjiangpu/leader"])).status_code == 200  # named at 签收
    assert (await client.get(path, headers=u["qingjiangpu/handler"])).status_code == 200  # signed for it
    # At the city the assignment is the item's: the registrar is not on it.
    assert (await client.get(path, headers=u["city/registrar"])).status_code == 404
    assert (await client.get(path, headers=u["city/inspector"])).status_code == 200

    reads = await audit_rows(platform, "qingjiangpu", "protected_read")
    assert {"qingjiangpu/handler", "qingjiangpu/leader", "qingjiangpu/chief"} <= {e.actor for e in reads}
    assert all(f"city/{item_id}" in e.detail for e in reads)
    assert [e.actor for e in await audit_rows(platform, "qingjiangpu", "need_to_know")] == ["qingjiangpu/leader"]


async def test_an_internal_items_copy_is_not_protected(client, platform):
    u = await users(client)
    _, task = await assigned(client, u, level="internal", accept=False)
    # Read by a role that sees the unit's work (the 分管领导 sees only the work named to them at 签收:
    # tests/trust/test_leader_scope.py); nothing protected, so no protected read is recorded.
    assert (await client.get(f"/api/assignments/{task}", headers=u["qingjiangpu/chief"])).status_code == 200
    assert await audit_rows(platform, "qingjiangpu", "protected_read") == []


async def test_a_part_of_a_protected_assignment_is_protected(client):
    u = await users(client)
    _, task = await assigned(client, u)
    due = (await client.get(f"/api/assignments/{task}", headers=u["qingjiangpu/handler"])).json()["assignment"]
    r = await client.post(f"/api/assignments/{task}/parts", headers=u["qingjiangpu/handler"],
                          json={"units": [{"unit": "qjp_fgj", "role": "lead"}], "deadline": due["deadline"]})
    assert r.status_code == 201, r.text
    part = r.json()["item"]
    assert part["confidentiality"] == "sensitive"
    assert r.json()["assignments"][0]["unit"] == "qjp_fgj"
    assert (await client.get(f"/api/items/{part['id']}", headers=u["qingjiangpu/chief"])).status_code == 200
    # The unit's 分管领导, not named on the assignment, is not on its part either: 404, not the 403 of a role.
    assert (await client.get(f"/api/items/{part['id']}", headers=u["qingjiangpu/leader"])).status_code == 404
