"""Deadline clocks over HTTP across two tenants, with time moved by the platform's injected clock:
set at 交办 and carried to the unit, met by 签收 / 反馈 / 办结申请 on both sides, lights computed and
filtered, a return restarting the feedback clock, 延期 approved and refused over NATS, 督办 records
seen at the unit, and a 2027 due date refused until the year's notice is loaded."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from pathlib import Path

import msgspec

from duban.timesource import CHINA, FixedTime
from helpers import eventually, login, plan

COUNTY = "qingjiangpu"
# 国庆 2026 one day longer than the package has it (10-08, a Thursday, off): a correction to load.
CORRECTED_2026_TOML = (Path(__file__).resolve().parents[2] / "calendars" / "2026.toml").read_text(
    encoding="utf-8").replace("end = 2026-10-07", "end = 2026-10-08")


def at(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), CHINA).replace(hour=hour)


async def _users(client):
    return {name: await login(client, tenant, name.split("@")[0]) for name, tenant in [
        ("inspector", "city"), ("approver", "city"), ("handler", COUNTY), ("chief", COUNTY)]}


async def _assigned(client, users, **plan_overrides) -> tuple[str, str]:
    """An item assigned to the county and arrived there; returns (item id, assignment id)."""
    r = await client.post("/api/items", json=plan(**plan_overrides), headers=users["inspector"])
    assert r.status_code == 201, r.text
    item_id = r.json()["id"]
    assert (await client.post(f"/api/items/{item_id}/submit", headers=users["inspector"])).status_code == 200
    assert (await client.post(f"/api/items/{item_id}/approve", headers=users["approver"])).status_code == 200
    r = await client.post(f"/api/items/{item_id}/assign", headers=users["inspector"])
    assert r.status_code == 200, r.text
    assignment_id = r.json()["assignments"][0]["id"]

    async def arrived():
        return (await client.get(f"/api/assignments/{assignment_id}", headers=users["handler"])).status_code == 200

    await eventually(arrived, what="the assignment at the county")
    return item_id, assignment_id


async def _both(client, users, item_id, assignment_id) -> tuple[dict, dict]:
    """The assignment as the city and as the county see it."""
    city = (await client.get(f"/api/items/{item_id}", headers=users["inspector"])).json()
    county = (await client.get(f"/api/assignments/{assignment_id}", headers=users["handler"])).json()
    return city, county


def _clocks(assignment: dict) -> dict:
    return {(c["kind"], c["seq"]): c for c in assignment["clocks"]}


async def test_clocks_travel_with_the_assignment_and_are_met_on_both_sides(client, platform):
    platform.time = FixedTime(at("2026-09-28"))
    users = await _users(client)
    item_id, assignment_id = await _assigned(client, users, deadline="2026-12-31", progress_reports="monthly:25")
    city, county = await _both(client, users, item_id, assignment_id)
    sent, received = city["assignments"][0], county["assignment"]
    assert sent["clocks"] == received["clocks"]  # the same ids, rules and due dates at both tenants
    clocks = _clocks(received)
    assert clocks[("accept", 1)]["due"] == "2026-09-29"
    assert clocks[("feedback", 1)]["due"] == "2026-10-13" and clocks[("feedback", 1)]["rule_text"] == "7个工作日内"
    assert clocks[("completion", 1)]["due"] == "2026-12-31"
    assert [clocks[("progress", n)]["due"] for n in (1, 2, 3)] == ["2026-10-26", "2026-11-25", "2026-12-25"]
    assert received["light"] == "yellow"  # 签收 is due tomorrow, within 3 working days

    # 签收 on 10-09 (late: 9-30 and, after 国庆, 10-08, 10-09 are working days) …
    platform.time.set(at("2026-10-09"))
    r = await client.post(f"/api/assignments/{assignment_id}/accept", headers=users["handler"])
    accepted = _clocks(r.json())[("accept", 1)]
    assert accepted["state"] == "met" and accepted["on_time"] is False and accepted["late_workdays"] == 3
    # … and a progress report on 10-10, the make-up Saturday: the feedback clock is met on time.
    platform.time.set(at("2026-10-10"))
    r = await client.post(f"/api/assignments/{assignment_id}/feedback", json={"text": "已开工", "kind": "progress"},
                          headers=users["handler"])
    assert r.status_code == 201, r.text

    async def mirrored():
        city, county = await _both(client, users, item_id, assignment_id)
        return city["assignments"][0]["state"] == "in_progress" and (city, county)

    city, county = await eventually(mirrored, what="the feedback at the city")
    assert city["assignments"][0]["clocks"] == county["assignment"]["clocks"]
    clocks = _clocks(county["assignment"])
    assert clocks[("feedback", 1)]["state"] == "met" and clocks[("feedback", 1)]["on_time"] is True
    assert clocks[("progress", 1)]["state"] == "met"  # the first period's report, early
    assert county["assignment"]["light"] == "green"
    assert city["item"]["light"] == "green"

    # Time passes: the November report (due 11-25) is missed: red, on both sides, and in the filters.
    platform.time.set(at("2026-10-27"))
    assert (await _both(client, users, item_id, assignment_id))[1]["assignment"]["light"] == "green"
    platform.time.set(at("2026-11-26"))
    city, county = await _both(client, users, item_id, assignment_id)
    assert county["assignment"]["light"] == "red" and city["item"]["light"] == "red"
    red = (await client.get("/api/assignments", params={"light": "red"}, headers=users["handler"])).json()
    assert [a["id"] for a in red] == [assignment_id]
    assert (await client.get("/api/assignments", params={"light": "green"}, headers=users["handler"])).json() == []
    red_items = (await client.get("/api/items", params={"light": "red"}, headers=users["inspector"])).json()
    assert [i["id"] for i in red_items] == [item_id]
    r = await client.get("/api/items", params={"light": "purple"}, headers=users["inspector"])
    assert r.status_code == 400

    # 办结申请 (with the result first) after the deadline: recorded as late by N working days.
    platform.time.set(at("2026-12-31"))
    await client.post(f"/api/assignments/{assignment_id}/feedback", json={"text": "已完工", "kind": "result"},
                      headers=users["handler"])
    r = await client.post(f"/api/assignments/{assignment_id}/request-completion", json={"note": "申请办结"},
                          headers=users["chief"])
    done = _clocks(r.json())[("completion", 1)]
    assert done["state"] == "met" and done["on_time"] is True and done["late_workdays"] == 0
    assert r.json()["light"] is None
    # The periodic reports still open stopped being due.
    assert {c["state"] for k, c in _clocks(r.json()).items() if k[0] == "progress"} >= {"superseded"}


async def test_a_return_restarts_the_feedback_clock(client, platform):
    platform.time = FixedTime(at("2026-11-02"))
    users = await _users(client)
    item_id, assignment_id = await _assigned(client, users, deadline="2026-12-31")
    await client.post(f"/api/assignments/{assignment_id}/accept", headers=users["handler"])
    await client.post(f"/api/assignments/{assignment_id}/feedback", json={"text": "已完成", "kind": "result"},
                      headers=users["handler"])
    await client.post(f"/api/assignments/{assignment_id}/request-completion", headers=users["chief"])

    async def review():
        city, _ = await _both(client, users, item_id, assignment_id)
        return city["item"]["state"] == "completion_review"

    await eventually(review, what="the completion request at the city")
    platform.time.set(at("2026-11-16"))
    r = await client.post(f"/api/items/{item_id}/return", json={"unit": COUNTY, "reason": "数据不全"},
                          headers=users["inspector"])
    assert r.status_code == 200, r.text

    async def returned():
        city, county = await _both(client, users, item_id, assignment_id)
        return county["assignment"]["state"] == "returned" and (city, county)

    city, county = await eventually(returned, what="the return at the county")
    assert city["assignments"][0]["clocks"] == county["assignment"]["clocks"]
    clocks = _clocks(county["assignment"])
    assert clocks[("feedback", 1)]["state"] == "met"
    assert clocks[("feedback", 2)]["state"] == "open" and clocks[("feedback", 2)]["due"] == "2026-11-25"
    assert clocks[("completion", 2)]["state"] == "open" and clocks[("completion", 2)]["due"] == "2026-12-31"
    history = [h["action"] for h in county["history"]]
    assert history[-1] == "return"


async def test_an_extension_is_approved_and_another_refused_across_tenants(client, platform):
    platform.time = FixedTime(at("2026-11-02"))
    users = await _users(client)
    item_id, assignment_id = await _assigned(client, users, deadline="2026-11-30")
    handler, inspector = users["handler"], users["inspector"]
    ask = {"requested_due": "2026-12-20", "reason": "征地手续未批", "progress": "已完成方案设计"}
    r = await client.post(f"/api/assignments/{assignment_id}/extensions", json=ask, headers=handler)
    assert r.status_code == 201, r.text
    extension = r.json()
    assert extension["state"] == "pending" and extension["current_due"] == "2026-11-30"
    r = await client.post(f"/api/assignments/{assignment_id}/extensions", json=ask, headers=handler)
    assert r.status_code == 409  # one waiting request at a time

    async def at_city(state: str = "pending"):
        city, _ = await _both(client, users, item_id, assignment_id)
        return [e for e in city["extensions"] if e["state"] == state]

    [waiting] = await eventually(at_city, what="the request at the city")
    assert waiting["id"] == extension["id"] and waiting["reason"] == "征地手续未批"
    r = await client.post(f"/api/items/{item_id}/extensions/{waiting['id']}/approve", headers=handler)
    assert r.status_code == 403  # only the assigner decides
    r = await client.post(f"/api/items/{item_id}/extensions/{waiting['id']}/approve",
                          json={"new_due": "2026-12-15", "note": "同意延至12月15日"}, headers=inspector)
    assert r.status_code == 200 and r.json()["new_due"] == "2026-12-15", r.text

    async def decided():
        _, county = await _both(client, users, item_id, assignment_id)
        return county["extensions"][0]["state"] == "approved" and county

    county = await eventually(decided, what="the approval at the county")
    completion = _clocks(county["assignment"])[("completion", 1)]
    assert completion["due"] == "2026-12-15" and completion["original_due"] == "2026-11-30"
    assert county["assignment"]["deadline"] == "2026-12-15"
    assert "approve_extension" in [h["action"] for h in county["history"]]

    # A second request is refused, with the reason, on both sides.
    r = await client.post(f"/api/assignments/{assignment_id}/extensions",
                          json={**ask, "requested_due": "2026-12-31"}, headers=handler)
    assert r.status_code == 201, r.text
    [second] = await eventually(at_city, what="the second request at the city")
    r = await client.post(f"/api/items/{item_id}/extensions/{second['id']}/refuse", json={"reason": "不再延期"},
                          headers=inspector)
    assert r.json()["state"] == "refused"

    async def refused():
        _, county = await _both(client, users, item_id, assignment_id)
        return [e for e in county["extensions"] if e["state"] == "refused"] and county

    county = await eventually(refused, what="the refusal at the county")
    assert _clocks(county["assignment"])[("completion", 1)]["due"] == "2026-12-15"

    # After the due date it is too late to ask: the work counts as late.
    platform.time.set(at("2026-12-16"))
    r = await client.post(f"/api/assignments/{assignment_id}/extensions",
                          json={**ask, "requested_due": "2026-12-31"}, headers=handler)
    assert r.status_code == 409 and "已过" in r.json()["detail"] and "late" in r.json()["detail"]


async def test_a_supervision_record_is_seen_at_the_unit(client, platform):
    platform.time = FixedTime(at("2026-11-02"))
    users = await _users(client)
    item_id, assignment_id = await _assigned(client, users, deadline="2026-12-31")
    body = {"mode": "joint", "on": "2026-11-02", "people": ["王督查", "李科长"], "joint_bodies": [],
            "findings": "现场查看，进度滞后约两周。", "follow_up_required": True, "follow_up": "11月10日前报送整改方案",
            "unit": COUNTY}
    r = await client.post(f"/api/items/{item_id}/supervisions", json=body, headers=users["inspector"])
    assert r.status_code == 400 and "参加单位" in r.json()["detail"]
    r = await client.post(f"/api/items/{item_id}/supervisions", json={**body, "joint_bodies": ["市发改委"]},
                          headers=users["inspector"])
    assert r.status_code == 201, r.text
    record = r.json()
    assert record["mode_label"] == "联合督办" and record["recorded_by"] == "city/inspector"
    r = await client.post(f"/api/items/{item_id}/supervisions", json=body, headers=users["handler"])
    assert r.status_code == 403

    async def seen():
        _, county = await _both(client, users, item_id, assignment_id)
        return county["supervisions"] and county

    county = await eventually(seen, what="the 督办 record at the county")
    [got] = county["supervisions"]
    assert got["id"] == record["id"] and got["findings"] == "现场查看，进度滞后约两周。"
    assert got["joint_bodies"] == ["市发改委"] and got["follow_up_required"] is True
    assert "supervised" in [h["action"] for h in county["history"]]
    city, _ = await _both(client, users, item_id, assignment_id)
    assert [s["id"] for s in city["supervisions"]] == [record["id"]]


async def test_a_2027_due_date_is_refused_until_its_notice_is_loaded(client, platform):
    platform.time = FixedTime(at("2026-12-24"))
    users = await _users(client)
    r = await client.post("/api/items", json=plan(deadline="2027-03-31"), headers=users["inspector"])
    item_id = r.json()["id"]
    await client.post(f"/api/items/{item_id}/submit", headers=users["inspector"])
    await client.post(f"/api/items/{item_id}/approve", headers=users["approver"])
    # A 批示件 wants feedback in 7 working days: that runs into 2027, which has no data yet.
    r = await client.post(f"/api/items/{item_id}/assign", headers=users["inspector"])
    assert r.status_code == 422, r.text
    assert "2027年法定节假日安排尚未载入" in r.json()["detail"] and "duban calendar load" in r.json()["detail"]
    assert (await client.get(f"/api/items/{item_id}", headers=users["inspector"])).json()["item"]["state"] \
        == "registered"  # nothing half-done

    admin = await login(client, "city", "admin")
    notice = {"year": 2027, "notice": "测试用2027年节假日安排", "holidays": [
        {"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}]}
    r = await client.post("/api/calendar", json=notice, headers=admin)
    assert r.status_code in (200, 201), r.text
    r = await client.post(f"/api/items/{item_id}/assign", headers=users["inspector"])
    assert r.status_code == 200, r.text
    clocks = _clocks(r.json()["assignments"][0])
    # 12-25, 28, 29, 30, 31, then 2027-01-04, 01-05 (1–3 January off)
    assert clocks[("feedback", 1)]["due"] == "2027-01-05"


async def test_a_calendar_correction_moves_the_counted_due_dates_and_says_why(client, platform):
    platform.time = FixedTime(at("2026-09-28"))
    users = await _users(client)
    item_id, assignment_id = await _assigned(client, users, deadline="2026-12-31", progress_reports="weekly")
    before = _clocks((await _both(client, users, item_id, assignment_id))[1]["assignment"])
    assert before[("feedback", 1)]["due"] == "2026-10-13" and before[("progress", 1)]["due"] == "2026-10-08"

    # The office learns that 国庆 2026 is one day longer (10-08 off): the administrator loads the correction.
    admin = await login(client, "city", "admin")
    notice = tomllib.loads(CORRECTED_2026_TOML)
    r = await client.post("/api/calendar", json=msgspec.to_builtins(notice), headers=admin)
    assert r.status_code in (200, 201), r.text

    city, county = await _both(client, users, item_id, assignment_id)
    assert city["assignments"][0]["clocks"] == county["assignment"]["clocks"]  # every tenant of the node moved
    after = _clocks(city["assignments"][0])
    assert after[("feedback", 1)]["due"] == "2026-10-14"  # counted: one working day fewer in the week
    assert after[("feedback", 1)]["original_due"] == "2026-10-13"
    assert after[("progress", 1)]["due"] == "2026-10-09"  # 10-05 nominal: the next working day is now 10-09
    assert after[("progress", 2)]["due"] == "2026-10-12"  # unchanged
    assert after[("completion", 1)]["due"] == "2026-12-31"  # a date a person set never moves
    moved = [h for h in city["history"] if h["action"] == "recompute"]
    assert moved and all("更正" in h["note"] and h["actor"] == "city/admin" for h in moved)
    assert any("2026-10-13 → 2026-10-14" in h["note"] for h in moved)
