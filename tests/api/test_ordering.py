"""Events are applied in order per (item, sender), whatever order the network delivers them in; a state
conflict is kept for the operator and can be replayed; a gap is shown and can be skipped; the sender's
numbering holds across restarts and every kind of event."""

from __future__ import annotations

import logging
import random
import subprocess
from datetime import timedelta

import msgspec
from sqlalchemy import select

from duban.db.base import new_id, utcnow
from duban.events.envelope import (
    AssignmentAccepted,
    CompletionRequested,
    Envelope,
    FeedbackSubmitted,
    subject_for,
)
from duban.events.models import InboxEvent, InboxStream, OutboxEvent
from duban.platform import Platform
from helpers import eventually, login, nats_connect, registered_item, run_duban, signed

COUNTY = "qingjiangpu"


async def _assigned(client, inspector, approver) -> tuple[str, str]:
    """An item assigned to the county; returns (item id, assignment id)."""
    item_id = await registered_item(client, inspector, approver)
    r = await client.post(f"/api/items/{item_id}/assign", headers=inspector)
    assert r.status_code == 200, r.text
    return item_id, r.json()["assignments"][0]["id"]


def _county_events(item_id: str, assignment_id: str) -> list[Envelope]:
    """What the county sends back about one assignment, numbered 1…4 as its outbox would."""
    now = utcnow()
    payloads = [
        ("assignment.accepted", AssignmentAccepted(assignment_id, now, f"{COUNTY}/handler")),
        ("feedback.submitted", FeedbackSubmitted(assignment_id, new_id(), "progress", "征地完成过半。",
                                                 f"{COUNTY}/handler", now + timedelta(seconds=1))),
        ("feedback.submitted", FeedbackSubmitted(assignment_id, new_id(), "result", "配套道路已通车。",
                                                 f"{COUNTY}/handler", now + timedelta(seconds=2))),
        ("assignment.completion_requested", CompletionRequested(assignment_id, "申请办结")),
    ]
    return [
        Envelope(id=new_id(), kind=kind, from_tenant=COUNTY, to_tenant="city", item_ref=f"city/{item_id}", seq=n,
                 occurred_at=now, actor=f"{COUNTY}/handler", payload=msgspec.to_builtins(payload))
        for n, (kind, payload) in enumerate(payloads, start=1)
    ]


async def _publish(platform: Platform, envelopes: list[Envelope]) -> None:
    nc = await nats_connect(platform.settings)
    try:
        js = nc.jetstream()
        for envelope in envelopes:
            # A fresh message id each time, so a repeated envelope really is delivered twice.
            await js.publish(subject_for(envelope.to_tenant, envelope.from_tenant, envelope.kind),
                             signed(platform, envelope),
                             headers={"Nats-Msg-Id": new_id()})
    finally:
        await nc.close()


async def _snapshot(client, inspector, item_id: str) -> dict:
    """What the city knows of an item, without ids and times."""
    detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
    return {
        "item": detail["item"]["state"],
        "assignments": [a["state"] for a in detail["assignments"]],
        "feedback": [(f["kind"], f["text"]) for f in detail["feedback"]],
        "history": [(h["action"], h["from_state"], h["to_state"]) for h in detail["history"]],
    }


async def _inbox(platform: Platform, item_id: str) -> list[InboxEvent]:
    async with platform.db.transaction("city") as session:
        return list(await session.scalars(select(InboxEvent).where(InboxEvent.item_ref == f"city/{item_id}")))


