"""Notifications over the API: each user sees only their own, newest first, reads them one by one or all
at once; a dedup key stores a reminder once; nothing is stored unless the caller's transaction commits;
the default log channel sends each one."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import func, select

from duban.db.base import utcnow
from duban.notifications.models import Notification
from duban.notifications.service import notify
from helpers import eventually, login

COUNTY = "qingjiangpu"
ROUTES = [("get", "/api/notifications"), ("get", "/api/notifications/summary"),
          ("post", "/api/notifications/x/read"), ("post", "/api/notifications/read-all")]


async def _notify(platform, recipients, title, **kwargs):
    async with platform.db.transaction(COUNTY) as session:
        rows = await notify(session, COUNTY, recipients, "reminder", title, f"{title}。请及时办理。", **kwargs)
    platform.committed(COUNTY)
    return rows


async def _count(platform, **where) -> int:
    async with platform.db.transaction(COUNTY) as session:
        return await session.scalar(select(func.count()).select_from(Notification).filter_by(**where))


async def test_anonymous_callers_get_401(client):
    for method, path in ROUTES:
        r = await client.request(method.upper(), path)
        assert r.status_code == 401, (method, path)


async def test_each_user_lists_reads_and_clears_only_their_own(client, platform):
    handler, chief = await login(client, COUNTY, "handler"), await login(client, COUNTY, "chief")
    city_handler_view = await login(client, "city", "inspector")
    start = utcnow()
    first, = await _notify(platform, ["handler"], "催办：签收时限将到", item_ref="city/i1", assignment_id="a1",
                           at=start)
    second, = await _notify(platform, "handler", "催办：反馈时限将到", at=start + timedelta(minutes=1))
    theirs, = await _notify(platform, ["chief"], "延期申请已批准", at=start + timedelta(minutes=2))

    listed = (await client.get("/api/notifications", headers=handler)).json()
    assert [n["id"] for n in listed] == [second.id, first.id], "newest first, only the caller's"
    assert listed[1]["title"] == "催办：签收时限将到" and listed[1]["body"] == "催办：签收时限将到。请及时办理。"
    assert (listed[1]["kind"], listed[1]["item_ref"], listed[1]["assignment_id"]) == ("reminder", "city/i1", "a1")
    assert all(n["read_at"] is None for n in listed)
    assert [n["id"] for n in (await client.get("/api/notifications", headers=chief)).json()] == [theirs.id]
    assert (await client.get("/api/notifications", headers=city_handler_view)).json() == []
    page = (await client.get("/api/notifications", params={"limit": 1, "offset": 1}, headers=handler)).json()
    assert [n["id"] for n in page] == [first.id]

    # Someone else's notification is 404, like a missing one, and stays unread.
    for headers, other in [(handler, theirs.id), (chief, first.id), (handler, "no-such-id")]:
        r = await client.post(f"/api/notifications/{other}/read", headers=headers)
        assert r.status_code == 404 and "通知不存在" in r.json()["detail"], r.text
    assert (await client.get("/api/notifications/summary", headers=chief)).json() == {"unread": 1}

    r = await client.post(f"/api/notifications/{first.id}/read", headers=handler)
    assert r.status_code == 200 and r.json()["read_at"] is not None
    read_at = r.json()["read_at"]
    again = await client.post(f"/api/notifications/{first.id}/read", headers=handler)
    assert again.json()["read_at"] == read_at, "reading twice keeps the first time"
    unread = (await client.get("/api/notifications", params={"unread": "true"}, headers=handler)).json()
    assert [n["id"] for n in unread] == [second.id]
    assert (await client.get("/api/notifications/summary", headers=handler)).json() == {"unread": 1}

    r = await client.post("/api/notifications/read-all", headers=handler)
    assert r.status_code == 200 and r.json() == {"marked": 1}
    assert (await client.get("/api/notifications", params={"unread": "true"}, headers=handler)).json() == []
    assert len((await client.get("/api/notifications", headers=handler)).json()) == 2, "read ones stay listed"
    assert (await client.get("/api/notifications/summary", headers=chief)).json() == {"unread": 1}, \
        "read-all touches only the caller's"
    assert (await client.post("/api/notifications/read-all", headers=handler)).json() == {"marked": 0}


async def test_a_dedup_key_stores_a_reminder_once_per_recipient(client, platform):
    key = "remind:a1:feedback:2026-10-13:-3"
    one, = await _notify(platform, ["handler"], "催办：反馈时限将到", dedup_key=key)
    again, = await _notify(platform, ["handler"], "催办（重复）", dedup_key=key)
    assert again.id == one.id and again.title == "催办：反馈时限将到", "the existing one is returned"
    async with platform.db.transaction(COUNTY) as session:  # twice in one transaction, and a list with repeats
        rows = await notify(session, COUNTY, ["handler", "chief", "handler"], "reminder", "t", "b", dedup_key=key)
    assert rows[0].id == one.id and len(rows) == 2
    assert await _count(platform, dedup_key=key) == 2, "one per recipient"
    assert await _count(platform, recipient="handler") == 1

    # Two schedulers storing the same reminder at the same time: one row (on PostgreSQL the second waits).
    async def store(title: str) -> str:
        async with platform.db.transaction(COUNTY) as session:
            [row] = await notify(session, COUNTY, ["leader"], "reminder", title, "b", dedup_key="race")
            await asyncio.sleep(0.05)  # hold the transaction open so the two overlap
            return row.id

    ids = await asyncio.gather(store("甲"), store("乙"))
    assert ids[0] == ids[1] and await _count(platform, recipient="leader") == 1

    handler = await login(client, COUNTY, "handler")
    assert len((await client.get("/api/notifications", headers=handler)).json()) == 1


async def test_nothing_is_stored_or_sent_unless_the_callers_transaction_commits(client, platform, caplog):
    caplog.set_level(logging.INFO, logger="duban.notifications")
    try:
        async with platform.db.transaction(COUNTY) as session:
            await notify(session, COUNTY, ["handler"], "reminder", "回滚的催办", "不应发出", dedup_key="k")
            raise RuntimeError("the reminder's transaction fails")
    except RuntimeError:
        pass
    platform.committed(COUNTY)
    await platform.dispatcher.flush(COUNTY)
    assert await _count(platform) == 0
    assert "回滚的催办" not in caplog.text
    # The key is free again: the retried reminder is stored and sent.
    n, = await _notify(platform, ["handler"], "催办：签收时限将到", dedup_key="k")

    async def logged():
        return n.id in caplog.text

    await eventually(logged, what="the log channel to send it")
    handler = await login(client, COUNTY, "handler")
    [listed] = (await client.get("/api/notifications", headers=handler)).json()
    assert [(d["channel"], d["state"], d["attempts"]) for d in listed["deliveries"]] == [("log", "sent", 1)]
    line = next(r for r in caplog.records if n.id in r.getMessage())
    assert line.levelno == logging.INFO and line.name == "duban.notifications"
    assert f"{COUNTY}/handler" in line.getMessage() and "催办：签收时限将到" in line.getMessage()
