"""Lists that scale (issue 6 §4): keyset paging by cursor over items, a unit's queue, the inbox and the
reminders flagged for the 通报; filters; text search in Chinese through each database's index."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text, update

from duban.db.base import new_id
from duban.events.models import InboxEvent
from duban.items.models import Assignment, Item
from duban.lists import cursor, search
from duban.reminders.models import Reminder
from helpers import eventually, login, plan, registered_item

BASE = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
COUNTY = "qingjiangpu"


async def walk(client, path: str, headers: dict, limit: int, **params) -> list[dict]:
    """Every row of a list, page after page along its ``Link`` (which must agree with ``X-Next-Cursor``)."""
    rows: list[dict] = []
    r = await client.get(path, params={**params, "limit": limit}, headers=headers)
    while True:
        assert r.status_code == 200, r.text
        rows.extend(r.json())
        token = r.headers.get("x-next-cursor")
        if token is None:
            assert "link" not in r.headers
            assert len(r.json()) <= limit
            return rows
        assert len(r.json()) == limit
        link = re.fullmatch(r'<(/api/[^>]+)>; rel="next"', r.headers["link"])
        assert link and f"cursor={token}" in link.group(1), r.headers["link"]
        r = await client.get(link.group(1), headers=headers)


def item(n: int, **values) -> Item:
    """An item of the city, made n seconds (in threes: ties on the sort key) after BASE."""
    defaults = dict(id=new_id(), title=f"督查事项第{n}号", content="按期办结。", source_kind="instruction", source={},
                    division="督查一处", group_code="mayor", deadline=date(2026, 12, 1), units=[],
                    state="registered", created_by="city/inspector", created_at=BASE + timedelta(seconds=n // 3))
    return Item(**{**defaults, **values})


def received(n: int, **values) -> Assignment:
    """An assignment in the county's queue, due on one of a few days (ties on the sort key)."""
    defaults = dict(id=new_id(), item_ref=f"city/{new_id()}", assigner="city", unit=COUNTY, role="lead",
                    title=f"承办任务第{n}号", content="按期办结。", source_kind="instruction",
                    deadline=date(2026, 12, 1) + timedelta(days=n % 4), state="issued", assigned_at=BASE)
    return Assignment(**{**defaults, **values})


async def add(platform, tenant: str, *rows) -> None:
    async with platform.db.transaction(tenant) as session:
        session.add_all(rows)


def newest_first(items: list[Item]) -> list[str]:
    return [i.id for i in sorted(items, key=lambda i: (i.created_at, i.id), reverse=True)]


def due_first(assignments: list[Assignment]) -> list[str]:
    return [a.id for a in sorted(assignments, key=lambda a: (a.deadline, a.id))]


# ---- paging -------------------------------------------------------------------------------------


async def test_cursor_paging_walks_every_row_exactly_once(client, platform, backend):
    items = [item(n) for n in range(47)]
    queue = [received(n) for n in range(33)]
    await add(platform, "city", *items)
    await add(platform, COUNTY, *queue)
    inspector = await login(client, "city", "inspector")
    handler = await login(client, COUNTY, "handler")

    for limit in (1, 10, 47, 100):
        assert [i["id"] for i in await walk(client, "/api/items", inspector, limit)] == newest_first(items)
    for limit in (7, 33):
        assert [a["id"] for a in await walk(client, "/api/assignments", handler, limit)] == due_first(queue)
    # A filter stays on every page (the link carries it).
    issued = queue[:20]
    async with platform.db.transaction(COUNTY) as session:
        await session.execute(update(Assignment).where(Assignment.id.not_in([a.id for a in issued]))
                              .values(state="accepted"))
    assert [a["id"] for a in await walk(client, "/api/assignments", handler, 3, state="issued")] == due_first(issued)


