"""The production shape: a city node and a county node, each hosting its own tenants, sharing only
NATS and S3. Nothing relies on one process hosting every tenant (ARCHITECTURE §1, §8)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import replace

import httpx

from duban.app import create_app
from duban.platform import Platform
from helpers import eventually, login, registered_item


@asynccontextmanager
async def node(settings, tenants: tuple[str, ...], name: str):
    platform = Platform(replace(settings, hosted_tenants=tenants, data_dir=settings.data_dir / name))
    platform.keys.init()  # this node's private keys in its own data dir; the public ones in the shared keys dir
    await platform.migrate()
    await platform.seed_demo()
    await platform.start()
    try:
        transport = httpx.ASGITransport(app=create_app(platform, manage_platform=False))
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}.test") as client:
            yield client
    finally:
        await platform.stop()


async def test_the_path_across_two_nodes(settings):
    async with node(settings, ("city", "fgw"), "city-node") as city, \
            node(settings, ("qingjiangpu",), "county-node") as county:
        # Each node holds the private keys of its own tenants only, and the public keys of all.
        assert sorted(p.stem for p in (settings.data_dir / "city-node" / "private-keys").iterdir()) == ["city", "fgw"]
        assert [p.stem for p in (settings.data_dir / "county-node" / "private-keys").iterdir()] == ["qingjiangpu"]
        # Each node knows only its own tenants.
        assert (await county.post("/api/login", json={"tenant": "city", "username": "inspector",
                                                      "password": "duban-demo"})).status_code == 401
        inspector = await login(city, "city", "inspector")
        approver = await login(city, "city", "approver")
        handler = await login(county, "qingjiangpu", "handler")
        chief = await login(county, "qingjiangpu", "chief")

        item_id = await registered_item(city, inspector, approver, units=[("qingjiangpu", "lead"), ("fgw", "co")])
        assert (await city.post(f"/api/items/{item_id}/assign", headers=inspector)).status_code == 200

        async def queue():
            return (await county.get("/api/assignments", headers=handler)).json()

        [task] = await eventually(queue, what="the assignment at the county node")
        await county.post(f"/api/assignments/{task['id']}/accept", headers=handler)
        await county.post(f"/api/assignments/{task['id']}/feedback", json={"text": "已完成"}, headers=handler)
        r = await county.post(f"/api/assignments/{task['id']}/request-completion", headers=chief)
        assert r.json()["state"] == "completion_requested"

        # The co-unit (a department hosted on the city node) answers too.
        fgw_handler = await login(city, "fgw", "handler")
        fgw_chief = await login(city, "fgw", "chief")

        async def fgw_queue():
            return (await city.get("/api/assignments", headers=fgw_handler)).json()

        [co_task] = await eventually(fgw_queue, what="the co-unit's assignment")
        await city.post(f"/api/assignments/{co_task['id']}/accept", headers=fgw_handler)
        await city.post(f"/api/assignments/{co_task['id']}/feedback", json={"text": "配合完成"}, headers=fgw_handler)
        await city.post(f"/api/assignments/{co_task['id']}/request-completion", headers=fgw_chief)

        async def in_review():
            item = (await city.get(f"/api/items/{item_id}", headers=inspector)).json()
            return item if item["item"]["state"] == "completion_review" else None

        detail = await eventually(in_review, what="both units' completion requests at the city")
        assert {f["text"] for f in detail["feedback"]} == {"配合完成", "已完成"}
        assert (await city.post(f"/api/items/{item_id}/complete", headers=inspector)).json()["state"] == "completed"

        async def done():
            a = (await county.get(f"/api/assignments/{task['id']}", headers=handler)).json()
            return a["assignment"]["state"] == "done"

        await eventually(done, what="completion at the county node")
        r = await city.post(f"/api/items/{item_id}/archive", headers=inspector)
        assert r.json()["state"] == "archived"
