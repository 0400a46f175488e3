"""The calendar over HTTP and in storage: any signed-in user reads it; only the city office's
administrator loads a year, into every tenant of the node; a loaded year wins over the package."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from calendar_samples import NOTICE_2027
from sqlalchemy import func, select

from duban.accounts.manage import enroll_demo
from duban.accounts.repository import AccountRepository
from duban.accounts.service import DEMO_PASSWORD, create_user
from duban.accounts.totp import write_identities
from duban.calendar.models import CalendarYear
from duban.calendar.notice import notice_from_data
from duban.calendar.repository import CalendarRepository
from duban.calendar.service import load_notice, read_calendar, refresh
from duban.platform import Platform
from helpers import login

AFTER = "/api/calendar/after"


async def test_anonymous_is_refused(client):
    assert (await client.get("/api/calendar/2026")).status_code == 401
    assert (await client.get(AFTER, params={"date": "2026-09-28", "n": 7})).status_code == 401
    assert (await client.post("/api/calendar", json=NOTICE_2027)).status_code == 401


async def test_any_signed_in_user_reads_the_calendar(client):
    handler = await login(client, "qingjiangpu", "handler")
    r = await client.get(AFTER, params={"date": "2026-09-28", "n": 7}, headers=handler)
    assert r.status_code == 200, r.text
    assert r.json() == {"start": "2026-09-28", "n": 7, "date": "2026-10-13"}
    r = await client.get("/api/calendar/2026", headers=handler)
    assert r.status_code == 200, r.text
    year = r.json()
    assert year["source"] == "package" and year["loaded_by"] is None
    assert "2026-10-10" in year["makeup_workdays"] and len(year["makeup_workdays"]) == 6
    national = next(h for h in year["holidays"] if h["name"] == "国庆节")
    assert (national["start"], national["end"], national["days"]) == ("2026-10-01", "2026-10-07", 7)
    bad = await client.get(AFTER, params={"date": "2026-13-01", "n": 7}, headers=handler)
    assert bad.status_code == 400


async def test_2027_is_refused_then_loaded_by_the_city_administrator(client, platform: Platform):
    inspector = await login(client, "city", "inspector")
    refused = await client.get(AFTER, params={"date": "2027-09-28", "n": 7}, headers=inspector)
    assert refused.status_code == 422, refused.text
    assert refused.json()["year"] == 2027
    detail = refused.json()["detail"]
    assert "2027年法定节假日安排尚未载入" in detail and "duban calendar load" in detail
    assert (await client.get("/api/calendar/2027", headers=inspector)).status_code == 422

    assert (await client.post("/api/calendar", json=NOTICE_2027, headers=inspector)).status_code == 403
    admin = await login(client, "city", "admin")
    r = await client.post("/api/calendar", json=NOTICE_2027, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["source"] == "table" and r.json()["loaded_by"] == "city/admin"

    r = await client.get(AFTER, params={"date": "2027-09-28", "n": 7}, headers=inspector)
    assert r.status_code == 200 and r.json()["date"] == "2027-10-13", r.text
    assert platform.calendar.year_source(2027) == "table"
    for tenant in platform.tenants:  # the same notice in every tenant of the node, each in its own storage
        async with platform.db.transaction(tenant) as session:
            [row] = await CalendarRepository(session, tenant).all()
        assert row.year == 2027 and row.loaded_by == "city/admin"
        assert notice_from_data(row.notice) == notice_from_data(NOTICE_2027)


async def test_only_an_administrator_of_the_city_office_loads(client, platform: Platform):
    async with platform.db.transaction("qingjiangpu") as session:  # a county's own administrator
        repo = AccountRepository(session, "qingjiangpu")
        user = await create_user(repo, platform.policy, "admin", "区系统管理员", DEMO_PASSWORD, ["administrator"],
                                 cost=10)
        secret, _ = await enroll_demo(repo, user.id, platform.time.now())  # administrators log in with TOTP
    write_identities(platform.settings.data_dir, {"qingjiangpu": {"admin": {"password": DEMO_PASSWORD,
                                                                             "totp_secret": secret}}})
    county_admin = await login(client, "qingjiangpu", "admin")
    r = await client.post("/api/calendar", json=NOTICE_2027, headers=county_admin)
    assert r.status_code == 403 and "city" in r.json()["detail"], r.text
    for tenant, username in [("city", "inspector"), ("city", "supervisor"), ("qingjiangpu", "chief")]:
        r = await client.post("/api/calendar", json=NOTICE_2027, headers=await login(client, tenant, username))
        assert r.status_code == 403, (tenant, username)
    assert platform.calendar.year_source(2027) is None
    async with platform.db.transaction("city") as session:
        assert await CalendarRepository(session, "city").all() == []


async def test_a_broken_notice_is_refused_with_every_problem(client, platform: Platform):
    admin = await login(client, "city", "admin")
    broken = {**NOTICE_2027, "holidays": [
        {"name": "国庆节", "start": "2027-10-07", "end": "2027-10-01"},
        {"name": "元旦", "start": "2027-01-01", "end": "2027-01-01", "makeup_workdays": ["2027-01-04"]},
    ]}
    r = await client.post("/api/calendar", json=broken, headers=admin)
    assert r.status_code == 400, r.text
    body = r.json()
    assert len(body["problems"]) == 2
    assert "早于开始日期" in body["problems"][0] and "不是周六或周日" in body["problems"][1]
    r = await client.post("/api/calendar", json={**NOTICE_2027, "holidays": [{"name": "元旦", "start": "2027-1-1",
                                                                              "end": "2027-01-01"}]}, headers=admin)
    assert r.status_code == 400 and "不是有效日期" in r.json()["detail"], r.text
    assert platform.calendar.year_source(2027) is None


async def test_a_loaded_year_overrides_the_package(client, platform: Platform):
    admin = await login(client, "city", "admin")
    corrected = notice_from_data({
        "year": 2026, "notice": "更正（测试）", "holidays": [
            {"name": "国庆节", "start": "2026-10-01", "end": "2026-10-08",
             "makeup_workdays": ["2026-09-20", "2026-10-10"]},
        ]})
    r = await client.post("/api/calendar", json=corrected.to_builtins(), headers=admin)
    assert r.status_code == 200, r.text
    r = await client.get(AFTER, params={"date": "2026-09-28", "n": 7}, headers=admin)
    assert r.json()["date"] == "2026-10-14"  # 8 October off now
    assert (await client.get("/api/calendar/2026", headers=admin)).json()["source"] == "table"


async def test_loading_again_replaces_and_the_newest_load_wins(platform: Platform):
    notice = notice_from_data(NOTICE_2027)
    first = await load_notice(platform.db, notice, "cli:first")
    second = await load_notice(platform.db, notice, "cli:second")
    assert first.tenants == second.tenants == platform.tenants and not second.failed
    async with platform.db.transaction("fgw") as session:
        assert await session.scalar(select(func.count()).select_from(CalendarYear)) == 1
        assert (await session.get(CalendarYear, 2027)).loaded_by == "cli:second"

    # A node reads its tenants' tables (as Platform.start does) and keeps the newest load of each year.
    changed = notice_from_data({**NOTICE_2027, "notice": "更正", "holidays": NOTICE_2027["holidays"][:1]})
    async with platform.db.transaction("huaian") as session:
        await CalendarRepository(session, "huaian").put(changed, "cli:newest", datetime.now(UTC) + timedelta(hours=1))
    cal = await read_calendar(platform.db)
    assert cal.year_source(2027) == "table" and cal.notice(2027).notice == "更正"
    assert cal.loaded(2027).loaded_by == "cli:newest"
    assert cal.is_workday(date(2027, 10, 4)), "国庆 is gone in the newest load"


async def test_a_started_node_holds_the_loaded_years_and_sees_later_loads(platform: Platform):
    await load_notice(platform.db, notice_from_data(NOTICE_2027), "cli:before-start")
    await platform.start()
    try:
        assert platform.calendar.year_source(2027) == "table"
        assert platform.calendar.loaded(2027).loaded_by == "cli:before-start"
        corrected = notice_from_data({**NOTICE_2027, "notice": "更正"})
        await load_notice(platform.db, corrected, "cli:elsewhere")  # as another process would
        assert platform.calendar.notice(2027).notice != "更正"
        assert await refresh(platform)  # what the node's watch does every REFRESH_SECONDS
        assert platform.calendar.notice(2027).notice == "更正"
        assert not await refresh(platform)
    finally:
        await platform.stop()
