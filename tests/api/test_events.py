"""The relay: duplicates change nothing, refused events are kept, nothing is lost when NATS dies."""

from __future__ import annotations

import msgspec
from sqlalchemy import func, select

from duban.db.base import new_id, utcnow
from duban.events.envelope import AssignmentIssued, Envelope, subject_for
from duban.events.models import InboxEvent, OutboxEvent
from duban.items.models import Assignment, HistoryEntry
from helpers import eventually, login, nats_connect, registered_item, signed


async def _count(platform, tenant, model, *where) -> int:
    async with platform.db.transaction(tenant) as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def _assigned(client, platform) -> tuple[str, Envelope]:
    """Assign an item to qingjiangpu and wait until the county applied the event; returns (item, envelope)."""
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    item_id = await registered_item(client, inspector, approver)
    assert (await client.post(f"/api/items/{item_id}/assign", headers=inspector)).status_code == 200
    handler = await login(client, "qingjiangpu", "handler")

    async def arrived():
        return (await client.get("/api/assignments", headers=handler)).json()

    await eventually(arrived, what="the assignment at the county")
    async with platform.db.transaction("city") as session:
        row = await session.scalar(select(OutboxEvent).where(OutboxEvent.kind == "assignment.issued"))
    return item_id, msgspec.json.decode(row.body.encode(), type=Envelope)


async def test_duplicate_delivery_of_the_assignment_creates_nothing_twice(client, platform, settings):
    _, envelope = await _assigned(client, platform)
    body = signed(platform, envelope)  # the very bytes the city's relay published (Ed25519 is deterministic)

    # Re-deliver the very same event through NATS, under a new message id so the stream's own
    # dedup window does not catch it: only the county's inbox stands between it and a double.
    nc = await nats_connect(settings)
    try:
        js = nc.jetstream()
        subject = subject_for("qingjiangpu", "city", envelope.kind)
        ack = await js.publish(subject, body, headers={"Nats-Msg-Id": new_id()})
        assert not ack.duplicate
        # And the same message id again: the stream itself drops this one.
        ack = await js.publish(subject, body, headers={"Nats-Msg-Id": envelope.id})
        assert ack.duplicate
    finally:
        await nc.close()

    async def seen_twice():
        async with platform.db.transaction("qingjiangpu") as session:
            row = await session.get(InboxEvent, envelope.id)
            return row is not None and row.duplicates == 1

    await eventually(seen_twice, what="the duplicate to reach the inbox")
    assert await _count(platform, "qingjiangpu", Assignment) == 1
    assert await _count(platform, "qingjiangpu", InboxEvent) == 1
    assert await _count(platform, "qingjiangpu", HistoryEntry, HistoryEntry.action == "receive") == 1

    # The consumer's own receive path says so too, directly.
    assert await platform.consumer.receive("qingjiangpu", body) == "duplicate"
    assert await _count(platform, "qingjiangpu", Assignment) == 1


async def test_an_event_the_network_does_not_allow_is_kept_as_rejected(client, platform):
    # A county may not assign to the city (assignment goes down the tree only).
    envelope = Envelope(
        id=new_id(), kind="assignment.issued", from_tenant="qingjiangpu", to_tenant="city",
        item_ref="qingjiangpu/x", seq=1, occurred_at=utcnow(), actor="qingjiangpu/chief",
        payload=msgspec.to_builtins(AssignmentIssued(new_id(), "lead", "越级交办", "", "", "other", utcnow().date())),
    )
    assert await platform.consumer.receive("city", signed(platform, envelope)) == "rejected"
    assert await _count(platform, "city", Assignment) == 0
    supervisor = await login(client, "city", "supervisor")
    [row] = (await client.get("/api/inbox", params={"status": "rejected"}, headers=supervisor)).json()
    assert row["id"] == envelope.id and "may not send" in row["reason"]

    # Feedback from a county about an assignment that was never given to it: kept, not applied.
    stray = msgspec.structs.replace(envelope, id=new_id(), kind="feedback.submitted", payload={
        "assignment_id": new_id(), "feedback_id": new_id(), "kind": "progress", "text": "?",
        "author": "qingjiangpu/handler", "submitted_at": utcnow().isoformat()})
    assert await platform.consumer.receive("city", signed(platform, stray)) == "rejected"
    assert await platform.consumer.receive("city", b"not an envelope") == "rejected"
    assert await _count(platform, "city", InboxEvent, InboxEvent.status == "rejected") == 3


async def test_nothing_is_lost_while_nats_is_down(client, platform, nats_server):
    inspector = await login(client, "city", "inspector")
    approver = await login(client, "city", "approver")
    handler = await login(client, "qingjiangpu", "handler")
    item_id = await registered_item(client, inspector, approver)

    nats_server.kill()
    # The transition commits with its event in the outbox even though the bus is gone.
    r = await client.post(f"/api/items/{item_id}/assign", headers=inspector)
    assert r.status_code == 200 and r.json()["item"]["state"] == "assigned"
    assert await _count(platform, "city", OutboxEvent, OutboxEvent.sent_at.is_(None)) == 1

    nats_server.restart()

    async def arrived():
        return (await client.get("/api/assignments", headers=handler)).json()

    [a] = await eventually(arrived, within=30, what="the assignment after NATS came back")
    assert a["item_ref"].endswith(item_id)
    assert await _count(platform, "city", OutboxEvent, OutboxEvent.sent_at.is_(None)) == 0
    assert await _count(platform, "qingjiangpu", Assignment) == 1
