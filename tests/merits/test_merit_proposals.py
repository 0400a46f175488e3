"""奖惩建议 (第十一条): a tenant's supervision division files a proposal to commend or sanction one of its
units on the items and assignments it rests on; its 第一责任人 and its leaders (observer) read them;
nobody else does, nobody changes them, and each filing is in the tenant's audit log."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from duban.accounts.repository import AccountRepository
from duban.accounts.service import DEMO_PASSWORD, create_user
from duban.audit.models import AuditEntry
from duban.timesource import FixedTime
from helpers import TEST_NOW, login, registered_item

URL = "/api/merit-proposals"


async def _add_user(platform, tenant: str, username: str, roles: list[str]) -> None:
    async with platform.db.transaction(tenant) as session:
        await create_user(AccountRepository(session, tenant), platform.policy, username, username, DEMO_PASSWORD,
                          roles, cost=platform.settings.password_cost)


async def _assigned_item(client) -> tuple[str, str]:
    """A city item assigned to 清江浦区: (item id, the city's assignment id)."""
    inspector, approver = await login(client, "city", "inspector"), await login(client, "city", "approver")
    item_id = await registered_item(client, inspector, approver, units=[("qingjiangpu", "lead")])
    r = await client.post(f"/api/items/{item_id}/assign", headers=inspector)
    assert r.status_code == 200, r.text
    [assignment] = r.json()["assignments"]
    return item_id, assignment["id"]


def _body(**changes: object) -> dict:
    body = {"kind": "sanction", "unit": "qingjiangpu", "reason": "批示件逾期未反馈，经两次催办仍未办理。",
            "person": "张三"}
    body.update(changes)
    return body


async def test_anonymous_and_unentitled_callers_are_refused(client, platform):
    assert (await client.get(URL)).status_code == 401
    assert (await client.post(URL, json=_body(basis_items=["x"]))).status_code == 401
    assert (await client.get(f"{URL}/whatever")).status_code == 401
    for tenant, username in [("qingjiangpu", "handler"), ("qingjiangpu", "leader"), ("city", "inspector"),
                             ("city", "approver"), ("city", "admin")]:
        who = await login(client, tenant, username)
        assert (await client.get(URL, headers=who)).status_code == 403, username
        assert (await client.post(URL, json=_body(basis_items=["x"]), headers=who)).status_code == 403, username
    chief = await login(client, "qingjiangpu", "chief")  # reads them, files none
    assert (await client.post(URL, json=_body(basis_items=["x"]), headers=chief)).status_code == 403
    assert (await client.get(URL, headers=chief)).status_code == 200


async def test_the_supervisor_files_and_the_chief_and_leaders_read(client, platform):
    item_id, assignment_id = await _assigned_item(client)
    supervisor = await login(client, "city", "supervisor")
    r = await client.post(URL, headers=supervisor, json=_body(basis_items=[item_id], basis_assignments=[assignment_id]))
    assert r.status_code == 201, r.text
    filed = r.json()
    assert filed["kind"] == "sanction" and filed["kind_label"] == "惩处"
    assert (filed["unit"], filed["unit_name"], filed["person"]) == ("qingjiangpu", "清江浦区人民政府", "张三")
    assert filed["basis_items"] == [item_id] and filed["basis_assignments"] == [assignment_id]
    assert filed["filed_by"] == "city/supervisor"
    assert datetime.fromisoformat(filed["filed_at"]) == TEST_NOW, "filed at the platform's time"

    await _add_user(platform, "city", "mayor_ro", ["observer"])
    for who in [supervisor, await login(client, "city", "chief"), await login(client, "city", "mayor_ro")]:
        one = await client.get(f"{URL}/{filed['id']}", headers=who)
        assert one.status_code == 200 and one.json() == filed
        listed = await client.get(URL, headers=who)
        assert listed.status_code == 200 and listed.json() == [filed]

    # Another tenant's proposal is not there (404, like a missing one), and its own list is empty.
    county_sup = await login(client, "qingjiangpu", "supervisor")
    assert (await client.get(f"{URL}/{filed['id']}", headers=county_sup)).status_code == 404
    assert (await client.get(URL, headers=county_sup)).json() == []
    assert (await client.get(f"{URL}/no-such-id", headers=supervisor)).status_code == 404

    # The filing is in the city's audit log, by whom; a refused one is recorded as denied.
    await client.post(URL, json=_body(basis_items=[item_id]), headers=await login(client, "city", "chief"))
    async with platform.db.transaction("city") as session:
        rows = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert ("write", "city/supervisor", f"POST {URL}") in [(e.action, e.actor, e.target) for e in rows]
    assert ("denied", "city/chief", f"POST {URL}") in [(e.action, e.actor, e.target) for e in rows]


async def test_a_filed_proposal_cannot_be_changed_or_deleted(client, platform):
    item_id, _ = await _assigned_item(client)
    supervisor = await login(client, "city", "supervisor")
    r = await client.post(URL, headers=supervisor, json=_body(kind="commend", person=None, basis_items=[item_id]))
    assert r.status_code == 201 and r.json()["person"] is None and r.json()["kind_label"] == "奖励"
    assert (await client.patch(f"{URL}/{r.json()['id']}", headers=supervisor, json={"reason": "x"})).status_code \
        in (404, 405)
    assert (await client.delete(f"{URL}/{r.json()['id']}", headers=supervisor)).status_code in (404, 405)
    for statement in ("UPDATE merit_proposals SET kind = 'sanction'", "DELETE FROM merit_proposals"):
        with pytest.raises(Exception, match="append-only"):
            async with platform.db.migration_connection("city") as conn:
                await conn.execute(text(statement))
    still = await client.get(f"{URL}/{r.json()['id']}", headers=supervisor)
    assert still.json()["kind"] == "commend"


async def test_what_a_proposal_may_name(client, platform):
    item_id, assignment_id = await _assigned_item(client)
    city_sup, county_sup = await login(client, "city", "supervisor"), await login(client, "qingjiangpu", "supervisor")

    async def refused(who, body, *words: str) -> None:
        r = await client.post(URL, headers=who, json=body)
        assert r.status_code == 400, r.text
        for word in words:
            assert word in r.json()["detail"], (word, r.json()["detail"])

    await refused(city_sup, _body(unit="nowhere", basis_items=[item_id]), "nowhere", "unknown unit")
    await refused(city_sup, _body(basis_items=[]), "at least one item")
    await refused(city_sup, _body(basis_items=[item_id, item_id]), "named twice")
    await refused(city_sup, _body(basis_items=[item_id, "no-such-item"]), "no-such-item")
    await refused(city_sup, _body(basis_items=[item_id], basis_assignments=[item_id]), item_id, "no such assignments")
    await refused(city_sup, _body(basis_items=[item_id], reason="   "), "reason")
    for bad in [_body(kind="praise", basis_items=[item_id]), _body(basis_items=[item_id], unknown=1),
                _body(basis_items=[item_id], reason=""), _body(basis_items=[item_id], person="")]:
        assert (await client.post(URL, headers=city_sup, json=bad)).status_code == 400, bad
    # A county's division proposes about itself and its own units only, on its own items and assignments:
    # the city's item and the city's copy of the assignment are not in the county's storage.
    await refused(county_sup, _body(unit="huaian", basis_items=[item_id]), "huaian")
    await refused(county_sup, _body(unit="city", basis_items=[item_id]), "city")
    await refused(county_sup, _body(basis_items=[item_id]), item_id)
    assert (await client.get(URL, headers=county_sup)).json() == []
    assert (await client.get(URL, headers=city_sup)).json() == [], "nothing refused was filed"


async def test_the_list_pages_newest_first_by_cursor(client, platform):
    item_id, _ = await _assigned_item(client)
    supervisor = await login(client, "city", "supervisor")
    ids = []
    for n in range(5):
        platform.time = FixedTime(TEST_NOW + timedelta(minutes=n // 2))  # two pairs share a time: the id decides
        r = await client.post(URL, headers=supervisor, json=_body(reason=f"理由{n}", basis_items=[item_id]))
        assert r.status_code == 201
        ids.append(r.json()["id"])
    seen, url, pages = [], f"{URL}?limit=2", 0
    while url:
        r = await client.get(url, headers=supervisor)
        assert r.status_code == 200 and len(r.json()) <= 2
        seen += r.json()
        pages += 1
        link = r.headers.get("link")
        assert (link is None) == (r.headers.get("x-next-cursor") is None)
        url = link[1:link.index(">")] if link else None
    assert pages == 3 and len(seen) == 5 and {p["id"] for p in seen} == set(ids)
    keys = [(p["filed_at"], p["id"]) for p in seen]
    assert keys == sorted(keys, reverse=True)
    assert [p["reason"] for p in seen][0] == "理由4"
    first = await client.get(f"{URL}?limit=2", headers=supervisor)
    cursor = first.headers["x-next-cursor"]
    broken = cursor[:10] + ("A" if cursor[10] != "A" else "B") + cursor[11:]
    assert (await client.get(f"{URL}?limit=2&cursor={broken}", headers=supervisor)).status_code == 400
    assert (await client.get(f"{URL}?offset=2", headers=supervisor)).status_code == 400
    assert (await client.get(f"{URL}?limit=0", headers=supervisor)).status_code == 400
