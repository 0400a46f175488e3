"""催办 with the injected clock across 国庆 2026 and its make-up Saturday (10-10): the right step on the
right working day, the escalation ladder in order, quiet hours and rest days respected, each step
once; a 催办 by hand; what the unit's people are told."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from duban.timesource import CHINA, FixedTime
from helpers import eventually, login, plan

COUNTY = "qingjiangpu"


@pytest.fixture
def settings(settings):
    # The test drives the scheduler itself (platform.reminders.run_once), at the times it sets.
    return settings.with_(run_jobs=False)


def at(day: str, hh: int = 10, mm: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), CHINA).replace(hour=hh, minute=mm)


async def _notifications(client, headers) -> list[str]:
    return [n["title"] for n in (await client.get("/api/notifications", headers=headers)).json()]


async def test_the_ladder_climbs_on_working_days_inside_working_hours(client, platform):
    platform.time = FixedTime(at("2026-09-28", 9))
    inspector, approver = await login(client, "city", "inspector"), await login(client, "city", "approver")
    people = {name: await login(client, COUNTY, name) for name in ("handler", "leader", "chief")}
    r = await client.post("/api/items", json=plan(deadline="2026-12-31"), headers=inspector)
    item_id = r.json()["id"]
    await client.post(f"/api/items/{item_id}/submit", headers=inspector)
    await client.post(f"/api/items/{item_id}/approve", headers=approver)
    assigned = await client.post(f"/api/items/{item_id}/assign", headers=inspector)
    assignment_id = assigned.json()["assignments"][0]["id"]

    async def arrived():
        r = await client.get(f"/api/assignments/{assignment_id}", headers=people["handler"])
        return r.status_code == 200

    await eventually(arrived, what="the assignment at the county")
    r = await client.post(f"/api/assignments/{assignment_id}/accept", json={"leader_in_charge": "chief"},
                          headers=people["handler"])
    assert r.status_code == 400 and "分管领导" in r.json()["detail"]
    r = await client.post(f"/api/assignments/{assignment_id}/accept", json={"leader_in_charge": "leader"},
                          headers=people["handler"])
    assert r.status_code == 200 and r.json()["leader_in_charge"] == "leader"

    async def accepted_at_city():
        detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
        return detail["assignments"][0]["state"] == "accepted"

    await eventually(accepted_at_city, what="the acceptance at the city")
    # The 批示件's feedback is due 10-13 (7 working days after 9-28 across 国庆, 10-10 worked). Its
    # steps: before:3 on 10-09, before:1 on 10-12, on 10-13, after:1 on 10-14, after:5 on 10-20.

    async def scan(moment: datetime) -> list[str]:
        platform.time.set(moment)
        await platform.reminders.run_once("city")
        detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
        return [r["step"] for r in detail["reminders"]]

    assert await scan(at("2026-09-30")) == []
    assert await scan(at("2026-10-09", 8, 29)) == []  # before the office opens at 08:30
    assert await scan(at("2026-10-09", 8, 30)) == ["before:3"]
    assert await scan(at("2026-10-09", 16)) == ["before:3"]  # once
    assert await scan(at("2026-10-10", 9)) == ["before:3"]  # the make-up Saturday: open, nothing due
    assert await scan(at("2026-10-11", 9)) == ["before:3"]  # Sunday
    assert await scan(at("2026-10-12", 9)) == ["before:3", "before:1"]
    assert await scan(at("2026-10-13", 12)) == ["before:3", "before:1", "on"]
    assert await scan(at("2026-10-14", 17, 30)) == ["before:3", "before:1", "on"]  # closed at 17:30
    assert await scan(at("2026-10-15", 9)) == ["before:3", "before:1", "on", "after:1"]
    assert await scan(at("2026-10-19", 9)) == ["before:3", "before:1", "on", "after:1"]
    assert await scan(at("2026-10-20", 9)) == ["before:3", "before:1", "on", "after:1", "after:5"]
    assert await scan(at("2026-10-27", 9)) == ["before:3", "before:1", "on", "after:1", "after:5"]

    # At the county: each reminder kept with the assignment, and each step told to its people.
    async def received():
        detail = (await client.get(f"/api/assignments/{assignment_id}", headers=people["handler"])).json()
        return len(detail["reminders"]) == 5 and detail

    detail = await eventually(received, what="the five reminders at the county")
    assert [r["step"] for r in detail["reminders"]] == ["before:3", "before:1", "on", "after:1", "after:5"]
    assert [h["action"] for h in detail["history"]].count("reminded") == 5
    handler, leader, chief = [await _notifications(client, people[n]) for n in ("handler", "leader", "chief")]
    assert len(handler) == 3 and all("提醒" in t or "催办" in t for t in handler)  # before:3, before:1, on
    assert len(leader) == 2  # on, after:1
    assert len(chief) == 2  # after:1, after:5
    assert any("逾期5个工作日" in t for t in chief)
    # At the city: still late 5 working days on → flagged for the next 通报, and the 督查室 told.
    flagged = (await client.get("/api/reminders/flagged", headers=inspector)).json()
    assert [(r["assignment_id"], r["step"]) for r in flagged] == [(assignment_id, "after:5")]
    assert any("列入督查通报" in t for t in await _notifications(client, inspector))


async def test_a_reminder_by_hand_reaches_the_unit(client, platform):
    platform.time = FixedTime(at("2026-11-02", 9))
    inspector, approver = await login(client, "city", "inspector"), await login(client, "city", "approver")
    handler = await login(client, COUNTY, "handler")
    r = await client.post("/api/items", json=plan(deadline="2026-12-31"), headers=inspector)
    item_id = r.json()["id"]
    await client.post(f"/api/items/{item_id}/submit", headers=inspector)
    await client.post(f"/api/items/{item_id}/approve", headers=approver)
    assigned = await client.post(f"/api/items/{item_id}/assign", headers=inspector)
    assignment_id = assigned.json()["assignments"][0]["id"]
    r = await client.post(f"/api/items/{item_id}/reminders", json={"note": "请于本周五前报送进展"}, headers=handler)
    assert r.status_code == 403
    r = await client.post(f"/api/items/{item_id}/reminders", json={"note": "请于本周五前报送进展", "unit": "huaian"},
                          headers=inspector)
    assert r.status_code == 400
    r = await client.post(f"/api/items/{item_id}/reminders", json={"note": "请于本周五前报送进展"}, headers=inspector)
    assert r.status_code == 201, r.text
    [sent] = r.json()
    assert sent["step"] == "manual" and sent["by"] == "city/inspector" and sent["clock_kind"] == "accept"

    async def seen():
        r = await client.get(f"/api/assignments/{assignment_id}", headers=handler)
        return r.status_code == 200 and r.json()["reminders"] and r.json()

    detail = await eventually(seen, what="the 催办 at the county")
    assert detail["reminders"][0]["note"] == "请于本周五前报送进展"
    assert any("督查室催办" in t for t in await _notifications(client, handler))
