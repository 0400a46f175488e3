"""Issue 6, acceptance: city → county → county department and town, with a co-unit; the town's result report
with an attachment travels back up through the county; the city's tree shows every level, the attachment's
bytes at the city match their hash, and the city's dossier holds the file."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from attachments.attachment_flow import bucket, keys, pdf, s3_client, sha256, upload
from helpers import TEST_NOW, eventually, login, registered_item
from tree.test_split_tree import network, received, walk

DUE = (TEST_NOW.date() + timedelta(days=20)).isoformat()


async def test_an_attachment_travels_up_three_levels_and_into_the_dossier(settings, s3_server):
    async with network(settings) as api:
        platform = api._transport.app.state.platform  # noqa: SLF001
        inspector, approver = await login(api, "city", "inspector"), await login(api, "city", "approver")
        h = {t: await login(api, t, "handler") for t in ("qingjiangpu", "qjp_fgj", "qjp_changxi")}
        chief = {t: await login(api, t, "chief") for t in ("qingjiangpu", "qjp_fgj", "qjp_changxi")}
        county_sup = await login(api, "qingjiangpu", "supervisor")

        item_id = await registered_item(api, inspector, approver, units=[("qingjiangpu", "lead")])
        await api.post(f"/api/items/{item_id}/assign", headers=inspector)
        county_task = await received(api, h["qingjiangpu"], "the county's assignment")
        await api.post(f"/api/assignments/{county_task['id']}/accept", headers=h["qingjiangpu"])
        part = await api.post(f"/api/assignments/{county_task['id']}/parts", headers=county_sup, json={
            "units": [{"unit": "qjp_changxi", "role": "lead"}, {"unit": "qjp_fgj", "role": "co"}], "deadline": DUE})
        assert part.status_code == 201, part.text
        part_id = part.json()["item"]["id"]

        # The town leads, the county department helps (its views go to the town), the town reports with a file.
        town = await received(api, h["qjp_changxi"], "the town's assignment")
        dept = await received(api, h["qjp_fgj"], "the department's assignment")
        for unit, task in (("qjp_changxi", town), ("qjp_fgj", dept)):
            assert (await api.post(f"/api/assignments/{task['id']}/accept", headers=h[unit])).status_code == 200
        views = await api.post(f"/api/assignments/{dept['id']}/co-views", headers=h["qjp_fgj"],
                               json={"text": "区发改局：项目已列入年度计划。"})
        assert views.status_code == 201, views.text

        async def views_at_town():
            return (await api.get(f"/api/assignments/{town['id']}/co-views", headers=h["qjp_changxi"])).json() or None

        await eventually(views_at_town, what="the department's views at the town")
        data = pdf(200_000, b"town-report")
        up = await upload(api, h["qjp_changxi"], "长西街道办理情况.pdf", data)
        assert up.status_code == 201, up.text
        r = await api.post(f"/api/assignments/{town['id']}/feedback", headers=h["qjp_changxi"], json={
            "kind": "result", "text": "街道已完成整治，照片及台账见附件。", "attachments": [up.json()["id"]]})
        assert r.status_code == 201, r.text

        # The city's tree shows every level, and the town's report with the attachment, copied up to the city.
        async def town_report_at_city():
            tree = (await api.get(f"/api/items/{item_id}/tree", headers=inspector)).json()
            units = {u["unit"]: u for u in walk(tree["units"])}
            report = (units.get("qjp_changxi") or {}).get("last_feedback")
            return (units, report) if report and report["attachments"] else None

        units, report = await eventually(town_report_at_city, what="the town's report with its file at the city")
        assert {u: (units[u]["level"], units[u]["state"]) for u in units} == {
            "qingjiangpu": (1, "accepted"), "qjp_changxi": (2, "in_progress"), "qjp_fgj": (2, "accepted")}
        [ref] = report["attachments"]
        assert ref["bucket"] == bucket(platform, "city") and ref["sha256"] == sha256(data)
        got = await api.get(f"/api/attachments/{ref['id']}", headers=inspector)
        assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == sha256(data)
        s3 = s3_client(s3_server)
        assert len([k for k in keys(s3, bucket(platform, "city")) if ref["sha256"] in k]) == 1
        # … and the county holds its own copy too (each level copies from the one below).
        assert len([k for k in keys(s3, bucket(platform, "qingjiangpu")) if ref["sha256"] in k]) == 1

        # Everyone finishes; the city completes and archives; the dossier holds the file and verifies.
        await api.post(f"/api/assignments/{dept['id']}/feedback", headers=h["qjp_fgj"],
                       json={"kind": "result", "text": "已配合完成。"})
        for unit, task in (("qjp_changxi", town), ("qjp_fgj", dept)):
            r = await api.post(f"/api/assignments/{task['id']}/request-completion", headers=chief[unit])
            assert r.status_code == 200, r.text

        async def part_in_review():
            r = await api.get(f"/api/items/{part_id}", headers=county_sup)
            return r.json()["item"]["state"] == "completion_review" or None

        await eventually(part_in_review, what="the county's part in review")
        assert (await api.post(f"/api/items/{part_id}/complete", headers=county_sup)).status_code == 200
        await api.post(f"/api/assignments/{county_task['id']}/feedback", headers=h["qingjiangpu"],
                       json={"kind": "result", "text": "区级汇总完成。"})
        r = await api.post(f"/api/assignments/{county_task['id']}/request-completion", headers=chief["qingjiangpu"])
        assert r.status_code == 200, r.text

        async def city_in_review():
            r = await api.get(f"/api/items/{item_id}", headers=inspector)
            return r.json()["item"]["state"] == "completion_review" or None

        await eventually(city_in_review, what="the city's item in review")
        assert (await api.post(f"/api/items/{item_id}/complete", headers=inspector)).status_code == 200
        archived = await api.post(f"/api/items/{item_id}/archive", headers=inspector)
        assert archived.status_code == 200, archived.text
        loc = archived.json()["archive"]
        files = keys(s3, loc["bucket"], loc["prefix"])
        assert any(k.endswith("长西街道办理情况.pdf") for k in files), files
        assert any(k.endswith("tree.json") for k in files) and any(k.endswith("co_views.json") for k in files)
        verify = (await api.get(f"/api/items/{item_id}/archive/verify", headers=inspector)).json()
        assert verify["ok"] is True, verify
