"""分解 to any depth with roll-up (issue 6 §1): city → county → county department and town → community,
over real NATS; every level's state reaches the city as events, each level sees its own subtree, and a
level can ask for completion only when its parts are finished or closed."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import timedelta

from helpers import TEST_NOW, eventually, hosting, login, registered_item

TENANTS = ("city", "fgw", "qingjiangpu", "qjp_fgj", "qjp_changxi", "qjp_changxi_sq")
DUE = (TEST_NOW.date() + timedelta(days=20)).isoformat()


@asynccontextmanager
async def network(settings):
    async with hosting(settings, TENANTS) as (_, client):
        yield client


async def received(client, headers, what):
    async def one():
        return (await client.get("/api/assignments", headers=headers)).json()
    return (await eventually(one, what=what))[0]


def walk(units, level=1):
    for u in units:
        yield u
        yield from walk(u["children"], level + 1)


async def test_split_three_levels_down_and_roll_up(settings):
    async with network(settings) as api:
        inspector, approver = await login(api, "city", "inspector"), await login(api, "city", "approver")
        h = {t: await login(api, t, "handler") for t in TENANTS[1:]}
        chief = {t: await login(api, t, "chief") for t in TENANTS[1:]}
        sup = {t: await login(api, t, "supervisor") for t in TENANTS[1:]}

        item_id = await registered_item(api, inspector, approver, units=[("qingjiangpu", "lead"), ("fgw", "co")])
        assert (await api.post(f"/api/items/{item_id}/assign", headers=inspector)).status_code == 200
        county_task = await received(api, h["qingjiangpu"], "the county's assignment")
        # Not before 签收.
        early = await api.post(f"/api/assignments/{county_task['id']}/parts", headers=sup["qingjiangpu"],
                               json={"units": [{"unit": "qjp_fgj"}], "deadline": DUE})
        assert early.status_code == 409, early.text
        await api.post(f"/api/assignments/{county_task['id']}/accept", headers=h["qingjiangpu"])

        # The county splits: a part for its department (lead) and a town (co), due no later than its own.
        late = await api.post(f"/api/assignments/{county_task['id']}/parts", headers=sup["qingjiangpu"], json={
            "units": [{"unit": "qjp_fgj"}], "deadline": (TEST_NOW.date() + timedelta(days=40)).isoformat()})
        assert late.status_code == 400 and "不能晚于" in late.json()["detail"]
        foreign = await api.post(f"/api/assignments/{county_task['id']}/parts", headers=sup["qingjiangpu"], json={
            "units": [{"unit": "ha_cheqiao"}], "deadline": DUE})
        assert foreign.status_code == 400, foreign.text
        part = await api.post(f"/api/assignments/{county_task['id']}/parts", headers=sup["qingjiangpu"], json={
            "units": [{"unit": "qjp_fgj", "role": "lead"}, {"unit": "qjp_changxi", "role": "co"}],
            "deadline": DUE, "content": "区发改局牵头，长西街道配合。"})
        assert part.status_code == 201, part.text
        part_id = part.json()["item"]["id"]
        assert {a["unit"] for a in part.json()["assignments"]} == {"qjp_fgj", "qjp_changxi"}

        # The town accepts and splits again, for its community: a third level below the city.
        town_task = await received(api, h["qjp_changxi"], "the town's assignment")
        await api.post(f"/api/assignments/{town_task['id']}/accept", headers=h["qjp_changxi"])
        sub = await api.post(f"/api/assignments/{town_task['id']}/parts", headers=h["qjp_changxi"], json={
            "units": [{"unit": "qjp_changxi_sq"}], "deadline": DUE})
        assert sub.status_code == 201, sub.text
        sub_id = sub.json()["item"]["id"]
        community_task = await received(api, h["qjp_changxi_sq"], "the community's assignment")
        await api.post(f"/api/assignments/{community_task['id']}/accept", headers=h["qjp_changxi_sq"])
        r = await api.post(f"/api/assignments/{community_task['id']}/feedback", headers=h["qjp_changxi_sq"],
                           json={"kind": "result", "text": "社区已完成入户摸排。"})
        assert r.status_code == 201, r.text

        # The city sees every level, built from events.
        async def city_tree_complete():
            tree = (await api.get(f"/api/items/{item_id}/tree", headers=inspector)).json()
            units = {u["unit"]: u for u in walk(tree["units"])}
            deep = units.get("qjp_changxi_sq")
            return tree if deep and deep["last_feedback"] and deep["state"] == "in_progress" else None

        tree = await eventually(city_tree_complete, what="the community's feedback in the city's tree")
        units = {u["unit"]: u for u in walk(tree["units"])}
        assert {u: units[u]["level"] for u in units} == {
            "qingjiangpu": 1, "fgw": 1, "qjp_fgj": 2, "qjp_changxi": 2, "qjp_changxi_sq": 3}
        assert units["qjp_changxi_sq"]["last_feedback"]["text"] == "社区已完成入户摸排。"
        assert units["qjp_changxi_sq"]["assigner"] == "qjp_changxi"
        assert units["qjp_changxi"]["state"] == "accepted" and units["qjp_fgj"]["state"] == "issued"
        assert units["qjp_fgj"]["light"] in ("green", "yellow", "red") and units["qjp_fgj"]["next_due"]
        assert units["qjp_fgj"]["part"]["serial"] and units["qjp_changxi_sq"]["part"]["serial"]
        assert [u["unit"] for u in tree["units"] if u["unit"] == "qingjiangpu"][0]
        assert tree["counts"]["in_progress"] == 1

        # Each level sees its own subtree: the town sees its community, not the county's department.
        town_tree = (await api.get(f"/api/assignments/{town_task['id']}/tree", headers=h["qjp_changxi"])).json()
        assert [u["unit"] for u in walk(town_tree["units"])] == ["qjp_changxi_sq"]
        county_tree = (await api.get(f"/api/assignments/{county_task['id']}/tree", headers=sup["qingjiangpu"])).json()
        assert {u["unit"] for u in walk(county_tree["units"])} == {"qjp_fgj", "qjp_changxi", "qjp_changxi_sq"}

        # A level asks for completion only when its parts are finished.
        await api.post(f"/api/assignments/{town_task['id']}/feedback", headers=h["qjp_changxi"],
                       json={"kind": "result", "text": "街道配合完成。"})
        blocked = await api.post(f"/api/assignments/{town_task['id']}/request-completion", headers=chief["qjp_changxi"])
        assert blocked.status_code == 409 and "子任务" in blocked.json()["detail"], blocked.text
        await api.post(f"/api/assignments/{community_task['id']}/request-completion", headers=chief["qjp_changxi_sq"])

        async def sub_in_review():
            r = await api.get(f"/api/items/{sub_id}", headers=sup["qjp_changxi"])
            return r.json()["item"]["state"] == "completion_review" or None

        await eventually(sub_in_review, what="the town's part waiting for review")
        done = await api.post(f"/api/items/{sub_id}/complete", headers=sup["qjp_changxi"])
        assert done.status_code == 200, done.text
        ok = await api.post(f"/api/assignments/{town_task['id']}/request-completion", headers=chief["qjp_changxi"])
        assert ok.status_code == 200, ok.text

        # The county closes its department's share instead of waiting, then its part is finished too.
        fgj_task = await received(api, h["qjp_fgj"], "the department's assignment")
        await eventually(lambda: _state_at(api, part_id, sup["qingjiangpu"], "qjp_changxi", "completion_requested"),
                         what="the town's completion request at the county")
        county_blocked = await api.post(f"/api/assignments/{county_task['id']}/feedback", headers=h["qingjiangpu"],
                                        json={"kind": "result", "text": "区级汇总。"})
        assert county_blocked.status_code == 201
        refused = await api.post(f"/api/assignments/{county_task['id']}/request-completion",
                                 headers=chief["qingjiangpu"])
        assert refused.status_code == 409
        closed = await api.post(f"/api/items/{part_id}/close", headers=sup["qingjiangpu"],
                                json={"reason": "并入区级统一推进"})
        assert closed.status_code == 200 and closed.json()["state"] == "closed", closed.text

        async def fgj_closed():
            r = await api.get(f"/api/assignments/{fgj_task['id']}", headers=h["qjp_fgj"])
            return r.json()["assignment"]["state"] == "closed" or None

        await eventually(fgj_closed, what="the department told its share is closed")
        ok = await api.post(f"/api/assignments/{county_task['id']}/request-completion", headers=chief["qingjiangpu"])
        assert ok.status_code == 200, ok.text

        async def city_sees_all():
            tree = (await api.get(f"/api/items/{item_id}/tree", headers=inspector)).json()
            states = {u["unit"]: u["state"] for u in walk(tree["units"])}
            finished = (states.get("qjp_fgj") == "closed" and states.get("qjp_changxi_sq") == "done"
                        and states.get("qingjiangpu") == "completion_requested")
            return states if finished else None

        states = await eventually(city_sees_all, what="the closed and completed parts in the city's tree")
        assert states["qjp_changxi"] == "closed" and states["fgw"] == "issued"


async def _state_at(api, item_id, headers, unit, state):
    r = await api.get(f"/api/items/{item_id}", headers=headers)
    return any(a["unit"] == unit and a["state"] == state for a in r.json()["assignments"]) or None


async def test_a_forged_node_is_refused(settings):
    """A node about a unit outside the sender's subtree, or under work the sender was not given, is kept as
    rejected and shows nowhere."""
    from duban.events.envelope import NodeClock, TreeNodeReported  # noqa: PLC0415
    from duban.events.repository import OutboxRepository  # noqa: PLC0415

    async with network(settings) as api:
        inspector, approver = await login(api, "city", "inspector"), await login(api, "city", "approver")
        item_id = await registered_item(api, inspector, approver, units=[("qingjiangpu", "lead"), ("fgw", "co")])
        detail = (await api.post(f"/api/items/{item_id}/assign", headers=inspector)).json()
        fgw_assignment = next(a for a in detail["assignments"] if a["unit"] == "fgw")
        platform = api._transport.app.state.platform  # noqa: SLF001
        forged = TreeNodeReported(
            assignment_id="forged-1", parent_assignment_id=fgw_assignment["id"], part_ref="qingjiangpu/x",
            part_serial=None, part_title="伪造", assigner="qingjiangpu", unit="qjp_fgj", role="lead", state="done",
            deadline=TEST_NOW.date(), clocks=[NodeClock("completion", 1, TEST_NOW.date(), "met")], last_feedback=None,
            changed_at=TEST_NOW)
        async with platform.db.transaction("qingjiangpu") as session:
            await OutboxRepository(session, "qingjiangpu").add(
                kind="tree.node", to_tenant="city", item_ref=f"city/{item_id}", actor="qingjiangpu/handler",
                payload=forged)
        platform.committed("qingjiangpu")

        async def rejected():
            r = await api.get("/api/inbox?status=rejected", headers=inspector)
            return r.json() or None

        [row] = await eventually(rejected, what="the forged node kept as rejected")
        assert row["kind"] == "tree.node"
        tree = (await api.get(f"/api/items/{item_id}/tree", headers=inspector)).json()
        assert [u["unit"] for u in walk(tree["units"])] == ["qingjiangpu", "fgw"] or \
            sorted(u["unit"] for u in walk(tree["units"])) == ["fgw", "qingjiangpu"]