async def test_any_delivery_order_ends_like_the_ordered_one(client, platform, settings):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    rng = random.Random(20071145)
    orders = [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2, 3, 0]]  # the last one repeats two events
    orders += [rng.sample(range(4), 4) for _ in range(3)]
    snapshots = []
    for order in orders:
        item_id, assignment_id = await _assigned(client, inspector, approver)
        events = _county_events(item_id, assignment_id)
        await _publish(platform, [events[i] for i in order])

        async def settled(item_id=item_id, repeats=len(order) - 4):
            rows = await _inbox(platform, item_id)
            return len(rows) == 4 and sum(r.duplicates for r in rows) == repeats and rows

        rows = await eventually(settled, what=f"the events of order {order} to settle")
        assert {r.status for r in rows} == {"applied"}, [(r.seq, r.status, r.reason) for r in rows]
        assert all(r.applied_at for r in rows)
        # Those that came ahead of an earlier one waited (parked) and were applied when it came.
        first_seen, early = set(), set()
        for i in order:
            if i in first_seen:
                continue
            if any(j < i and j not in first_seen for j in range(4)):
                early.add(i + 1)
            first_seen.add(i)
        assert {r.seq for r in rows if r.parked_at} == early, order
        snapshots.append(await _snapshot(client, inspector, item_id))

    assert snapshots[0]["item"] == "completion_review"
    assert snapshots[0]["assignments"] == ["completion_requested"]
    assert snapshots[0]["feedback"] == [("progress", "征地完成过半。"), ("result", "配套道路已通车。")]
    for order, snapshot in zip(orders[1:], snapshots[1:], strict=True):
        assert snapshot == snapshots[0], f"delivery order {order} ended differently"
    rejected = (await client.get("/api/inbox", params={"status": "rejected"}, headers=inspector)).json()
    assert rejected == []


async def test_a_conflict_is_shown_and_replayed_once_its_cause_is_fixed(client, platform, settings, caplog):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    supervisor = await login(client, "city", "supervisor")
    handler = await login(client, COUNTY, "handler")
    item_id, assignment_id = await _assigned(client, inspector, approver)
    accepted, progress, result, completion = _county_events(item_id, assignment_id)
    # A sender that numbered its completion request first (a bug on its side): in order by number,
    # but the city's copy is still "issued" and cannot take it.
    wrong = [msgspec.structs.replace(completion, seq=1), msgspec.structs.replace(accepted, seq=2),
             msgspec.structs.replace(progress, seq=3)]
    caplog.set_level(logging.WARNING, logger="duban.events")
    assert await platform.consumer.receive("city", signed(platform, wrong[0])) == "conflict"
    assert "conflict at city" in caplog.text

    [shown] = (await client.get("/api/inbox", params={"status": "conflict"}, headers=supervisor)).json()
    assert shown["id"] == completion.id and shown["seq"] == 1
    assert "办结" in shown["reason"] and "issued" in shown["reason"]
    assert (await client.get("/api/inbox/summary", headers=supervisor)).json()["conflict"] == 1
    # A conflict is not a gap: the stream went on, later events apply.
    assert await platform.consumer.receive("city", signed(platform, wrong[1])) == "applied"
    assert (await client.get("/api/inbox/gaps", headers=supervisor)).json() == []

    # Replaying before the cause is fixed still fails, says why, and changes nothing.
    r = await client.post(f"/api/inbox/{completion.id}/replay", headers=supervisor)
    assert r.status_code == 409 and "accepted" in r.json()["detail"]
    # Only an operator role may replay.
    assert (await client.post(f"/api/inbox/{completion.id}/replay", headers=handler)).status_code == 403
    chief = await login(client, "city", "chief")
    assert (await client.post(f"/api/inbox/{completion.id}/replay", headers=chief)).status_code == 403

    # The cause is fixed: the feedback the completion request needs has arrived.
    assert await platform.consumer.receive("city", signed(platform, wrong[2])) == "applied"
    r = await client.post(f"/api/inbox/{completion.id}/replay", headers=supervisor)
    assert r.status_code == 200, r.text
    replayed = r.json()
    assert replayed["status"] == "applied" and replayed["resolved_by"] == "city/supervisor"
    detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
    assert detail["item"]["state"] == "completion_review"
    assert detail["assignments"][0]["state"] == "completion_requested"
    # Replaying again is refused: it is no longer a conflict.
    assert (await client.post(f"/api/inbox/{completion.id}/replay", headers=supervisor)).status_code == 409


