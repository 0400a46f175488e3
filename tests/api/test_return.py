"""退回重办: the assigner sends a unit's work back; the unit reworks it and asks again."""

from __future__ import annotations

from helpers import eventually, login, registered_item


async def test_returned_work_is_redone_and_completed(client):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    handler = await login(client, "qingjiangpu", "handler")
    chief = await login(client, "qingjiangpu", "chief")
    item_id = await registered_item(client, inspector, approver)
    await client.post(f"/api/items/{item_id}/assign", headers=inspector)

    async def task_in(state):
        async def check():
            tasks = (await client.get("/api/assignments", headers=handler)).json()
            return tasks[0] if tasks and tasks[0]["state"] == state else None
        return await eventually(check, what=f"the county's assignment in state {state}")

    async def item_in(state):
        async def check():
            detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
            return detail if detail["item"]["state"] == state else None
        return await eventually(check, what=f"the city's item in state {state}")

    task = await task_in("issued")
    # Completion can't be asked for before any feedback.
    await client.post(f"/api/assignments/{task['id']}/accept", headers=handler)
    r = await client.post(f"/api/assignments/{task['id']}/request-completion", headers=chief)
    assert r.status_code == 409 and "反馈" in r.json()["detail"]
    await client.post(f"/api/assignments/{task['id']}/feedback", json={"text": "初步完成"}, headers=handler)
    await client.post(f"/api/assignments/{task['id']}/request-completion", headers=chief)
    await item_in("completion_review")

    r = await client.post(f"/api/items/{item_id}/return", headers=inspector,
                          json={"unit": "huaian", "reason": "x"})
    assert r.status_code == 400  # not a unit of this item
    r = await client.post(f"/api/items/{item_id}/return", headers=inspector,
                          json={"unit": "qingjiangpu", "reason": "缺少道路通车的佐证材料"})
    assert r.status_code == 200 and r.json()["state"] == "in_progress"

    returned = await task_in("returned")
    assert returned["note"] == "缺少道路通车的佐证材料"
    await client.post(f"/api/assignments/{task['id']}/feedback", json={"text": "补充通车验收材料", "kind": "result"},
                      headers=handler)
    await client.post(f"/api/assignments/{task['id']}/request-completion", headers=chief)
    detail = await item_in("completion_review")
    assert [f["text"] for f in detail["feedback"]] == ["初步完成", "补充通车验收材料"]
    assert any(h["action"] == "return" and h["note"] == "缺少道路通车的佐证材料" for h in detail["history"])
    assert (await client.post(f"/api/items/{item_id}/complete", headers=inspector)).json()["state"] == "completed"
    await task_in("done")
