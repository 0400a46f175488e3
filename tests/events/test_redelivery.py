"""The JetStream side of "whatever dies": a node that dies holding events gets them back within the
consumer's short ack_wait; a slow batch is kept in progress and not redelivered behind its back; an
existing consumer is moved to the configured ack_wait without losing its place."""

from __future__ import annotations

import asyncio

import pytest

from duban.db.base import new_id
from duban.events.bus import Bus, durable_name
from duban.events.consumer import Consumer
from duban.events.envelope import subject_for
from helpers import NATS_TEST_USER, eventually


@pytest.fixture
async def bus_factory(nats_server):
    buses: list[Bus] = []

    async def make(ack_wait: float) -> Bus:
        bus = Bus(nats_server.url, ack_wait=ack_wait, user=NATS_TEST_USER.name,
                  password=NATS_TEST_USER.password)
        await bus.connect()
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()


async def _publish(bus: Bus, tenant: str, n: int) -> None:
    for i in range(n):
        await bus.publish(subject_for(tenant, "fgw", "assignment.accepted"), f"event {i}".encode(), new_id())


async def test_a_dead_nodes_events_come_back_to_the_next_one(bus_factory):
    first = await bus_factory(ack_wait=1.0)
    await _publish(first, "city", 3)
    taken = await (await first.subscription("city")).fetch(batch=3, timeout=5)
    assert len(taken) == 3
    await taken[0].ack()
    await first.nc.close()  # dies holding two unacked events

    second = await bus_factory(ack_wait=1.0)
    subscription = await second.subscription("city")
    back = []
    while len(back) < 2:  # each fetch waits at most 5 s; ack_wait is 1 s
        back += await subscription.fetch(batch=2, timeout=5)
    assert sorted(m.data for m in back) == [b"event 1", b"event 2"]
    assert all(m.metadata.num_delivered == 2 for m in back)


async def test_an_existing_consumer_takes_the_new_ack_wait_and_keeps_its_place(bus_factory):
    old = await bus_factory(ack_wait=30.0)
    await _publish(old, "qingjiangpu", 2)
    [message] = await (await old.subscription("qingjiangpu")).fetch(batch=1, timeout=5)
    await message.ack()
    info = await old.js.consumer_info(old.stream, durable_name("qingjiangpu"))
    assert info.config.ack_wait == 30.0

    new = await bus_factory(ack_wait=2.0)
    [rest] = await (await new.subscription("qingjiangpu")).fetch(batch=5, timeout=5)
    assert rest.data == b"event 1"
    info = await new.js.consumer_info(new.stream, durable_name("qingjiangpu"))
    assert info.config.ack_wait == 2.0


class _SlowInbox:
    """Takes each event only when the test lets it, to hold a batch longer than ack_wait."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = asyncio.Event()
        self.seen: list[bytes] = []

    async def receive(self, tenant: str, body: bytes, subject: str | None = None) -> str:
        self.started.set()
        await self.release.wait()
        self.seen.append(body)
        return "applied"


async def _settled(bus: Bus, inbox: _SlowInbox) -> bool:
    info = await bus.js.consumer_info(bus.stream, durable_name("huaian"))
    return len(inbox.seen) == 3 and info.num_ack_pending == 0


async def test_a_slow_batch_is_kept_in_progress_not_redelivered(bus_factory):
    bus = await bus_factory(ack_wait=2.0)
    await _publish(bus, "huaian", 3)
    inbox = _SlowInbox()
    consumer = Consumer(db=None, bus=bus, inbox=inbox, tenants=["huaian"])
    task = asyncio.create_task(consumer.run_tenant("huaian"))
    try:
        await asyncio.wait_for(inbox.started.wait(), 10)
        # Hold the batch for twice ack_wait (this wait is the point of the test): the in-progress
        # acks, sent every third of it, must keep the batch ours.
        await asyncio.sleep(2 * bus.ack_wait)
        info = await bus.js.consumer_info(bus.stream, durable_name("huaian"))
        assert info.num_redelivered == 0 and info.num_ack_pending == 3
        inbox.release.set()
        await eventually(lambda: _settled(bus, inbox), within=10, what="the batch to be taken and acked")
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 10)
    assert len(inbox.seen) == 3
    info = await bus.js.consumer_info(bus.stream, durable_name("huaian"))
    assert info.num_redelivered == 0 and info.delivered.consumer_seq == 3
