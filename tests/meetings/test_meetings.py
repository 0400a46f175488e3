"""会议议定事项 (第三条3): a meeting recorded with its agreed list makes one item per entry in one go — all
of them or none — and the meeting page follows its items' progress. Over HTTP, a real nats-server, on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from helpers import TEST_NOW, eventually, login

HELD = (TEST_NOW.date() - timedelta(days=6)).isoformat()
DEADLINE = (TEST_NOW.date() + timedelta(days=40)).isoformat()


def entry(title: str, units: list[tuple[str, str]] | None = None, **more: object) -> dict:
    body = {"title": title, "agreed_text": f"会议议定：{title}，由有关单位抓好落实。", "division": "督查一处",
            "deadline": DEADLINE, "units": [{"unit": u, "role": r} for u, r in (units or [("qingjiangpu", "lead")])]}
    body.update(more)
    return body


def meeting(items: list[dict], **more: object) -> dict:
    body = {"kind": "executive", "held_on": HELD, "session_number": 12, "title": "市政府第12次常务会议",
            "minutes_number": "市政府常务会议纪要〔2026〕12号", "chair": "mayor", "items": items}
    body.update(more)
    return body


FIVE = [
    entry("加快淮安东站综合客运枢纽建设"),  # no leader named: the chair (the mayor) → the 督查室
    entry("推进老旧小区改造", [("qingjiangpu", "lead"), ("fgw", "co")], issuing_leader="vice_mayor_urban"),
    entry("做好秋季学期校园安全", [("huaian", "lead")], issuing_leader="vice_mayor_edu",
          feedback_due=(TEST_NOW.date() + timedelta(days=10)).isoformat()),
    entry("编制重大项目投资计划", [("fgw", "lead")], group="group1"),  # a group named outright
    entry("整治城区交通秩序", [("huaian", "lead"), ("qingjiangpu", "co")], issuing_leader="exec_vice_mayor",
          group="group3"),  # a group named wins over the leader's
]


async def test_five_agreed_items_make_five_items_and_the_meeting_follows_them(client, platform):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    r = await client.post("/api/meetings", json=meeting(FIVE), headers=inspector)
    assert r.status_code == 201, r.text
    detail = r.json()
    m = detail["meeting"]
    assert (m["kind"], m["kind_label"], m["held_on"], m["session_number"]) == ("executive", "市政府常务会议", HELD, 12)
    assert m["recorded_by"] == "city/inspector" and m["item_count"] == 5 and m["chair"] == "mayor"
    rows = detail["items"]
    assert [row["position"] for row in rows] == [1, 2, 3, 4, 5]
    assert [row["title"] for row in rows] == [e["title"] for e in FIVE]
    assert all(row["state"] == "draft" for row in rows)
    assert [row["group"] for row in rows] == ["mayor", "group2", "group3", "group1", "group3"]
    assert [row["issuing_leader"] for row in rows] == ["mayor", "vice_mayor_urban", "vice_mayor_edu", "mayor",
                                                       "exec_vice_mayor"]
    assert rows[2]["feedback_due"] == FIVE[2]["feedback_due"] and rows[0]["feedback_due"] is None
    assert detail["progress"] == {"total": 5, "completed": 0, "overdue": 0, "by_state": {"draft": 5}, "by_light": {}}

    # Each is an ordinary item carrying the meeting's details in its source.
    items = {i["id"]: i for i in (await client.get("/api/items", headers=inspector)).json()}
    assert set(items) == {row["id"] for row in rows}
    for row, sent in zip(rows, FIVE, strict=True):
        item = items[row["id"]]
        assert item["source_kind"] == "meeting_item" and item["created_by"] == "city/inspector"
        assert item["source"]["meeting_kind"] == "executive" and item["source"]["meeting_date"] == HELD
        assert item["source"]["session_number"] == "第12次" and item["source"]["meeting_id"] == m["id"]
        assert item["source"]["agreed_text"] == sent["agreed_text"]
        assert item["units"] == sent["units"]
    history = (await client.get(f"/api/items/{rows[1]['id']}", headers=inspector)).json()["history"]
    assert [(h["action"], h["actor"]) for h in history] == [("create", "city/inspector")]

    # The items go their way; the meeting page follows: states, lights, overdue.
    first, second = rows[0]["id"], rows[1]["id"]
    for item_id in (first, second):
        assert (await client.post(f"/api/items/{item_id}/submit", headers=inspector)).status_code == 200
        assert (await client.post(f"/api/items/{item_id}/approve", headers=approver)).status_code == 200
        assert (await client.post(f"/api/items/{item_id}/assign", headers=inspector)).status_code == 200
    handler = await login(client, "qingjiangpu", "handler")

    async def arrived():
        queue = (await client.get("/api/assignments", headers=handler)).json()
        return {a["item_ref"]: a for a in queue} if len(queue) == 2 else None

    received = await eventually(arrived, what="both assignments to reach the county")
    r = await client.post(f"/api/assignments/{received[f'city/{first}']['id']}/accept", headers=handler)
    assert r.status_code == 200, r.text

    async def page():
        d = (await client.get(f"/api/meetings/{m['id']}", headers=inspector)).json()
        return d if d["items"][0]["state"] == "in_progress" else None

    d = await eventually(page, what="the acceptance to show on the meeting page")
    assert [row["state"] for row in d["items"]] == ["in_progress", "assigned", "draft", "draft", "draft"]
    # The second is not signed for yet: its 签收 is due within the yellow threshold. Drafts have no light.
    assert [row["light"] for row in d["items"][:2]] == ["green", "yellow"] and d["items"][2]["light"] is None
    assert d["progress"]["by_state"] == {"in_progress": 1, "assigned": 1, "draft": 3}
    assert d["progress"]["by_light"] == {"green": 1, "yellow": 1}

    platform.time.advance(days=45)  # past every 办结时限
    d = (await client.get(f"/api/meetings/{m['id']}", headers=inspector)).json()
    assert [row["light"] for row in d["items"][:2]] == ["red", "red"]
    assert all(row["overdue"] for row in d["items"]) and d["progress"]["overdue"] == 5

    # The list of meetings, and who may see what.
    listed = (await client.get("/api/meetings", headers=inspector)).json()
    assert [(x["id"], x["item_count"]) for x in listed] == [(m["id"], 5)]
    assert (await client.get("/api/meetings?kind=plenary", headers=inspector)).json() == []
    assert (await client.get("/api/meetings", headers=approver)).status_code == 200
    member = await login(client, "city", "member_group2")
    assert (await client.get(f"/api/meetings/{m['id']}", headers=member)).status_code == 200
    assert (await client.get("/api/meetings", headers=handler)).status_code == 403
    client.cookies.clear()  # the logins above left a session cookie
    assert (await client.get("/api/meetings")).status_code == 401
    assert (await client.get("/api/meetings/nope", headers=inspector)).status_code == 404


async def test_a_bad_entry_creates_nothing(client):
    inspector = await login(client, "city", "inspector")
    cases = [
        # (entry 3 broken how, what the answer names)
        (entry("第三项", [("nowhere", "lead")]), "nowhere"),
        (entry("第三项", feedback_due=(TEST_NOW.date() + timedelta(days=90)).isoformat()), "反馈时限"),
        (entry("第三项", issuing_leader="nobody"), "nobody"),
        (entry("第三项", deadline=(TEST_NOW.date() - timedelta(days=1)).isoformat()), "已过"),
        (entry("第三项", [("qingjiangpu", "co")]), "主办单位"),
        (entry("第三项\x00"), "控制字符"),
    ]
    for bad, named in cases:
        body = meeting([entry("第一项"), entry("第二项"), bad, entry("第四项")])
        r = await client.post("/api/meetings", json=body, headers=inspector)
        assert r.status_code == 400, (bad, r.text)
        assert "议定事项第3项" in r.json()["detail"] and named in r.json()["detail"], r.text
        assert r.json()["entry"] == 3

    # What the schema refuses is refused before anything is written, and the answer names the entry.
    body = meeting([entry("第一项"), {**entry("第二项"), "units": []}])
    r = await client.post("/api/meetings", json=body, headers=inspector)
    assert r.status_code == 400 and "items[1]" in r.text, r.text
    for wrong in ({"kind": "weekly"}, {"session_number": 0}, {"items": []}, {"chair": "nobody"},
                  {"held_on": (TEST_NOW.date() + timedelta(days=1)).isoformat()}):
        r = await client.post("/api/meetings", json={**meeting([entry("第一项")]), **wrong}, headers=inspector)
        assert r.status_code == 400, (wrong, r.text)

    assert (await client.get("/api/items", headers=inspector)).json() == []
    assert (await client.get("/api/meetings", headers=inspector)).json() == []

    # A group member may not record meetings; a meeting is recorded once.
    member = await login(client, "city", "member_group2")
    assert (await client.post("/api/meetings", json=meeting([entry("第一项")]), headers=member)).status_code == 403
    assert (await client.post("/api/meetings", json=meeting([entry("第一项")]), headers=inspector)).status_code == 201
    r = await client.post("/api/meetings", json=meeting([entry("又一项")]), headers=inspector)
    assert r.status_code == 409 and "已登记" in r.json()["detail"]
    assert len((await client.get("/api/items", headers=inspector)).json()) == 1


async def test_submit_sends_every_item_for_approval(client):
    inspector = await login(client, "city", "inspector")
    body = meeting([entry("第一项"), entry("第二项", issuing_leader="vice_mayor_edu")], kind="mayor_topic",
                   session_number=3, title="市长专题会议（城市建设）", submit=True)
    r = await client.post("/api/meetings", json=body, headers=inspector)
    assert r.status_code == 201, r.text
    assert [row["state"] for row in r.json()["items"]] == ["pending_approval", "pending_approval"]
    history = (await client.get(f"/api/items/{r.json()['items'][1]['id']}", headers=inspector)).json()["history"]
    assert [h["action"] for h in history] == ["create", "submit"]
