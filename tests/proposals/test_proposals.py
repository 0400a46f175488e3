"""建议提案 (第三条5; PRACTICE.md): registered at the city and assigned the normal way; 面商 and the reply
(A/B/C) at the unit, sent up; the proposer's rating entered by the registrar — 不满意 reopens the
assignment for a second reply within a month, sent down; 满意 closes without reopening. Over HTTP and
a real nats-server, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import msgspec

from duban.db.base import new_id
from duban.events.envelope import Envelope, ProposalReplied, subject_for
from duban.events.models import InboxEvent
from helpers import TEST_NOW, eventually, login, nats_connect, signed

SESSION = "市十七届人大五次会议"


def proposal(number: str = "0123", units: list[tuple[str, str]] | None = None, **more: object) -> dict:
    body = {
        "kind": "suggestion", "number": number, "proposer": "王某某等3名代表", "session": SESSION,
        "title": "关于加快城区老旧小区加装电梯的建议", "content": "建议加大财政补贴，简化审批流程。",
        "units": [{"unit": u, "role": r} for u, r in (units or [("qingjiangpu", "lead"), ("fgw", "co")])],
        "division": "督查二处", "issuing_leader": "vice_mayor_urban", "mode": "joint",
    }
    body.update(more)
    return body


# A reply is due 3 months after 交办: from the tests' moment (November 2026) that runs into 2027, whose
# holiday notice the platform must have before it counts working days there (invented for the tests).
NOTICE_2027 = {"year": 2027, "notice": "测试用 2027年部分节假日安排（非真实通知）",
               "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
                            {"name": "春节", "start": "2027-02-06", "end": "2027-02-12",
                             "makeup_workdays": ["2027-02-14", "2027-02-20"]}]}


async def assigned(client, body: dict) -> tuple[dict, dict]:
    """Register (registrar), submit and send (the group's member), approve (approver); returns the
    registration and the headers of the city's people."""
    r = await client.post("/api/calendar", json=NOTICE_2027, headers=await login(client, "city", "admin"))
    assert r.status_code == 200, r.text
    people = {name: await login(client, "city", name) for name in ("registrar", "member_group2", "approver",
                                                                    "inspector")}
    r = await client.post("/api/proposals", json=body, headers=people["registrar"])
    assert r.status_code == 201, r.text
    registered = r.json()
    item_id = registered["proposal"]["item_id"]
    assert (await client.post(f"/api/items/{item_id}/submit", headers=people["member_group2"])).status_code == 200
    assert (await client.post(f"/api/items/{item_id}/approve", headers=people["approver"])).status_code == 200
    r = await client.post(f"/api/items/{item_id}/assign", headers=people["member_group2"])
    assert r.status_code == 200, r.text
    return registered, people


async def received(client, headers: dict, proposal_id: str) -> dict:
    """The unit's copy of the proposal, once it has arrived."""
    async def arrived():
        r = await client.get(f"/api/proposals/{proposal_id}", headers=headers)
        return r.json() if r.status_code == 200 else None

    return await eventually(arrived, what="the proposal to reach the unit")


async def city_sees(client, headers: dict, proposal_id: str, check, what: str) -> dict:
    async def seen():
        d = (await client.get(f"/api/proposals/{proposal_id}", headers=headers)).json()
        return d if check(d) else None

    return await eventually(seen, what=what)


async def test_dissatisfied_reopens_the_assignment_and_gets_a_second_reply(client, platform):
    registered, city = await assigned(client, proposal())
    p = registered["proposal"]
    assert (p["kind_label"], p["mode_label"], p["state"]) == ("人大代表建议", "会办", "registered")
    assert [u["unit"] for u in p["units"]] == ["qingjiangpu", "fgw"]
    item = (await client.get(f"/api/items/{p['item_id']}", headers=city["inspector"])).json()
    assert item["item"]["source_kind"] == "suggestion_proposal" and item["item"]["group"] == "group2"
    assert item["item"]["source"]["number"] == "0123" and item["item"]["source"]["proposal_id"] == p["id"]
    assert item["item"]["created_by"] == "city/registrar"

    handler, chief = await login(client, "qingjiangpu", "handler"), await login(client, "qingjiangpu", "chief")
    mine = await received(client, handler, p["id"])
    assert (mine["proposal"]["number"], mine["proposal"]["proposer"], mine["proposal"]["state"]) == (
        "0123", "王某某等3名代表", "assigned")
    assignment_id = mine["proposal"]["assignment_id"]
    a = (await client.get(f"/api/assignments/{assignment_id}", headers=handler)).json()["assignment"]
    assert a["source_kind"] == "suggestion_proposal"
    [feedback_clock] = [c for c in a["clocks"] if c["kind"] == "feedback"]
    assert feedback_clock["due"] == "2027-02-02", "a reply within 3 months of 交办"

    # 会办: the co-unit sends its views to the lead; it does not answer the deputy itself.
    co = await login(client, "fgw", "handler")
    co_copy = await received(client, co, p["id"])
    assert co_copy["proposal"]["mode"] == "joint"
    r = await client.post(f"/api/proposals/{p['id']}/replies", headers=co,
                          json={"reply_class": "A", "text": "已解决。", "signed_by": "某局长"})
    assert r.status_code == 409 and "主办单位" in r.json()["detail"]

    # 签收, 面商 and the first reply at the lead unit.
    reply = {"reply_class": "B", "text": "已列入明年计划，逐步推进。", "signed_by": "清江浦区区长",
             "contact": "李某", "phone": "0517-83600000"}
    r = await client.post(f"/api/proposals/{p['id']}/replies", headers=handler, json=reply)
    assert r.status_code == 409, "an assignment not yet signed for takes no reply"
    assert (await client.post(f"/api/assignments/{assignment_id}/accept", headers=handler)).status_code == 200
    talk = {"on": (TEST_NOW.date() - timedelta(days=1)).isoformat(), "form": "visit",
            "people": ["王某某", "李某"], "content": "上门听取代表意见，介绍初步办理方案。"}
    r = await client.post(f"/api/proposals/{p['id']}/consultations", headers=handler, json=talk)
    assert r.status_code == 201 and r.json()["form_label"] == "走访", r.text
    r = await client.post(f"/api/proposals/{p['id']}/replies", headers=handler, json=reply)
    assert r.status_code == 201, r.text
    assert (r.json()["round"], r.json()["class_label"]) == (1, "正在解决或列入计划逐步解决")
    r = await client.post(f"/api/proposals/{p['id']}/replies", headers=handler, json=reply)
    assert r.status_code == 409 and "尚待" in r.json()["detail"], "one reply waits for its rating"
    assert (await client.post(f"/api/assignments/{assignment_id}/request-completion", headers=chief,
                              json={"note": "已答复代表"})).status_code == 200

    # The city gets the 面商 and the reply; the item cannot complete until the deputy is satisfied.
    d = await city_sees(client, city["registrar"], p["id"], lambda d: d["proposal"]["state"] == "replied",
                        "the reply to reach the city")
    assert [c["people"] for c in d["consultations"]] == [["王某某", "李某"]]
    assert [(x["unit"], x["round"], x["reply_class"], x["replied_by"]) for x in d["replies"]] == [
        ("qingjiangpu", 1, "B", "qingjiangpu/handler")]
    fgw_a = (await client.get("/api/assignments", headers=co)).json()[0]["id"]
    assert (await client.post(f"/api/assignments/{fgw_a}/accept", headers=co)).status_code == 200
    r = await client.post(f"/api/assignments/{fgw_a}/feedback", headers=co, json={"text": "协办意见已送主办单位。"})
    assert r.status_code == 201
    fgw_chief = await login(client, "fgw", "chief")
    assert (await client.post(f"/api/assignments/{fgw_a}/request-completion", headers=fgw_chief)).status_code == 200

    async def review():
        i = (await client.get(f"/api/items/{p['item_id']}", headers=city["inspector"])).json()
        return i if i["item"]["state"] == "completion_review" else None

    await eventually(review, what="both units' completion requests at the city")
    r = await client.post(f"/api/items/{p['item_id']}/complete", headers=city["inspector"])
    assert r.status_code == 409 and "满意" in r.json()["detail"]

    # 不满意: the lead's assignment reopens with a second reply due in a month, at the city and the unit.
    assert (await client.post(f"/api/proposals/{p['id']}/satisfaction", headers=handler,
                              json={"rating": "dissatisfied"})).status_code == 403
    r = await client.post(f"/api/proposals/{p['id']}/satisfaction", headers=city["registrar"],
                          json={"rating": "dissatisfied", "note": "补贴标准未明确"})
    assert r.status_code == 200, r.text
    second_due = "2026-12-02"  # PRACTICE.md: a second reply within 1 month (the registry's default)
    assert (r.json()["rating_label"], r.json()["next_due"]) == ("不满意", second_due)
    d = (await client.get(f"/api/proposals/{p['id']}", headers=city["registrar"])).json()
    assert (d["proposal"]["state"], d["proposal"]["round"]) == ("reopened", 2)
    i = (await client.get(f"/api/items/{p['item_id']}", headers=city["inspector"])).json()
    assert i["item"]["state"] == "in_progress"
    lead = next(x for x in i["assignments"] if x["unit"] == "qingjiangpu")
    assert lead["state"] == "returned" and "补贴标准未明确" in lead["note"]
    open_feedback = [c for c in lead["clocks"] if c["kind"] == "feedback" and c["state"] == "open"]
    assert [(c["seq"], c["due"]) for c in open_feedback] == [(2, second_due)]

    async def reopened_here():
        x = (await client.get(f"/api/assignments/{assignment_id}", headers=handler)).json()["assignment"]
        return x if x["state"] == "returned" else None

    here = await eventually(reopened_here, what="the reopening to reach the unit")
    assert [(c["id"], c["seq"], c["due"]) for c in here["clocks"] if c["kind"] == "feedback" and c["state"] == "open"
            ] == [(c["id"], 2, second_due) for c in open_feedback], "the unit keeps the city's clocks"
    mine = (await client.get(f"/api/proposals/{p['id']}", headers=handler)).json()
    assert mine["proposal"]["state"] == "reopened" and mine["replies"][0]["rating"] == "dissatisfied"

    # The second reply, and 满意 this time: the item can complete.
    second = {**reply, "reply_class": "A", "text": "补贴标准已出台，首批电梯已开工。"}
    r = await client.post(f"/api/proposals/{p['id']}/replies", headers=handler, json=second)
    assert r.status_code == 201 and r.json()["round"] == 2, r.text
    assert (await client.post(f"/api/assignments/{assignment_id}/request-completion", headers=chief)).status_code == 200
    await city_sees(client, city["registrar"], p["id"], lambda d: len(d["replies"]) == 2, "the second reply")
    r = await client.post(f"/api/proposals/{p['id']}/satisfaction", headers=city["registrar"],
                          json={"rating": "satisfied"})
    assert r.status_code == 200 and r.json()["round"] == 2, r.text
    d = (await client.get(f"/api/proposals/{p['id']}", headers=city["registrar"])).json()
    assert d["proposal"]["state"] == "closed"
    await eventually(review, what="the second completion request at the city")
    assert (await client.post(f"/api/items/{p['item_id']}/complete", headers=city["inspector"])).status_code == 200

    # Every step is in the history, attributed.
    steps = [(h["action"], h["actor"]) for h in d["history"]]
    for step in [("register_proposal", "city/registrar"), ("assign", "city/member_group2"),
                 ("consult", "qingjiangpu/handler"), ("reply", "qingjiangpu/handler"),
                 ("rate", "city/registrar"), ("reopen", "city/registrar")]:
        assert step in steps, step
    assert [a for a, _ in steps].count("reply") == 2 and [a for a, _ in steps].count("rate") == 2
    async def unit_history():
        h = (await client.get(f"/api/proposals/{p['id']}", headers=handler)).json()["history"]
        return h if [x["action"] for x in h].count("rate") == 2 else None

    here = [(h["action"], h["actor"]) for h in await eventually(unit_history, what="the rating at the unit")]
    assert ("receive_proposal", "city/member_group2") in here and ("reopen", "city/registrar") in here
    mine = (await client.get(f"/api/proposals/{p['id']}", headers=handler)).json()
    assert mine["proposal"]["state"] == "closed"


async def test_satisfied_closes_without_reopening(client):
    body = proposal("0456", [("qingjiangpu", "lead"), ("huaian", "co")], mode="separate", kind="proposal",
                    session="市政协九届五次会议", proposer="张某某委员", issuing_leader=None, group="group2")
    registered, city = await assigned(client, body)
    p = registered["proposal"]
    assert p["kind_label"] == "政协委员提案" and p["mode_label"] == "分办"
    units = {code: await login(client, code, "handler") for code in ("qingjiangpu", "huaian")}
    for code, headers in units.items():  # 分办: each unit replies on its own
        copy = await received(client, headers, p["id"])
        aid = copy["proposal"]["assignment_id"]
        assert (await client.post(f"/api/assignments/{aid}/accept", headers=headers)).status_code == 200
        r = await client.post(f"/api/proposals/{p['id']}/replies", headers=headers,
                              json={"reply_class": "A", "text": f"{code} 已解决。", "signed_by": "主要负责人"})
        assert r.status_code == 201, r.text
    await city_sees(client, city["registrar"], p["id"], lambda d: len(d["replies"]) == 2, "both replies")

    r = await client.post(f"/api/proposals/{p['id']}/satisfaction", headers=city["registrar"],
                          json={"rating": "satisfied"})
    assert r.status_code == 400 and "哪个单位" in r.json()["detail"], "分办: say whose reply"
    r = await client.post(f"/api/proposals/{p['id']}/satisfaction", headers=city["registrar"],
                          json={"rating": "satisfied", "unit": "fgw"})
    assert r.status_code == 400
    r = await client.post(f"/api/proposals/{p['id']}/satisfaction", headers=city["registrar"],
                          json={"rating": "satisfied", "unit": "qingjiangpu"})
    assert r.status_code == 200 and r.json()["next_due"] is None
    d = (await client.get(f"/api/proposals/{p['id']}", headers=city["registrar"])).json()
    assert d["proposal"]["state"] == "replied", "huaian's reply still waits for its rating"
    r = await client.post(f"/api/proposals/{p['id']}/satisfaction", headers=city["registrar"],
                          json={"rating": "satisfied", "unit": "qingjiangpu"})
    assert r.status_code == 409, "a reply is rated once"
    r = await client.post(f"/api/proposals/{p['id']}/satisfaction", headers=city["registrar"],
                          json={"rating": "basically_satisfied", "unit": "huaian"})
    assert r.status_code == 200
    d = (await client.get(f"/api/proposals/{p['id']}", headers=city["registrar"])).json()
    assert (d["proposal"]["state"], d["proposal"]["round"]) == ("closed", 1)
    assert "reopen" not in [h["action"] for h in d["history"]]

    # Nothing reopened: the assignments stay where the units put them, with no new clock.
    i = (await client.get(f"/api/items/{p['item_id']}", headers=city["inspector"])).json()
    assert {a["state"] for a in i["assignments"]} == {"in_progress"}
    assert all(c["seq"] == 1 for a in i["assignments"] for c in a["clocks"] if c["kind"] == "feedback")
    for code, headers in units.items():
        async def rated(headers=headers):
            d = (await client.get(f"/api/proposals/{p['id']}", headers=headers)).json()
            return d if d["proposal"]["state"] == "closed" else None

        mine = await eventually(rated, what=f"the rating to reach {code}")
        assert mine["replies"][0]["rating"] in ("satisfied", "basically_satisfied")
        assert "reopen" not in [h["action"] for h in mine["history"]]
        r = await client.post(f"/api/proposals/{p['id']}/replies", headers=headers,
                              json={"reply_class": "A", "text": "再次答复", "signed_by": "主要负责人"})
        assert r.status_code == 409, "a satisfied proposer needs no second reply"
        x = (await client.get(f"/api/assignments/{mine['proposal']['assignment_id']}", headers=headers)).json()
        assert x["assignment"]["state"] == "in_progress"


async def test_registration_rules_and_permissions(client):
    registrar = await login(client, "city", "registrar")
    inspector = await login(client, "city", "inspector")
    assert (await client.post("/api/proposals", json=proposal(), headers=inspector)).status_code == 403
    r = await client.post("/api/proposals", json=proposal(), headers=registrar)
    assert r.status_code == 201, r.text
    item = (await client.get(f"/api/items/{r.json()['proposal']['item_id']}", headers=inspector)).json()["item"]
    deadline = date.fromisoformat(item["deadline"])
    assert deadline == date(2027, 2, 2), "办结时限 by default 3 months on"
    r = await client.post("/api/proposals", json=proposal(), headers=registrar)
    assert r.status_code == 409 and "已登记" in r.json()["detail"]
    r = await client.post("/api/proposals", json=proposal("0999", units=[("nowhere", "lead")]), headers=registrar)
    assert r.status_code == 400
    assert len((await client.get("/api/proposals", headers=registrar)).json()) == 1
    p = (await client.get("/api/proposals", headers=registrar)).json()[0]
    # Not yet assigned: nothing to rate; the city replies to nobody.
    r = await client.post(f"/api/proposals/{p['id']}/satisfaction", headers=registrar, json={"rating": "satisfied"})
    assert r.status_code == 409
    handler = await login(client, "qingjiangpu", "handler")
    assert (await client.get(f"/api/proposals/{p['id']}", headers=handler)).status_code == 404
    assert (await client.post(f"/api/proposals/{p['id']}/replies", headers=registrar,
                              json={"reply_class": "A", "text": "x", "signed_by": "y"})).status_code == 403


async def test_a_co_units_reply_under_joint_handling_is_refused_at_the_city(client, platform, settings):
    # A reply event the API would never send (会办: only the lead answers) — forged and published on the
    # bus as the co-unit: the city keeps it as rejected and records nothing.
    registered, city = await assigned(client, proposal("0789"))
    p = registered["proposal"]
    co = await login(client, "fgw", "handler")
    copy = await received(client, co, p["id"])
    forged = ProposalReplied(new_id(), p["id"], copy["proposal"]["assignment_id"], 1, "A", "已解决。", "某局长", "",
                             "", "fgw/handler", TEST_NOW)
    envelope = Envelope(id=new_id(), kind="proposal.replied", from_tenant="fgw", to_tenant="city",
                        item_ref=p["item_ref"], seq=1, occurred_at=TEST_NOW, actor="fgw/handler",
                        payload=msgspec.to_builtins(forged))
    # Signed with fgw's own key, as fgw's node would: it passes the signature check and meets the policy.
    nc = await nats_connect(settings)
    try:
        await nc.jetstream().publish(subject_for("city", "fgw", envelope.kind), signed(platform, envelope),
                                     headers={"Nats-Msg-Id": envelope.id})
    finally:
        await nc.close()

    async def kept():
        async with platform.db.transaction("city") as session:
            row = await session.get(InboxEvent, envelope.id)
            return row if row is not None and row.status != "parked" else None

    row = await eventually(kept, what="the forged reply to reach the city's inbox")
    assert row.status == "rejected" and "the lead replies" in row.reason
    d = (await client.get(f"/api/proposals/{p['id']}", headers=city["registrar"])).json()
    assert d["replies"] == [] and d["proposal"]["state"] == "assigned"
