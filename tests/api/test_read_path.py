"""The read path (auth.py, deps.py, db/database.py): a read request is checked and served in one read-only
transaction that takes no write lock; a session's use is written at most once a minute, and the idle
time, the logout and the audit of denials keep their meaning."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from duban.accounts.models import LoginSession
from duban.accounts.service import token_hash
from duban.audit.models import AuditEntry
from duban.items.models import Item
from helpers import TEST_NOW, login, plan


@pytest.fixture
def settings(settings):
    return settings.with_(session_hours=12, session_idle_minutes=30)  # the production defaults


async def _sessions(platform, headers: dict[str, str], tenant: str = "city") -> list[LoginSession]:
    token = headers["Authorization"].split()[1]
    async with platform.db.transaction(tenant) as session:
        return list(await session.scalars(select(LoginSession).where(LoginSession.token_hash == token_hash(token))))


async def test_a_read_does_not_wait_for_a_writer_and_sees_only_what_is_committed(client, platform):
    inspector = await login(client, "city", "inspector")
    created = await client.post("/api/items", json=plan(title="已提交的标题"), headers=inspector)
    item_id = created.json()["id"]
    async with platform.db.transaction("city") as writing:  # holds the write lock (SQLite: BEGIN IMMEDIATE)
        await writing.execute(update(Item).where(Item.id == item_id).values(title="尚未提交的标题"))
        # A read that took the write lock would wait here for the busy timeout (10 s), then fail.
        me = await asyncio.wait_for(client.get("/api/me", headers=inspector), 5)
        page = await asyncio.wait_for(client.get("/api/items?limit=20", headers=inspector), 5)
        one = await asyncio.wait_for(client.get(f"/api/items/{item_id}", headers=inspector), 5)
    assert me.status_code == 200 and me.json()["username"] == "inspector"
    assert page.status_code == 200 and [i["title"] for i in page.json()] == ["已提交的标题"]
    assert one.status_code == 200 and one.json()["item"]["title"] == "已提交的标题"
    after = await client.get(f"/api/items/{item_id}", headers=inspector)
    assert after.json()["item"]["title"] == "尚未提交的标题"  # committed now


async def test_a_read_transaction_cannot_write(platform):
    with pytest.raises(DBAPIError):  # SQLite: a readonly database; PostgreSQL: a read-only transaction
        async with platform.db.transaction("city", snapshot=True) as session:
            await session.execute(update(LoginSession).values(last_seen_at=None))


async def test_a_session_use_is_written_once_a_minute_and_the_idle_time_still_ends_it(client, platform):
    headers = await login(client, "city", "inspector")
    [s] = await _sessions(platform, headers)
    assert s.last_seen_at == TEST_NOW
    platform.time.advance(seconds=59)
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    assert (await client.get("/api/items", headers=headers)).status_code == 200
    [s] = await _sessions(platform, headers)
    assert s.last_seen_at == TEST_NOW  # used, but less than a minute after the use on record: nothing written
    platform.time.advance(seconds=2)
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    [s] = await _sessions(platform, headers)
    assert s.last_seen_at == TEST_NOW + timedelta(seconds=61)
    platform.time.advance(minutes=29, seconds=59)  # idle time counts from the use on record
    assert (await client.post("/api/items", json=plan(), headers=headers)).status_code == 201  # a write renews too
    [s] = await _sessions(platform, headers)
    assert s.last_seen_at == TEST_NOW + timedelta(minutes=31)
    platform.time.advance(minutes=30, seconds=1)
    r = await client.get("/api/items", headers=headers)
    assert r.status_code == 401 and "超时" in r.json()["detail"]
    assert await _sessions(platform, headers) == []  # ended: the row is gone, not only refused


async def test_logout_ends_the_session_at_once_and_only_that_one(client, platform):
    first = await login(client, "city", "inspector")
    second = await login(client, "city", "inspector")
    assert (await client.get("/api/items", headers=first)).status_code == 200
    assert (await client.post("/api/logout", headers=first)).status_code == 204
    for path in ("/api/me", "/api/items"):
        r = await client.get(path, headers=first)
        assert r.status_code == 401 and "失效" in r.json()["detail"]
    assert (await client.post("/api/items", json=plan(), headers=first)).status_code == 401
    assert (await client.get("/api/me", headers=second)).status_code == 200  # the other login goes on
    assert await _sessions(platform, first) == []


async def test_a_denied_read_is_audited_and_gives_its_connection_back(client, platform):
    handler = await login(client, "qingjiangpu", "handler")
    for _ in range(30):  # more than the read pool keeps: a connection held after a denial would show
        r = await client.get("/api/items", headers=handler)
        assert r.status_code == 403
    assert (await client.get("/api/me", headers=handler)).status_code == 200
    async with platform.db.transaction("qingjiangpu") as session:
        denied = (await session.scalars(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "denied", AuditEntry.target == "GET /api/items",
            AuditEntry.actor == "qingjiangpu/handler"))).one()
    assert denied == 30


async def test_a_token_of_a_tenant_not_hosted_here_or_malformed_is_refused(client):
    for token in ("nowhere.abc", "no-dot", ""):
        r = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401


async def test_a_checked_session_serves_reads_for_seconds_and_any_write_ends_that(client, platform):
    """auth.SeenSessions: a session checked a moment ago serves reads without a database check, for
    DUBAN_SESSION_CACHE_SECONDS of the node's time; a write to the tenant (here: log out everywhere)
    makes the very next read check again."""
    from sqlalchemy import delete

    headers = await login(client, "city", "inspector")
    assert (await client.get("/api/me", headers=headers)).status_code == 200  # checked, and kept
    # Another process ends the session behind this one's back: reads are still served, for seconds only.
    async with platform.db.transaction("city") as session:
        await session.execute(delete(LoginSession).where(LoginSession.token_hash ==
                                                         token_hash(headers["Authorization"].split()[1])))
    assert (await client.get("/api/me", headers=headers)).status_code == 200
    platform.time.advance(seconds=platform.settings.session_cache_seconds)
    assert (await client.get("/api/me", headers=headers)).status_code == 401

    # Ended through this node: refused at once, by every read after the write.
    other = await login(client, "city", "supervisor")
    assert (await client.get("/api/items", headers=other)).status_code == 200
    assert (await client.post("/api/logout/all", headers=other)).status_code in (200, 204)
    assert (await client.get("/api/items", headers=other)).status_code == 401
