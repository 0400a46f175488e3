"""The forgeries of issue 7, replayed: events that claim a sender tenant whose key did not sign them are
refused before anything else is believed of them, kept as rejected with the reason, never applied,
and never move their item's stream forward (the real event with the same number still applies)."""

from __future__ import annotations

import base64
from datetime import timedelta

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from duban.db.base import new_id, utcnow
from duban.events.envelope import (
    AssignmentAccepted,
    AssignmentCompleted,
    AssignmentIssued,
    CompletionRequested,
    Envelope,
    FeedbackSubmitted,
    encode,
    subject_for,
)
from duban.events.keys import canonical, key_id
from duban.events.models import InboxEvent
from helpers import eventually, login, nats_connect, registered_item, signed

CITY, COUNTY, OTHER = "city", "qingjiangpu", "huaian"


def _envelope(kind: str, sender: str, to: str, item_ref: str, seq: int, payload: msgspec.Struct) -> Envelope:
    return Envelope(id=new_id(), kind=kind, from_tenant=sender, to_tenant=to, item_ref=item_ref, seq=seq,
                    occurred_at=utcnow(), actor=f"{sender}/handler", payload=msgspec.to_builtins(payload))


def _signed_with(envelope: Envelope, key: Ed25519PrivateKey, kid: str) -> bytes:
    """Signed by a key that is not the claimed sender's (an attacker's, or another tenant's)."""
    unsigned = msgspec.structs.replace(envelope, key_id=kid, sig="")
    return encode(msgspec.structs.replace(unsigned, sig=base64.b64encode(key.sign(canonical(unsigned))).decode()))


def _private_key(platform, tenant: str) -> tuple[Ed25519PrivateKey, str]:
    """A tenant's real key on the test node (what an attacker who took that county's node holds)."""
    kid, key = platform.keys._signer(tenant)
    return key, kid


async def _row(platform, tenant: str, event_id: str) -> InboxEvent | None:
    async with platform.db.transaction(tenant) as session:
        return await session.get(InboxEvent, event_id)


async def _rejected(platform, tenant: str) -> list[InboxEvent]:
    async with platform.db.transaction(tenant) as session:
        return list(await session.scalars(select(InboxEvent).where(InboxEvent.status == "rejected")))


async def test_feedback_and_completion_request_from_one_county_for_anothers_assignment(client, platform):
    inspector = await login(client, CITY, "inspector")
    approver = await login(client, CITY, "approver")
    handler = await login(client, COUNTY, "handler")
    item_id = await registered_item(client, inspector, approver, units=[(COUNTY, "lead"), (OTHER, "co")])
    r = await client.post(f"/api/items/{item_id}/assign", headers=inspector)
    theirs = next(a["id"] for a in r.json()["assignments"] if a["unit"] == COUNTY)
    item_ref = f"{CITY}/{item_id}"
    other_key, other_kid = _private_key(platform, OTHER)

    # huaian, holding its own key, writes as qingjiangpu: under qingjiangpu's key id, or its own.
    feedback = _envelope("feedback.submitted", COUNTY, CITY, item_ref, 1, FeedbackSubmitted(
        theirs, new_id(), "result", "伪造的反馈", f"{COUNTY}/handler", utcnow()))
    completion = _envelope("assignment.completion_requested", COUNTY, CITY, item_ref, 2,
                           CompletionRequested(theirs, "伪造的办结申请"))
    county_kid = next(iter(platform.keys.public_keys(COUNTY)))
    assert await platform.consumer.receive(CITY, _signed_with(feedback, other_key, county_kid)) == "rejected"
    assert await platform.consumer.receive(CITY, _signed_with(completion, other_key, other_kid)) == "rejected"
    # Unsigned, as the attack sent them.
    unsigned = msgspec.structs.replace(completion, id=new_id())
    assert await platform.consumer.receive(CITY, encode(unsigned)) == "rejected"
    # And in its own name, properly signed: its key is fine but it has no standing for that assignment.
    own = msgspec.structs.replace(feedback, id=new_id(), from_tenant=OTHER, actor=f"{OTHER}/handler")
    assert await platform.consumer.receive(CITY, signed(platform, own)) == "rejected"

    reasons = {r.id: r.reason for r in await _rejected(platform, CITY)}
    assert reasons[feedback.id] == f"bad signature: not signed by {COUNTY} (key {county_kid})"
    assert reasons[completion.id] == f"bad signature: key {other_kid} is not a key of {COUNTY}"
    assert reasons[unsigned.id] == f"unsigned: no signature of {COUNTY}"
    assert own.id in reasons

    detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
    assert detail["item"]["state"] == "assigned" and detail["feedback"] == []
    assert {a["state"] for a in detail["assignments"]} == {"issued"}
    # The operator sees them, with the reason.
    shown = (await client.get("/api/inbox", params={"status": "rejected"}, headers=inspector)).json()
    assert {r["id"] for r in shown} == set(reasons)

    # The real county's events, numbered 1 and 2 as the forgeries were, still apply.
    async def queue():
        return (await client.get("/api/assignments", headers=handler)).json()

    await eventually(queue, what="the assignment at the county")
    assert (await client.post(f"/api/assignments/{theirs}/accept", headers=handler)).status_code == 200
    await client.post(f"/api/assignments/{theirs}/feedback", json={"text": "真实反馈"}, headers=handler)

    async def real_feedback():
        detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
        return detail if detail["feedback"] else None

    detail = await eventually(real_feedback, what="the county's real feedback at the city")
    assert [f["text"] for f in detail["feedback"]] == ["真实反馈"]