async def test_a_conflict_can_be_skipped_with_a_reason(client, platform):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    item_id, assignment_id = await _assigned(client, inspector, approver)
    completion = msgspec.structs.replace(_county_events(item_id, assignment_id)[3], seq=1)
    assert await platform.consumer.receive("city", signed(platform, completion)) == "conflict"
    r = await client.post(f"/api/inbox/{completion.id}/skip", json={"reason": ""}, headers=inspector)
    assert r.status_code == 400
    r = await client.post(f"/api/inbox/{completion.id}/skip", json={"reason": "与清江浦区核实，重复申请"},
                          headers=inspector)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "skipped" and r.json()["resolved_by"] == "city/inspector"
    assert "重复申请" in r.json()["reason"]
    detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
    assert detail["assignments"][0]["state"] == "issued"


async def test_a_gap_is_shown_raised_and_can_be_skipped(client, platform, caplog):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    item_id, assignment_id = await _assigned(client, inspector, approver)
    accepted, progress, _, _ = _county_events(item_id, assignment_id)
    # seq 1 never comes; the acceptance is seq 2 and the progress report seq 3.
    late = [msgspec.structs.replace(accepted, seq=2), msgspec.structs.replace(progress, seq=3)]
    assert [await platform.consumer.receive("city", signed(platform, e)) for e in late] == ["parked", "parked"]

    [gap] = (await client.get("/api/inbox/gaps", headers=inspector)).json()
    assert gap["item_ref"] == f"city/{item_id}" and gap["from_tenant"] == COUNTY
    assert gap["last_applied"] == 0 and gap["missing"] == [1] and gap["parked"] == [late[0].id, late[1].id]
    assert gap["overdue"] is False
    # Past the alert setting the watch raises it, once.
    platform.inbox.gap_alert = timedelta(0)
    caplog.set_level(logging.ERROR, logger="duban.events")
    await platform.consumer._raise_overdue("city")
    await platform.consumer._raise_overdue("city")
    raised = [r for r in caplog.records if "waiting since" in r.getMessage()]
    assert len(raised) == 1 and "[1]" in raised[0].getMessage()

    r = await client.post(f"/api/inbox/{late[0].id}/skip", json={"reason": "清江浦区确认1号事件已作废"},
                          headers=inspector)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "applied"
    rows = {row.seq: row for row in await _inbox(platform, item_id)}
    assert rows[3].status == "applied"
    assert (await client.get("/api/inbox/gaps", headers=inspector)).json() == []
    detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
    assert detail["assignments"][0]["state"] == "in_progress"
    # The event that finally arrives late is a duplicate of a skipped number: no effect.
    missing = msgspec.structs.replace(accepted, id=new_id(), seq=1)
    assert await platform.consumer.receive("city", signed(platform, missing)) == "duplicate"


