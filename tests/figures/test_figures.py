"""第九条: every tenant's own supervision work reaches the city 督查室 as figures, by events."""

from __future__ import annotations

from datetime import timedelta

from duban.timesource import FixedTime
from helpers import TEST_NOW, eventually, hosting, login, registered_item

TENANTS = ("city", "qingjiangpu", "qjp_fgj", "fgw")


async def test_each_tenant_reports_its_figures_to_the_city(settings):
    async with hosting(settings, TENANTS) as (platform, api):
        inspector, approver = await login(api, "city", "inspector"), await login(api, "city", "approver")
        county_sup = await login(api, "qingjiangpu", "supervisor")
        county_handler = await login(api, "qingjiangpu", "handler")
        item_id = await registered_item(api, inspector, approver, units=[("qingjiangpu", "lead")])
        await api.post(f"/api/items/{item_id}/assign", headers=inspector)

        async def task():
            return (await api.get("/api/assignments", headers=county_handler)).json()

        [a] = await eventually(task, what="the county's assignment")
        await api.post(f"/api/assignments/{a['id']}/accept", headers=county_handler)
        due = (TEST_NOW.date() + timedelta(days=10)).isoformat()
        part = await api.post(f"/api/assignments/{a['id']}/parts", headers=county_sup,
                              json={"units": [{"unit": "qjp_fgj"}], "deadline": due})
        assert part.status_code == 201, part.text

        mine = (await api.post("/api/figures/report", headers=county_sup)).json()
        assert [(r["tenant"], r["open"], r["received_open"], r["overdue"]) for r in mine] == [("qingjiangpu", 1, 1, 0)]

        async def at_city():
            rows = {r["tenant"]: r for r in (await api.get("/api/figures", headers=inspector)).json()}
            return rows.get("qingjiangpu")

        row = await eventually(at_city, what="the county's figures at the city")
        assert (row["open"], row["done"], row["overdue"], row["received_open"]) == (1, 0, 0, 1)
        assert row["on_time_rate"] is None
        assert row["name"] == "清江浦区人民政府"
        first_as_of = row["as_of"]

        # Nothing changed: nothing is sent (the city keeps the first report).
        platform.time = FixedTime(TEST_NOW + timedelta(days=1))
        await api.post("/api/figures/report", headers=county_sup)
        # Past the part's deadline (and the county's own): overdue on both counts.
        platform.time = FixedTime(TEST_NOW + timedelta(days=45))
        await api.post("/api/figures/report", headers=county_sup)

        async def overdue_at_city():
            r = await at_city()
            return r if r["overdue"] == 1 else None

        row = await eventually(overdue_at_city, what="the county's overdue figures at the city")
        assert row["received_overdue"] == 1 and row["as_of"] != first_as_of
        assert (await api.get("/api/figures", headers=county_handler)).status_code == 403


async def test_figures_for_another_tenant_are_refused(settings):
    from duban.events.envelope import FiguresReported  # noqa: PLC0415
    from duban.events.repository import OutboxRepository  # noqa: PLC0415

    async with hosting(settings, TENANTS) as (platform, api):
        inspector = await login(api, "city", "inspector")
        forged = FiguresReported("fgw", 0, 99, 0, 99, 0, 0, 0, 0, as_of=TEST_NOW)
        async with platform.db.transaction("qingjiangpu") as session:
            await OutboxRepository(session, "qingjiangpu").add(
                kind="figures.reported", to_tenant="city", item_ref="figures/fgw", actor="qingjiangpu/x",
                payload=forged)
        platform.committed("qingjiangpu")

        async def rejected():
            return (await api.get("/api/inbox?status=rejected", headers=inspector)).json() or None

        [row] = await eventually(rejected, what="the forged figures kept as rejected")
        assert row["kind"] == "figures.reported"
        assert (await api.get("/api/figures", headers=inspector)).json() == []
