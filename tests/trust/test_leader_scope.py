"""Issue 7 §2: the 分管领导 (``leader_in_charge``, policies/roles.csv ``work:read_named``) sees only the work named
to them at 签收 — the assignments that name them, the parts split from those (and the assignments issued
for the parts), and what hangs off them. In a county with two accepted assignments, each naming another
leader: every list (items, the queue, their searches and cursors, the export, the flagged reminders)
shows a leader exactly their own, a leader named on nothing sees empty lists, and every single-read route
of the app (found from the app itself, so a new route is covered) answers 404 for the other's objects —
the very answer for an object that does not exist — and reads the leader's own. Other roles unchanged.
On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta

from isolation_sweep import decision, route_methods, rule_of
from sqlalchemy import select

from duban.accounts.repository import AccountRepository
from duban.accounts.service import DEMO_PASSWORD, create_user
from duban.app import create_app
from duban.audit.models import AuditEntry
from duban.db.base import new_id
from duban.policy.policy import Actor
from duban.reminders.models import Reminder
from helpers import TEST_NOW, eventually, hosting, login, registered_item

COUNTY, TOWN = "qingjiangpu", "qjp_changxi"
TENANTS = ("city", COUNTY, TOWN)
DUE = (TEST_NOW.date() + timedelta(days=20)).isoformat()
WORD = f"专项{uuid.uuid4().hex[:6]}"  # in both items' titles: a search finds both, for those who see both
# The path parameters that name a piece of work: the objects the scope is about.
WORK_PARAMS = {"item_id", "assignment_id", "attachment_id"}


async def _ok(response, status: int = 200):
    assert response.status_code == status, (response.request.method, response.request.url, response.text)
    return response.json()


async def _work(api, platform, name: str, leader: str, h: dict) -> dict[str, str]:
    """An item of the city assigned to the county, signed for there naming ``leader``, with a feedback
    carrying a file, and split: a part for the town. The ids of the county's objects of that work."""
    item_id = await registered_item(api, h["inspector"], h["approver"], title=f"{WORD} {name}")
    [sent] = (await _ok(await api.post(f"/api/items/{item_id}/assign", headers=h["inspector"])))["assignments"]
    await eventually(lambda: _arrived(api, f"/api/assignments/{sent['id']}", h["handler"]),
                     what=f"assignment {name} at the county")
    accepted = await _ok(await api.post(f"/api/assignments/{sent['id']}/accept", headers=h["handler"],
                                        json={"leader_in_charge": leader}))
    assert accepted["leader_in_charge"] == leader
    upload = await _ok(await api.post("/api/attachments", headers=h["handler"],
                                      files={"file": (f"{name}.pdf", b"%PDF-1.7\n" + name.encode() * 20)}), 201)
    await _ok(await api.post(f"/api/assignments/{sent['id']}/feedback", headers=h["handler"],
                             json={"text": f"{name} 进展过半。", "attachments": [upload["id"]]}), 201)
    part = await _ok(await api.post(f"/api/assignments/{sent['id']}/parts", headers=h["supervisor"], json={
        "units": [{"unit": TOWN, "role": "lead"}], "deadline": DUE, "content": f"{name} 街道落实。"}), 201)
    [issued] = part["assignments"]
    return {"assignment": sent["id"], "item": part["item"]["id"], "issued": issued["id"],
            "attachment": upload["id"], "title": part["item"]["title"]}


async def _arrived(api, path: str, headers: dict) -> bool:
    return (await api.get(path, headers=headers)).status_code == 200


async def _walk(api, path: str, headers: dict, **params) -> list[dict]:
    """Every row of a list, one row a page, along its cursor."""
    rows, r = [], await api.get(path, params={**params, "limit": 1}, headers=headers)
    while True:
        rows += await _ok(r)
        if "x-next-cursor" not in r.headers:
            return rows
        r = await api.get(re.fullmatch(r'<([^>]+)>; rel="next"', r.headers["link"]).group(1), headers=headers)


def _ids(rows: list[dict]) -> set[str]:
    return {r["id"] for r in rows}