async def test_sender_numbers_each_item_per_receiver_across_kinds_and_restarts(client, platform, settings):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    item_id = await registered_item(client, inspector, approver, units=[(COUNTY, "lead"), ("huaian", "co")])
    assert (await client.post(f"/api/items/{item_id}/assign", headers=inspector)).status_code == 200
    for tenant in (COUNTY, "huaian"):
        handler = await login(client, tenant, "handler")

        async def arrived(handler=handler):
            return (await client.get("/api/assignments", headers=handler)).json()

        [task] = await eventually(arrived, what=f"the assignment at {tenant}")
        assert (await client.post(f"/api/assignments/{task['id']}/accept", headers=handler)).status_code == 200
        r = await client.post(f"/api/assignments/{task['id']}/feedback", json={"text": "已完成", "kind": "result"},
                              headers=handler)
        assert r.status_code == 201, r.text

    async def mirrored():
        detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
        return all(a["state"] == "in_progress" for a in detail["assignments"])

    await eventually(mirrored, what="both units' feedback at the city")
    r = await client.post(f"/api/items/{item_id}/return", json={"unit": COUNTY, "reason": "数据不全"},
                          headers=inspector)
    assert r.status_code == 200, r.text

    # The node restarts: numbering goes on from where it was.
    await platform.stop()
    await platform.start()
    handler = await login(client, COUNTY, "handler")
    [task] = (await client.get("/api/assignments", headers=handler)).json()

    async def returned():
        return (await client.get(f"/api/assignments/{task['id']}", headers=handler)).json()["assignment"]["state"] \
            == "returned"

    await eventually(returned, what="the return at the county")
    r = await client.post(f"/api/assignments/{task['id']}/feedback", json={"text": "已补全", "kind": "result"},
                          headers=handler)
    assert r.status_code == 201, r.text

    async with platform.db.transaction("city") as session:
        sent = list(await session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at)))
    async with platform.db.transaction(COUNTY) as session:
        sent_up = list(await session.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at)))
    ref = f"city/{item_id}"
    to_county = [(e.kind, e.seq) for e in sent if e.item_ref == ref and e.to_tenant == COUNTY]
    to_huaian = [(e.kind, e.seq) for e in sent if e.item_ref == ref and e.to_tenant == "huaian"]
    assert to_county == [("assignment.issued", 1), ("assignment.returned", 2)]
    assert to_huaian == [("assignment.issued", 1)]
    assert [(e.kind, e.seq) for e in sent_up if e.item_ref == ref] == [
        ("assignment.accepted", 1), ("feedback.submitted", 2), ("feedback.submitted", 3)]
    # Every body carries the same number as its row.
    for e in sent + sent_up:
        assert msgspec.json.decode(e.body.encode(), type=Envelope).seq == e.seq

    async def caught_up():
        async with platform.db.transaction("city") as session:
            stream = await session.get(InboxStream, (ref, COUNTY))
            return stream is not None and stream.last_seq == 3

    await eventually(caught_up, what="the city to take all three county events")


async def test_the_operator_replays_from_the_command_line(client, platform, settings):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    item_id, assignment_id = await _assigned(client, inspector, approver)
    accepted, progress, result, completion = _county_events(item_id, assignment_id)
    completion = msgspec.structs.replace(completion, seq=1)
    assert await platform.consumer.receive("city", signed(platform, completion)) == "conflict"
    parked = msgspec.structs.replace(result, seq=4)
    assert await platform.consumer.receive("city", signed(platform, parked)) == "parked"

    async def duban(*args: str) -> subprocess.CompletedProcess:
        return await run_duban(settings, "inbox", *args)

    listed = await duban("list", "city", "--status", "conflict")
    assert listed.returncode == 0 and completion.id in listed.stdout and "不能申请办结" in listed.stdout
    gaps = await duban("gaps", "city")
    assert gaps.returncode == 0 and "missing [2, 3]" in gaps.stdout and parked.id in gaps.stdout, gaps.stdout
    refused = await duban("replay", "city", completion.id)
    assert refused.returncode == 2 and "replay did not apply" in refused.stderr

    for event in (msgspec.structs.replace(accepted, seq=2), msgspec.structs.replace(progress, seq=3)):
        assert await platform.consumer.receive("city", signed(platform, event)) == "applied"
    replayed = await duban("replay", "city", completion.id)
    assert replayed.returncode == 0 and "replayed: applied" in replayed.stdout, replayed.stderr
    async with platform.db.transaction("city") as session:
        row = await session.get(InboxEvent, completion.id)
        waiting = await session.get(InboxEvent, parked.id)
    assert row.status == "applied" and row.resolved_by.startswith("cli:")
    assert waiting.status == "applied"  # taken the moment seq 3 arrived
    assert "0 gaps" in (await duban("gaps", "city")).stdout
