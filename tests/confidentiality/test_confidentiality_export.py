"""No bulk export of protected items (第八条): ``GET /api/items/export`` gives the filtered list as CSV, and
refuses with a message while the selection holds a protected item; the visibility clause the lists use
keeps a protected item out of the pages of those not on it."""

from __future__ import annotations

import csv
import io

from confidential_flow import users
from sqlalchemy import select

from duban.confidentiality.access import Viewer, item_clause, queue_clause, reader
from duban.db.base import utcnow
from duban.items.models import Assignment, HistoryEntry, Item
from duban.items.repository import ItemRepository
from duban.lists.cursor import PageRequest
from duban.lists.filters import Filters
from duban.policy.policy import Actor
from helpers import plan


async def test_export_refuses_protected_items(client):
    u = await users(client)
    inspector = u["city/inspector"]
    for title in ("城区道路改造", "老旧小区改造"):
        assert (await client.post("/api/items", json=plan(title=title, source_kind="other", source={}),
                                  headers=inspector)).status_code == 201
    r = await client.get("/api/items/export", headers=inspector)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text
    rows = list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["序号", "编号", "标题"]
    assert sorted(row[2] for row in rows[1:]) == ["城区道路改造", "老旧小区改造"]

    r = await client.post("/api/items", json=plan(title="领导批示事项", confidentiality="sensitive"), headers=inspector)
    assert r.status_code == 201
    r = await client.get("/api/items/export", headers=inspector)
    assert r.status_code == 409 and "敏感事项" in r.json()["detail"] and "批量导出" in r.json()["detail"], r.text
    assert r.json()["protected"] == 1
    # A selection without it (the filters of the items list) exports.
    r = await client.get("/api/items/export?source=other", headers=inspector)
    assert r.status_code == 200 and len(list(csv.reader(io.StringIO(r.text.lstrip("\ufeff"))))) == 3
    r = await client.get("/api/items/export?source=nonsense", headers=inspector)
    assert r.status_code == 400
    # Only the roles the policy names export; a county handler does not.
    assert (await client.get("/api/items/export", headers=u["qingjiangpu/handler"])).status_code == 403


async def test_visibility_clauses(platform):
    """The WHERE conditions the lists add: protected rows only for the people on them."""
    now = utcnow()
    async with platform.db.transaction("city") as session:
        def item(id_: str, level: str, created_by: str, state: str = "registered") -> Item:
            return Item(id=id_, title=id_, source_kind="other", source={}, division="督查一处", group_code="mayor",
                        deadline=now.date(), units=[], confidentiality=level, state=state, created_by=created_by,
                        created_at=now, updated_at=now)

        session.add_all([item("open", "internal", "city/inspector"), item("mine", "sensitive", "city/inspector"),
                         item("acted", "sensitive", "city/member_group1"),
                         item("pending", "sensitive", "city/member_group1", "pending_approval"),
                         item("other", "sensitive", "city/member_group1")])
        session.add(HistoryEntry(item_ref="city/acted", action="approve", actor="city/approver", from_state="a",
                                 to_state="b"))

    async def items_seen(username: str) -> set[str]:
        async with platform.db.transaction("city", snapshot=True) as session:
            viewer = Viewer("city", session, Actor("city", username), platform.policy)
            return set(await session.scalars(select(Item.id).where(item_clause(viewer))))

    assert await items_seen("inspector") == {"open", "mine"}
    assert await items_seen("approver") == {"open", "acted", "pending"}
    assert await items_seen("registrar") == {"open"}
    assert await items_seen("supervisor") == {"open", "mine", "acted", "pending", "other"}

    async with platform.db.transaction("qingjiangpu") as session:
        def copy(id_: str, level: str, state: str = "accepted", **more: object) -> Assignment:
            return Assignment(id=id_, item_ref=f"city/{id_}", assigner="city", unit="qingjiangpu", role="lead",
                              title=id_, source_kind="other", deadline=now.date(), state=state,
                              confidentiality=level, **more)

        session.add_all([copy("q-open", "internal"), copy("q-new", "sensitive", "issued"),
                         copy("q-signed", "sensitive", accepted_by="qingjiangpu/handler"),
                         copy("q-led", "sensitive", leader_in_charge="leader"),
                         copy("q-other", "sensitive")])

    async def queue_seen(username: str) -> set[str]:
        async with platform.db.transaction("qingjiangpu", snapshot=True) as session:
            viewer = Viewer("qingjiangpu", session, Actor("qingjiangpu", username), platform.policy)
            return set(await session.scalars(select(Assignment.id).where(queue_clause(viewer))))

    assert await queue_seen("handler") == {"q-open", "q-new", "q-signed"}
    assert await queue_seen("leader") == {"q-open", "q-led"}
    assert await queue_seen("chief") == {"q-open", "q-new", "q-signed", "q-led", "q-other"}

    # The lists' own statements (prepared, with the reader as parameters) keep the same rows, page by page.
    async def listed(tenant: str, username: str) -> set[str]:
        async with platform.db.transaction(tenant, snapshot=True) as session:
            viewer = Viewer(tenant, session, Actor(tenant, username), platform.policy)
            repo, found, page = ItemRepository(session, tenant), set(), PageRequest(2)
            while True:
                got = await (repo.list if tenant == "city" else repo.received)(Filters(), page, reader(viewer))
                found |= {r.id for r in got.rows}
                if got.next_cursor is None:
                    return found
                page = PageRequest(2, got.next_cursor)

    for username in ("inspector", "approver", "registrar", "supervisor"):
        assert await listed("city", username) == await items_seen(username), username
    for username in ("handler", "chief"):
        assert await listed("qingjiangpu", username) == await queue_seen(username), username
    # The 分管领导's list also holds only the work named to them at 签收 (tests/trust/test_leader_scope.py).
    assert await listed("qingjiangpu", "leader") == await queue_seen("leader") - {"q-open"} == {"q-led"}


async def test_the_items_list_leaves_out_protected_items_of_others(client):
    u = await users(client)
    r = await client.post("/api/items", json=plan(confidentiality="sensitive"), headers=u["city/inspector"])
    protected = r.json()["id"]
    r = await client.post("/api/items", json=plan(), headers=u["city/inspector"])
    open_item = r.json()["id"]
    seen = {i["id"] for i in (await client.get("/api/items", headers=u["city/registrar"])).json()}
    assert open_item in seen and protected not in seen
    seen = {i["id"] for i in (await client.get("/api/items", headers=u["city/supervisor"])).json()}
    assert {open_item, protected} <= seen


async def test_may_see_agrees_with_the_clauses(client, platform):
    """may_see (one row) and item_clause (the lists) decide alike."""
    from duban.confidentiality.access import may_see

    u = await users(client)
    r = await client.post("/api/items", json=plan(confidentiality="sensitive"), headers=u["city/inspector"])
    item_id = r.json()["id"]
    for username, expected in (("inspector", True), ("registrar", False), ("chief", True), ("approver", False)):
        async with platform.db.transaction("city", snapshot=True) as session:
            viewer = Viewer("city", session, Actor("city", username), platform.policy)
            item = await session.get(Item, item_id)
            listed = item_id in set(await session.scalars(select(Item.id).where(item_clause(viewer))))
            assert await may_see(viewer, item) is expected is listed, username
