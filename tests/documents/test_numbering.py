"""The notice numbers under concurrent 交办: one per unit, all distinct, no gaps — 100 at once on PostgreSQL
(SQLite serialises writers anyway: 10 there)."""

from __future__ import annotations

import asyncio

from helpers import login, plan


async def test_concurrent_assignments_take_distinct_gapless_numbers(client, backend):
    n = 100 if backend == "postgres" else 10
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")

    async def registered(i: int) -> str:
        r = await client.post("/api/items", json=plan(title=f"并发交办测试事项{i:03d}"), headers=inspector)
        assert r.status_code == 201, r.text
        item_id = r.json()["id"]
        assert (await client.post(f"/api/items/{item_id}/submit", headers=inspector)).status_code == 200
        assert (await client.post(f"/api/items/{item_id}/approve", headers=approver)).status_code == 200
        return item_id

    ids = [await registered(i) for i in range(n)]
    answers = await asyncio.gather(*(client.post(f"/api/items/{i}/assign", headers=inspector) for i in ids))
    assert [a.status_code for a in answers] == [200] * n, [a.text for a in answers if a.status_code != 200][:3]

    numbers = []
    for item_id in ids:
        r = await client.get(f"/api/items/{item_id}/documents", headers=inspector)
        [notice] = r.json()
        numbers.append(notice["number"])
    assert len(set(numbers)) == n
    assert sorted(numbers, key=lambda s: int(s.split("〕")[1].rstrip("号"))) == \
        [f"督办〔2026〕{k}号" for k in range(1, n + 1)]