async def test_a_forged_completed_and_a_forged_issued_at_the_county(client, platform, settings):
    inspector = await login(client, CITY, "inspector")
    approver = await login(client, CITY, "approver")
    handler = await login(client, COUNTY, "handler")
    chief = await login(client, COUNTY, "chief")
    item_id = await registered_item(client, inspector, approver)
    [task] = (await client.post(f"/api/items/{item_id}/assign", headers=inspector)).json()["assignments"]

    async def queue():
        return (await client.get("/api/assignments", headers=handler)).json()

    await eventually(queue, what="the assignment at the county")
    await client.post(f"/api/assignments/{task['id']}/accept", headers=handler)
    await client.post(f"/api/assignments/{task['id']}/feedback", json={"text": "已完成"}, headers=handler)
    r = await client.post(f"/api/assignments/{task['id']}/request-completion", headers=chief)
    assert r.json()["state"] == "completion_requested", r.text

    async def reviewing():
        detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
        return detail["item"]["state"] == "completion_review"

    await eventually(reviewing, what="the city reviewing")
    attacker = Ed25519PrivateKey.generate()
    city_kid = next(iter(platform.keys.public_keys(CITY)))

    # A forged "completed" while the city still reviews: the city's number 2, a stranger's signature.
    completed = _envelope("assignment.completed", CITY, COUNTY, f"{CITY}/{item_id}", 2,
                          AssignmentCompleted(task["id"]))
    # A forged "issued": a fake task in the county's queue, signed by a key nobody registered.
    issued = _envelope("assignment.issued", CITY, COUNTY, f"{CITY}/{new_id()}", 1, AssignmentIssued(
        new_id(), "lead", "伪造的交办", "", "", "other", (utcnow() + timedelta(days=30)).date()))
    # Both through NATS, as the attack did: the test node's user may publish as the city (it hosts it),
    # so only the signature stands in their way here.
    nc = await nats_connect(settings)
    try:
        js = nc.jetstream()
        for envelope, body in ((completed, _signed_with(completed, attacker, city_kid)),
                               (issued, _signed_with(issued, attacker, key_id(attacker.public_key())))):
            await js.publish(subject_for(COUNTY, CITY, envelope.kind), body, headers={"Nats-Msg-Id": envelope.id})
    finally:
        await nc.close()

    async def kept():
        rows = [await _row(platform, COUNTY, e.id) for e in (completed, issued)]
        return rows if all(rows) else None

    rows = await eventually(kept, what="the forgeries in the county's inbox")
    assert [r.status for r in rows] == ["rejected", "rejected"]
    assert rows[0].reason == f"bad signature: not signed by {CITY} (key {city_kid})"
    assert rows[1].reason.startswith("bad signature: key ") and rows[1].reason.endswith(f"is not a key of {CITY}")
    a = (await client.get(f"/api/assignments/{task['id']}", headers=handler)).json()
    assert a["assignment"]["state"] == "completion_requested"
    assert [t["id"] for t in await queue()] == [task["id"]]

    # A forgery that borrows a real event's id is kept under an id of its own; the real one is untouched.
    real = await _first_applied(platform)
    borrowed = msgspec.structs.replace(completed, id=real.id)
    assert await platform.consumer.receive(COUNTY, encode(borrowed)) == "rejected"
    assert (await _row(platform, COUNTY, real.id)).status == "applied"
    assert len(await _rejected(platform, COUNTY)) == 3

    # A real event, tampered on the way (its text changed after signing): refused too.
    tampered = msgspec.json.decode(signed(platform, msgspec.structs.replace(completed, id=new_id())), type=Envelope)
    tampered = msgspec.structs.replace(tampered, actor=f"{CITY}/approver")
    assert await platform.consumer.receive(COUNTY, encode(tampered)) == "rejected"
    # The city's real completion (number 2, the number the forgery took) is applied.
    assert (await client.post(f"/api/items/{item_id}/complete", headers=inspector)).json()["state"] == "completed"

    async def done():
        a = (await client.get(f"/api/assignments/{task['id']}", headers=handler)).json()
        return a["assignment"]["state"] == "done"

    await eventually(done, what="the real completion at the county")


async def _first_applied(platform) -> InboxEvent:
    """The first event the county applied (the real assignment)."""
    async with platform.db.transaction(COUNTY) as session:
        return (await session.scalars(select(InboxEvent).where(InboxEvent.status == "applied")
                                      .order_by(InboxEvent.received_at).limit(1))).one()


async def test_an_event_that_failed_every_delivery_becomes_a_replayable_conflict_only_if_signed(platform):
    real = _envelope("assignment.accepted", COUNTY, CITY, f"{CITY}/{new_id()}", 1,
                     AssignmentAccepted(new_id(), utcnow(), f"{COUNTY}/handler"))
    forged = msgspec.structs.replace(real, id=new_id())
    await platform.consumer.give_up(CITY, signed(platform, real), RuntimeError("database away"))
    await platform.consumer.give_up(CITY, encode(forged), RuntimeError("database away"))
    assert (await _row(platform, CITY, real.id)).status == "conflict"
    row = await _row(platform, CITY, forged.id)
    assert row.status == "rejected" and row.reason.endswith(f"unsigned: no signature of {COUNTY}")