async def _export(api, headers: dict, **params) -> list[list[str]]:
    r = await api.get("/api/items/export", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))[1:]


async def test_a_leader_in_charge_sees_only_the_work_named_to_them(settings):
    async with hosting(settings, TENANTS) as (platform, api):
        async with platform.db.transaction(COUNTY) as session:
            for username in ("leader2", "leader3"):
                await create_user(AccountRepository(session, COUNTY), platform.policy, username, "分管领导",
                                  DEMO_PASSWORD, ["leader_in_charge"], cost=10)
        h = {"inspector": await login(api, "city", "inspector"), "approver": await login(api, "city", "approver"),
             "handler": await login(api, COUNTY, "handler"), "supervisor": await login(api, COUNTY, "supervisor")}
        mine = await _work(api, platform, "甲项", "leader", h)
        theirs = await _work(api, platform, "乙项", "leader2", h)
        leader, leader2, nobody = [await login(api, COUNTY, u) for u in ("leader", "leader2", "leader3")]
        # Flagged for the 通报 at the county (it issued the parts): one reminder of each part's assignment.
        async with platform.db.transaction(COUNTY) as session:
            for work in (mine, theirs):
                session.add(Reminder(id=new_id(), item_ref=f"{COUNTY}/{work['item']}", assignment_id=work["issued"],
                                     step="after:5", note="逾期", by=f"{COUNTY}/scheduler", at=TEST_NOW,
                                     flagged=True))

        # -- the lists: exactly the leader's own work; another leader's only theirs; the unnamed none ------
        for who, work in ((leader, mine), (leader2, theirs)):
            assert _ids(await _walk(api, "/api/assignments", who)) == {work["assignment"]}
            assert _ids(await _walk(api, "/api/assignments", who, q=WORD)) == {work["assignment"]}
            assert _ids(await _walk(api, "/api/items", who)) == {work["item"]}
            assert _ids(await _walk(api, "/api/items", who, q=WORD)) == {work["item"]}
            assert [row[2] for row in await _export(api, who)] == [work["title"]]
            assert [row[2] for row in await _export(api, who, q=WORD)] == [work["title"]]
            flagged = await _walk(api, "/api/reminders/flagged", who)
            assert [r["assignment_id"] for r in flagged] == [work["issued"]]
        for path in ("/api/assignments", "/api/items", "/api/reminders/flagged"):
            assert await _walk(api, path, nobody) == [], path
            assert await _walk(api, path, nobody, **({"q": WORD} if path != "/api/reminders/flagged" else {})) == []
        assert await _export(api, nobody) == []
        # Other roles are unchanged: the county's handler and supervisor see both.
        both = {mine["assignment"], theirs["assignment"]}
        assert _ids(await _walk(api, "/api/assignments", h["handler"])) == both
        assert _ids(await _walk(api, "/api/items", h["supervisor"], q=WORD)) == {mine["item"], theirs["item"]}

        # -- every single read of the app: the other's work answers 404, as a missing object; one's own reads --
        routes = [r for r in route_methods(create_app(platform, manage_platform=False))
                  if r.method == "GET" and r.params and set(r.params) <= WORK_PARAMS]
        assert {r.path for r in routes} >= {"/api/items/{item_id:str}", "/api/assignments/{assignment_id:str}",
                                            "/api/attachments/{attachment_id:str}"}
        policy, actor = platform.policy, Actor(COUNTY, "leader")

        def values(work: dict, assignment: str) -> dict[str, str]:
            return {"item_id": work["item"], "assignment_id": work[assignment], "attachment_id": work["attachment"]}

        checked = 0
        for route in routes:
            allowed = decision(policy, actor, rule_of(route.handler.fn), None) == "allowed"
            for assignment in ("assignment", "issued") if "assignment_id" in route.params else ("assignment",):
                missing = await api.get(route.url(dict.fromkeys(route.params, new_id())), headers=leader)
                other = await api.get(route.url(values(theirs, assignment)), headers=leader)
                assert other.status_code == 404, (route.key, assignment, other.status_code, other.text)
                assert other.text == missing.text, (route.key, other.text, missing.text)
                assert "乙项" not in other.text
                # One's own work answers as it does to the supervision division, who sees all (200, or a 409
                # where the route does not serve that kind of object), unless the role lacks the right.
                own = await api.get(route.url(values(mine, assignment)), headers=leader)
                seen = await api.get(route.url(values(mine, assignment)), headers=h["supervisor"])
                assert seen.status_code in (200, 409), (route.key, assignment, seen.text)
                assert own.status_code == (seen.status_code if allowed else 403), (route.key, assignment, own.text)
                # … and the other work answers its own leader so (the ids are real).
                real = await api.get(route.url(values(theirs, assignment)), headers=leader2)
                assert real.status_code == own.status_code, (route.key, assignment, real.text)
                checked += 1
        assert checked >= 8, checked
        # The unnamed leader: 404 on everyone's work. The refusals are in the county's audit log.
        for path in (f"/api/assignments/{mine['assignment']}", f"/api/items/{mine['item']}",
                     f"/api/attachments/{mine['attachment']}", f"/api/assignments/{mine['issued']}"):
            assert (await api.get(path, headers=nobody)).status_code == 404, path
        async with platform.db.transaction(COUNTY) as session:
            refused = list(await session.scalars(select(AuditEntry).where(
                AuditEntry.action == "need_to_know", AuditEntry.actor == f"{COUNTY}/leader3")))
        assert len(refused) == 4 and all("签收" in (r.detail or "") for r in refused)


