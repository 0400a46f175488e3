"""Two leftovers of issue 7 §1: the sender in an event's NATS subject (``duban.v1.<to>.<from>.<kind>``,
the part NATS vouches for) must be the envelope's ``from_tenant``, or the event is kept as rejected; and
a kept event replayed from the inbox is checked against its sender's key again, so a body changed in the
database cannot be replayed into ``applied``."""

from __future__ import annotations

import msgspec
from sqlalchemy import text

from duban.db.base import new_id, utcnow
from duban.events.envelope import AssignmentAccepted, Envelope, subject_for
from duban.events.models import InboxEvent
from helpers import eventually, login, nats_connect, registered_item, signed

CITY, COUNTY, OTHER = "city", "qingjiangpu", "huaian"


def _accepted(sender: str, item_ref: str, assignment_id: str) -> Envelope:
    return Envelope(id=new_id(), kind="assignment.accepted", from_tenant=sender, to_tenant=CITY, item_ref=item_ref,
                    seq=1, occurred_at=utcnow(), actor=f"{sender}/handler",
                    payload=msgspec.to_builtins(AssignmentAccepted(assignment_id, utcnow(), f"{sender}/handler")))


async def _assigned(client) -> tuple[str, dict[str, str], dict]:
    inspector = await login(client, CITY, "inspector")
    approver = await login(client, CITY, "approver")
    item_id = await registered_item(client, inspector, approver, units=[(COUNTY, "lead"), (OTHER, "co")])
    r = await client.post(f"/api/items/{item_id}/assign", headers=inspector)
    assert r.status_code == 200, r.text
    return item_id, {a["unit"]: a["id"] for a in r.json()["assignments"]}, inspector


async def _row(platform, event_id: str) -> InboxEvent | None:
    async with platform.db.transaction(CITY) as session:
        return await session.get(InboxEvent, event_id)


async def _states(client, inspector, item_id: str) -> dict[str, str]:
    detail = (await client.get(f"/api/items/{item_id}", headers=inspector)).json()
    return {a["unit"]: a["state"] for a in detail["assignments"]}


async def test_an_event_on_another_senders_subject_is_rejected(client, platform, settings):
    item_id, tasks, inspector = await _assigned(client)
    item_ref = f"{CITY}/{item_id}"
    # huaian's genuine, well-signed acceptance of its own task — published on qingjiangpu's subject (the
    # node hosts both, so NATS lets it): the subject's sender is not the envelope's.
    smuggled = _accepted(OTHER, item_ref, tasks[OTHER])
    nc = await nats_connect(settings)
    try:
        await nc.jetstream().publish(subject_for(CITY, COUNTY, smuggled.kind), signed(platform, smuggled),
                                     headers={"Nats-Msg-Id": smuggled.id})
    finally:
        await nc.close()
    row = await eventually(lambda: _row(platform, smuggled.id), what="the event in the city's inbox")
    assert row.status == "rejected"
    assert row.reason == (f"sender mismatch: the subject 'duban.v1.{CITY}.{COUNTY}.assignment.accepted' names "
                          f"{COUNTY}, the event says {OTHER}")
    assert (await _states(client, inspector, item_id))[OTHER] == "issued"

    # Delivered by hand with the right subject, the same (re-signed, new id) event applies: only the
    # subject stood in its way, and the rejection did not move huaian's stream on.
    honest = msgspec.structs.replace(smuggled, id=new_id())
    outcome = await platform.consumer.receive(CITY, signed(platform, honest), subject_for(CITY, OTHER, honest.kind))
    assert outcome == "applied"
    assert (await _states(client, inspector, item_id))[OTHER] == "accepted"
    # A subject naming the right sender but another kind is not this event's either.
    odd = msgspec.structs.replace(smuggled, id=new_id(), seq=2)
    outcome = await platform.consumer.receive(CITY, signed(platform, odd),
                                              f"duban.v1.{CITY}.{OTHER}.feedback.submitted")
    assert outcome == "rejected"
    assert "does not match the event" in (await _row(platform, odd.id)).reason


async def test_a_tampered_stored_event_is_not_replayed(client, platform):
    item_id, tasks, inspector = await _assigned(client)
    real = _accepted(COUNTY, f"{CITY}/{item_id}", tasks[COUNTY])
    # Kept as a conflict (every delivery failed), for an operator to replay.
    await platform.consumer.give_up(CITY, signed(platform, real), RuntimeError("database away"))
    assert (await _row(platform, real.id)).status == "conflict"

    async def body(old: str, new: str) -> None:  # someone with a database console edits the stored body
        async with platform.db.migration_connection(CITY) as conn:
            await conn.execute(text("UPDATE inbox SET body = replace(body, :old, :new) WHERE id = :id"),
                               {"old": old, "new": new, "id": real.id})

    await body(f'"{COUNTY}/handler"', f'"{COUNTY}/chief"')
    r = await client.post(f"/api/inbox/{real.id}/replay", headers=inspector)
    assert r.status_code == 409, r.text
    assert "stored event no longer verifies" in r.text and f"not signed by {COUNTY}" in r.text
    assert (await _row(platform, real.id)).status == "conflict"
    assert (await _states(client, inspector, item_id))[COUNTY] == "issued"

    await body(f'"{COUNTY}/chief"', f'"{COUNTY}/handler"')  # put back: the signature holds again
    r = await client.post(f"/api/inbox/{real.id}/replay", headers=inspector)
    assert r.status_code == 200 and r.json()["status"] == "applied", r.text
    assert (await _states(client, inspector, item_id))[COUNTY] == "accepted"
