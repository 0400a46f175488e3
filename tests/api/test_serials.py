"""Item serials (编号) come from a counter taken in the approval's own transaction: concurrent approvals
never collide and the series never skips."""

from __future__ import annotations

import asyncio

from helpers import TEST_NOW, login, plan


async def test_fifty_concurrent_approvals_get_fifty_gapless_serials(client):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    ids = []
    for n in range(50):
        r = await client.post("/api/items", json=plan(title=f"并发审定测试事项{n}"), headers=inspector)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
        assert (await client.post(f"/api/items/{ids[-1]}/submit", headers=inspector)).status_code == 200

    answers = await asyncio.gather(*(client.post(f"/api/items/{i}/approve", headers=approver) for i in ids))
    assert [a.status_code for a in answers] == [200] * 50, [a.text for a in answers if a.status_code != 200]
    year = TEST_NOW.year
    serials = sorted(a.json()["serial"] for a in answers)
    assert serials == [f"{year}-{n:04d}" for n in range(1, 51)]

    # A rejected approval (wrong state) takes no number: the next one follows on.
    again = await client.post(f"/api/items/{ids[0]}/approve", headers=approver)
    assert again.status_code == 409
    r = await client.post("/api/items", json=plan(), headers=inspector)
    late = r.json()["id"]
    assert (await client.post(f"/api/items/{late}/submit", headers=inspector)).status_code == 200
    r = await client.post(f"/api/items/{late}/approve", headers=approver)
    assert r.json()["serial"] == f"{year}-0051"