async def test_the_named_leader_is_on_the_parts_of_a_protected_assignment(settings):
    """第八条 need-to-know: the 分管领导 named on a protected (敏感) assignment is on the parts split from it too
    (listed, read and recorded as a protected read); the county's other leaders are not (404)."""
    async with hosting(settings, TENANTS) as (platform, api):
        async with platform.db.transaction(COUNTY) as session:
            await create_user(AccountRepository(session, COUNTY), platform.policy, "leader2", "分管领导",
                              DEMO_PASSWORD, ["leader_in_charge"], cost=10)
        h = {"inspector": await login(api, "city", "inspector"), "approver": await login(api, "city", "approver"),
             "handler": await login(api, COUNTY, "handler"), "supervisor": await login(api, COUNTY, "supervisor")}
        item_id = await registered_item(api, h["inspector"], h["approver"], confidentiality="sensitive")
        [sent] = (await _ok(await api.post(f"/api/items/{item_id}/assign", headers=h["inspector"])))["assignments"]
        await eventually(lambda: _arrived(api, f"/api/assignments/{sent['id']}", h["handler"]), what="the assignment")
        await _ok(await api.post(f"/api/assignments/{sent['id']}/accept", headers=h["handler"],
                                 json={"leader_in_charge": "leader"}))
        part = (await _ok(await api.post(f"/api/assignments/{sent['id']}/parts", headers=h["supervisor"], json={
            "units": [{"unit": TOWN, "role": "lead"}], "deadline": DUE}), 201))["item"]
        assert part["confidentiality"] == "sensitive"
        leader, other = await login(api, COUNTY, "leader"), await login(api, COUNTY, "leader2")
        assert (await api.get(f"/api/items/{part['id']}", headers=leader)).status_code == 200
        assert _ids(await _walk(api, "/api/items", leader)) == {part["id"]}
        assert (await api.get(f"/api/items/{part['id']}", headers=other)).status_code == 404
        assert await _walk(api, "/api/items", other) == []
        # A protected item is never exported in bulk, not even to the one it is named to (409, with a message).
        r = await api.get("/api/items/export", headers=leader)
        assert r.status_code == 409 and "第八条" in r.json()["detail"], r.text
        async with platform.db.transaction(COUNTY) as session:
            reads = list(await session.scalars(select(AuditEntry).where(
                AuditEntry.action == "protected_read", AuditEntry.actor == f"{COUNTY}/leader")))
        assert any(part["id"] in r.target for r in reads)
