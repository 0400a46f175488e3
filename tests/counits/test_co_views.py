"""协办: a co-unit's views reach the lead unit, and the lead's result report carries them to the assigner."""

from __future__ import annotations

from helpers import eventually, login, registered_item


async def test_co_unit_views_reach_the_lead_and_the_assigner(platform, client):
    api = client
    inspector, approver = await login(api, "city", "inspector"), await login(api, "city", "approver")
    lead, co = await login(api, "qingjiangpu", "handler"), await login(api, "fgw", "handler")
    item_id = await registered_item(api, inspector, approver, units=[("qingjiangpu", "lead"), ("fgw", "co")])
    await api.post(f"/api/items/{item_id}/assign", headers=inspector)

    async def queue(headers):
        async def one():
            return (await api.get("/api/assignments", headers=headers)).json()
        return (await eventually(one, what="an assignment"))[0]

    lead_task, co_task = await queue(lead), await queue(co)
    early = await api.post(f"/api/assignments/{co_task['id']}/co-views", headers=co, json={"text": "建议同步推进。"})
    assert early.status_code == 409, early.text
    await api.post(f"/api/assignments/{co_task['id']}/accept", headers=co)
    await api.post(f"/api/assignments/{lead_task['id']}/accept", headers=lead)
    sent = await api.post(f"/api/assignments/{co_task['id']}/co-views", headers=co,
                          json={"text": "市发改委意见：建议同步推进配套道路。"})
    assert sent.status_code == 201, sent.text
    assert sent.json()["lead_unit"] == "qingjiangpu" and sent.json()["on_time"] is True
    not_co = await api.post(f"/api/assignments/{lead_task['id']}/co-views", headers=lead, json={"text": "x"})
    assert not_co.status_code == 409
    blank = await api.post(f"/api/assignments/{co_task['id']}/co-views", headers=co, json={"text": "   "})
    assert blank.status_code == 400

    async def at_lead():
        return (await api.get(f"/api/assignments/{lead_task['id']}/co-views", headers=lead)).json() or None

    [view] = await eventually(at_lead, what="the co-unit's views at the lead unit")
    assert view["co_unit"] == "fgw" and "配套道路" in view["text"]

    r = await api.post(f"/api/assignments/{lead_task['id']}/feedback", headers=lead,
                       json={"kind": "result", "text": "已办结，协办意见已吸收。"})
    assert r.status_code == 201, r.text

    async def at_city():
        return (await api.get(f"/api/items/{item_id}/co-views", headers=inspector)).json() or None

    [kept] = await eventually(at_city, what="the views carried by the lead's report to the city")
    assert kept["id"] == view["id"] and kept["co_unit"] == "fgw" and kept["lead_unit"] == "qingjiangpu"


async def test_views_from_a_unit_not_on_the_item_are_refused(platform, client):
    from duban.events.envelope import CoViewsSent  # noqa: PLC0415
    from duban.events.repository import OutboxRepository  # noqa: PLC0415
    from helpers import TEST_NOW  # noqa: PLC0415

    api = client
    inspector, approver = await login(api, "city", "inspector"), await login(api, "city", "approver")
    lead, supervisor = await login(api, "qingjiangpu", "handler"), await login(api, "qingjiangpu", "supervisor")
    item_id = await registered_item(api, inspector, approver, units=[("qingjiangpu", "lead"), ("fgw", "co")])
    await api.post(f"/api/items/{item_id}/assign", headers=inspector)

    async def queue():
        return (await api.get("/api/assignments", headers=lead)).json()

    [task] = await eventually(queue, what="the lead's assignment")
    async with platform.db.transaction("huaian") as session:
        await OutboxRepository(session, "huaian").add(
            kind="co.views", to_tenant="qingjiangpu", item_ref=f"city/{item_id}", actor="huaian/handler",
            payload=CoViewsSent("v-forged", "x", "伪造意见", "huaian/handler", TEST_NOW, None, None))
    platform.committed("huaian")

    async def rejected():
        return (await api.get("/api/inbox?status=rejected", headers=supervisor)).json() or None

    [row] = await eventually(rejected, what="the forged views kept as rejected")
    assert row["kind"] == "co.views"
    assert (await api.get(f"/api/assignments/{task['id']}/co-views", headers=lead)).json() == []