async def test_inbox_and_flagged_reminders_page_by_cursor(client, platform, backend):
    events = [InboxEvent(id=new_id(), kind="assignment.issued", from_tenant="city" if n % 2 else "huaian",
                         item_ref=f"city/{n}", seq=1, status="applied" if n % 3 else "rejected", duplicates=0,
                         body="{}", received_at=BASE + timedelta(seconds=n // 2)) for n in range(25)]
    await add(platform, "city", *events)
    reminders = [Reminder(id=new_id(), item_ref="city/x", assignment_id=new_id(), clock_id=new_id(),
                          clock_kind="completion", due=date(2026, 11, 1), step="after:5", audience=[], note="",
                          by="city/scheduler", at=BASE + timedelta(seconds=n // 2), flagged=n % 5 != 0)
                 for n in range(25)]
    await add(platform, "city", *reminders)
    supervisor = await login(client, "city", "supervisor")

    def newest(rows) -> list[str]:
        return [r.id for r in sorted(rows, key=lambda r: (getattr(r, "received_at", None) or r.at, r.id),
                                     reverse=True)]

    assert [e["id"] for e in await walk(client, "/api/inbox", supervisor, 4)] == newest(events)
    rejected = [e for e in events if e.status == "rejected"]
    assert [e["id"] for e in await walk(client, "/api/inbox", supervisor, 2, status="rejected")] == newest(rejected)
    from_huaian = [e for e in events if e.from_tenant == "huaian"]
    assert [e["id"] for e in await walk(client, "/api/inbox", supervisor, 5, from_tenant="huaian")] == \
        newest(from_huaian)
    flagged = [r for r in reminders if r.flagged]
    assert [r["id"] for r in await walk(client, "/api/reminders/flagged", supervisor, 6)] == newest(flagged)


async def test_cursor_paging_is_stable_under_inserts(client, platform, backend):
    items = [item(n) for n in range(30)]
    queue = [received(n) for n in range(30)]
    await add(platform, "city", *items)
    await add(platform, COUNTY, *queue)
    inspector = await login(client, "city", "inspector")
    handler = await login(client, COUNTY, "handler")

    first = await client.get("/api/items", params={"limit": 10}, headers=inspector)
    queue_first = await client.get("/api/assignments", params={"limit": 10}, headers=handler)
    # Rows arrive between page 1 and page 2: newer items (which an offset would push into page 2 as
    # duplicates of page 1's last rows), items as old as page 1's last row, and queue rows due before,
    # at and after the page's last due date.
    last = next(i for i in items if i.id == first.json()[-1]["id"])
    await add(platform, "city", *[item(100 + n, created_at=BASE + timedelta(days=1, seconds=n)) for n in range(15)],
              item(200, created_at=last.created_at), item(201, created_at=BASE - timedelta(days=1)))
    await add(platform, COUNTY, *[received(300 + n) for n in range(12)])

    def rest(first_page, path, headers):
        return walk(client, path, headers, 10, cursor=first_page.headers["x-next-cursor"])

    seen = [i["id"] for i in first.json()] + [i["id"] for i in await rest(first, "/api/items", inspector)]
    assert len(seen) == len(set(seen)), "no item twice"
    assert set(newest_first(items)) <= set(seen), "no original item missed"
    originals = [i for i in seen if i in {x.id for x in items}]
    assert originals == newest_first(items), "the originals in their order"

    seen = [a["id"] for a in queue_first.json()] + [a["id"] for a in await rest(queue_first, "/api/assignments",
                                                                                  handler)]
    assert len(seen) == len(set(seen)), "no assignment twice"
    assert [a for a in seen if a in {x.id for x in queue}] == due_first(queue), "every original once, in order"


# ---- filters --------------------------------------------------------------------------------------


async def test_item_filters(client, platform, backend):
    a = item(1, state="assigned", source_kind="meeting_item", group_code="group2", issuing_leader="vice_mayor_urban",
             deadline=date(2026, 12, 10))
    b = item(2, state="assigned", source_kind="instruction", group_code="mayor", issuing_leader="mayor",
             deadline=date(2026, 12, 20))
    c = item(3, state="draft", source_kind="instruction", group_code="group2", deadline=date(2027, 1, 5))
    await add(platform, "city", a, b, c)
    await add(platform, "city", Assignment(id=new_id(), item_ref=f"city/{a.id}", item_id=a.id, assigner="city",
                                           unit=COUNTY, role="lead", title=a.title, source_kind=a.source_kind,
                                           deadline=a.deadline, state="issued"),
              Assignment(id=new_id(), item_ref=f"city/{b.id}", item_id=b.id, assigner="city", unit="fgw",
                         role="lead", title=b.title, source_kind=b.source_kind, deadline=b.deadline, state="issued"))
    inspector = await login(client, "city", "inspector")

    async def ids(**params) -> set[str]:
        r = await client.get("/api/items", params=params, headers=inspector)
        assert r.status_code == 200, (params, r.text)
        return {i["id"] for i in r.json()}

    assert await ids() == {a.id, b.id, c.id}
    assert await ids(state="assigned") == {a.id, b.id}
    assert await ids(source="meeting_item") == {a.id}
    assert await ids(unit=COUNTY) == {a.id}
    assert await ids(unit="fgw") == {b.id}
    assert await ids(unit="huaian") == set()
    assert await ids(group="group2") == {a.id, c.id}
    assert await ids(leader="mayor") == {b.id}
    assert await ids(due_from="2026-12-10") == {a.id, b.id, c.id}
    assert await ids(due_from="2026-12-11", due_to="2026-12-31") == {b.id}
    assert await ids(due_to="2026-12-10") == {a.id}
    assert await ids(group="group2", state="draft") == {c.id}
    assert await ids(light="red") == set()  # (lights: tests/deadlines/test_clocks_api.py)


async def test_queue_filters(client, platform, backend):
    a = received(1, source_kind="meeting_item", group_code="group2", issuing_leader="vice_mayor_urban",
                 deadline=date(2026, 12, 10))
    b = received(2, assigner="huaian", group_code="mayor", issuing_leader="mayor", state="accepted",
                 deadline=date(2026, 12, 20))
    c = received(3, deadline=date(2027, 1, 5))
    await add(platform, COUNTY, a, b, c)
    handler = await login(client, COUNTY, "handler")

    async def ids(**params) -> list[str]:
        r = await client.get("/api/assignments", params=params, headers=handler)
        assert r.status_code == 200, (params, r.text)
        return [i["id"] for i in r.json()]

    assert await ids() == [a.id, b.id, c.id]  # what is due first
    assert await ids(state="accepted") == [b.id]
    assert await ids(source="meeting_item") == [a.id]
    assert await ids(assigner="huaian") == [b.id]
    assert await ids(group="group2") == [a.id]
    assert await ids(leader="mayor") == [b.id]
    assert await ids(due_from="2026-12-11") == [b.id, c.id]
    assert await ids(due_from="2026-12-01", due_to="2026-12-31", state="issued") == [a.id]


@pytest.mark.parametrize(("params", "says"), [
    ({"state": "nonsense"}, "状态"), ({"state": ""}, "状态"), ({"source": "rumour"}, "来源"),
    ({"unit": "nowhere"}, "单位"), ({"unit": "x" * 500}, "单位"), ({"group": "group9"}, "督查组"),
    ({"leader": "nobody"}, "领导"), ({"due_from": "2026-02-30"}, "YYYY-MM-DD"), ({"due_to": "tomorrow"}, "YYYY-MM-DD"),
    ({"due_from": "2026-12-31", "due_to": "2026-12-01"}, "晚于"), ({"q": "x" * 101}, "搜索词"),
    ({"q": "督查\u0000"}, "搜索词"), ({"q": "   "}, "搜索词"), ({"light": "purple"}, "信号灯"),
    ({"cursor": "bm90IGEgY3Vyc29y"}, "游标"), ({"cursor": ""}, "游标"), ({"offset": "20"}, "cursor"),
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"limit": "-1"}, "limit"), ({"limit": "2" * 30}, "limit"),
])
async def test_bad_filter_values_are_400_with_a_message(client, params, says, backend):
    inspector = await login(client, "city", "inspector")
    handler = await login(client, COUNTY, "handler")
    for path, headers in (("/api/items", inspector), ("/api/assignments", handler)):
        if "unit" in params and path == "/api/assignments":
            params = {"assigner": params["unit"]}
        r = await client.get(path, params=params, headers=headers)
        assert r.status_code == 400, (path, params, r.text)
        if says:
            assert says in r.json()["detail"], (path, params, r.json()["detail"])


async def test_the_group_and_leader_travel_with_the_assignment(client, platform, backend):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    handler = await login(client, COUNTY, "handler")
    item_id = await registered_item(client, inspector, approver, group="group2", issuing_leader="vice_mayor_urban")
    assert (await client.post(f"/api/items/{item_id}/assign", headers=inspector)).status_code == 200

    async def arrived():
        return (await client.get("/api/assignments", params={"group": "group2"}, headers=handler)).json()

    [task] = await eventually(arrived, what="the assignment in the county's queue")
    assert task["item_ref"] == f"city/{item_id}"
    for params in ({"leader": "vice_mayor_urban"}, {"assigner": "city", "q": "客运枢纽"}):
        assert [t["id"] for t in (await client.get("/api/assignments", params=params, headers=handler)).json()] \
            == [task["id"]]
    for params in ({"group": "mayor"}, {"leader": "mayor"}, {"assigner": "huaian"}):
        assert (await client.get("/api/assignments", params=params, headers=handler)).json() == []
    assert [i["id"] for i in (await client.get("/api/items", params={"unit": COUNTY, "leader": "vice_mayor_urban"},
                                               headers=inspector)).json()] == [item_id]


# ---- search ---------------------------------------------------------------------------------------

TEXTS = [
    ("关于推进老旧小区改造的督查事项", "请各县区加快老旧小区改造进度。"),
    ("推进淮安东站综合客运枢纽建设", "加快征地拆迁和配套道路建设。"),
    ("农村人居环境整治提升行动", "开展村庄清洁行动，完善长效管护机制。"),
    ("推进 5G Base Station 建设", "完成率达到100%以上。"),
    ("优化营商环境专项督查", "清理涉企收费，压减审批时限。"),
]


@pytest.mark.parametrize(("q", "finds"), [
    ("小区", {0}),  # 2 characters: below a trigram, answered by LIKE
    ("淮", {1}),  # 1 character
    ("客运枢", {1}),  # 3
    ("人居环境整", {2}),  # 5, in the title
    ("征地拆迁和配套", {1}),  # in the text
    ("环境", {2, 4}),
    ("推进", {0, 1, 3}),
    ("行动", {2}),  # title and text of the same row: found once
    ("5g base", {3}),  # Latin letters in any case
    ("100%", {3}), ("%", {3}), ("_", set()),  # LIKE's wildcards taken literally
    ("督查事项 农村", set()), ("不存在的词语", set()), ("枢纽建设农村", set()),
])
@pytest.mark.parametrize("common", [search.COMMON, 1], ids=["few matches", "many matches"])
async def test_search_finds_chinese_by_2_3_and_5_characters_and_nothing_else(client, platform, backend, q, finds,
                                                                            common, monkeypatch):
    # On SQLite a word found in COMMON rows or more is matched by walking the list (LIKE), fewer through
    # the FTS5 index: with COMMON = 1 the walk is taken whenever a word is found at all.
    monkeypatch.setattr(search, "COMMON", common)
    items = [item(n, title=t, content=c) for n, (t, c) in enumerate(TEXTS)]
    queue = [received(n, title=t, content=c) for n, (t, c) in enumerate(TEXTS)]
    await add(platform, "city", *items)
    await add(platform, COUNTY, *queue)
    inspector = await login(client, "city", "inspector")
    handler = await login(client, COUNTY, "handler")
    found = {i["id"] for i in await walk(client, "/api/items", inspector, 2, q=q)}
    assert found == {items[n].id for n in finds}, q
    found = {a["id"] for a in await walk(client, "/api/assignments", handler, 2, q=q)}
    assert found == {queue[n].id for n in finds}, q


async def test_search_follows_changes_to_titles_and_texts(client, platform, backend):
    inspector = await login(client, "city", "inspector")

    async def found(q: str) -> list[str]:
        r = await client.get("/api/items", params={"q": q}, headers=inspector)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()]

    made = await client.post("/api/items", json={**plan(), "title": "城市防汛排涝工程督查"}, headers=inspector)
    assert made.status_code == 201, made.text
    item_id = made.json()["id"]
    assert await found("防汛排涝") == [item_id]
    r = await client.patch(f"/api/items/{item_id}", json={"title": "城市供水管网改造督查", "content": "抓紧施工"},
                           headers=inspector)
    assert r.status_code == 200, r.text
    assert await found("防汛排涝") == []
    assert await found("供水管网") == [item_id]
    assert await found("抓紧施工") == [item_id]
    async with platform.db.transaction("city") as session:  # an update outside the API: the index follows too
        await session.execute(update(Item).where(Item.id == item_id).values(content="汛期前完成"))
    assert await found("抓紧施工") == []
    assert await found("汛期前完成") == [item_id]


async def test_search_and_the_queue_use_their_indexes(platform, backend):
    """The plans: the queue's page descends (unit, deadline, id); words of 3+ characters go through the
    trigram index (on PostgreSQL the operator class resolves although the tenant's schema comes first)."""
    await add(platform, "city", *[item(n, title=t, content=c) for n, (t, c) in enumerate(TEXTS)])
    async with platform.db.migration_connection("city") as conn:  # unqualified names: the tenant's tables
        if backend == "sqlite":
            shown = " ".join(str(r[-1]) for r in await conn.execute(text(
                "EXPLAIN QUERY PLAN SELECT id FROM assignments WHERE unit = 'x' AND (deadline, id) > ('2026-12-01', '')"
                " ORDER BY deadline, id LIMIT 21")))
            assert "ix_assignments_unit_deadline_id" in shown, shown
            rows = await conn.execute(text("SELECT count(*) FROM items_search WHERE items_search MATCH '\"客运枢\"'"))
            assert rows.scalar_one() == 1
            shown = " ".join(str(r[-1]) for r in await conn.execute(text(
                "EXPLAIN QUERY PLAN SELECT rowid FROM items_search WHERE items_search MATCH '\"客运枢\"'")))
            assert "VIRTUAL TABLE INDEX" in shown, shown
            return
        await conn.execute(text("SET LOCAL enable_seqscan = off"))
        shown = "\n".join(r[0] for r in await conn.execute(text(
            "EXPLAIN SELECT id FROM assignments WHERE unit = 'x' AND (deadline, id) > ('2026-12-01', '')"
            " ORDER BY deadline, id LIMIT 21")))
        assert "ix_assignments_unit_deadline_id" in shown, shown
        for column in ("title", "content"):
            shown = "\n".join(r[0] for r in await conn.execute(text(
                f"EXPLAIN SELECT id FROM items WHERE {column} ILIKE '%客运枢%'")))
            assert f"ix_items_{column}_trgm" in shown, shown
        assert (await conn.execute(text("SELECT count(*) FROM items WHERE title ILIKE '%客运枢%'"))).scalar_one() == 1


async def test_a_tampered_cursor_is_400(client, platform, backend):
    await add(platform, "city", *[item(n) for n in range(5)])
    inspector = await login(client, "city", "inspector")
    r = await client.get("/api/items", params={"limit": 2}, headers=inspector)
    token = r.headers["x-next-cursor"]
    assert cursor.decode(token, "items", (datetime, str))  # names the last row of page 1
    # A character in the middle (the last one of unpadded base64 may carry only padding bits, and
    # changing it can leave the bytes as they were).
    middle = len(token) // 2
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    for bad in (flipped, token + "A", "x" + token[1:], "%%%"):
        r = await client.get("/api/items", params={"cursor": bad}, headers=inspector)
        assert r.status_code == 400 and "游标" in r.json()["detail"], (bad, r.text)
    r = await client.get("/api/assignments", params={"cursor": token}, headers=await login(client, COUNTY, "handler"))
    assert r.status_code == 400, "an items cursor means nothing in a queue"
