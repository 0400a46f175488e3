"""NATS as `duban nats config` sets it up: no client without a user; a node publishes only as the tenants
it hosts, reads only its own consumers, and cannot delete or change the stream or anyone's consumer."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import nats
import pytest
from nats.js.api import ConsumerConfig, StreamConfig

from duban.events.bus import Bus, durable_name, inbox_prefix
from duban.events.envelope import subject_for
from duban.events.natsconf import NodeUser
from duban.runtime import locate_binary
from helpers import DUBAN

CITY_NODE = NodeUser("citynode", ("city", "fgw"), "city-node-password")
COUNTY_NODE = NodeUser("countynode", ("qingjiangpu",), "county-node-password")


@pytest.fixture
def server(nats_server_factory):
    return nats_server_factory(users=[CITY_NODE, COUNTY_NODE])


@pytest.fixture
async def buses(server):
    made: list[Bus] = []

    async def make(node: NodeUser) -> Bus:
        bus = Bus(server.url, user=node.name, password=node.password)
        await bus.connect()
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()


async def _raw(server, node: NodeUser) -> tuple[nats.NATS, list[str]]:
    """A connection as a node, and the permission errors the server sends it."""
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc = await nats.connect(server.url, user=node.name, password=node.password, error_cb=on_error,
                            inbox_prefix=inbox_prefix(node.name))
    return nc, errors


async def _refused(call, errors: list[str], what: str) -> None:
    with pytest.raises(Exception):  # noqa: B017,PT011 - a denied request times out; the reason comes by error_cb
        await call
    await asyncio.sleep(0.1)
    assert any("permissions violation" in e.lower() and what.lower() in e.lower() for e in errors), errors


async def _messages(bus: Bus) -> int:
    return (await bus.js.stream_info(bus.stream)).state.messages


async def test_no_client_without_a_user(server):
    for options in ({}, {"user": "citynode", "password": "wrong"}, {"user": "nobody", "password": "x"}):
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(server.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=5,
                               **options)


async def test_a_node_publishes_only_as_its_own_tenants(server, buses):
    city, county = await buses(CITY_NODE), await buses(COUNTY_NODE)
    assert not await county.publish(subject_for("city", "qingjiangpu", "feedback.submitted"), b"{}", "e1")
    assert await _messages(city) == 1

    nc, errors = await _raw(server, COUNTY_NODE)
    try:
        js = nc.jetstream(timeout=1)
        for sender in ("city", "huaian", "fgw"):
            subject = subject_for("qingjiangpu", sender, "assignment.issued")
            await _refused(js.publish(subject, b"{}", headers={"Nats-Msg-Id": f"forged-{sender}"}), errors, subject)
        # Nor any subject outside the scheme (the old duban.v1.<to>.<kind> carried no sender).
        await _refused(js.publish("duban.v1.qingjiangpu.assignment.issued", b"{}"), errors, "duban.v1.qingjiangpu")
    finally:
        await nc.close()
    assert await _messages(city) == 1


async def test_a_node_reads_only_its_own_consumers(server, buses):
    city, county = await buses(CITY_NODE), await buses(COUNTY_NODE)
    await city.publish(subject_for("qingjiangpu", "city", "assignment.issued"), b"for the county", "e1")
    await county.publish(subject_for("city", "qingjiangpu", "assignment.accepted"), b"for the city", "e2")
    await city.subscription("city")  # the city's consumer exists
    [mine] = await (await county.subscription("qingjiangpu")).fetch(1, timeout=5)
    assert mine.data == b"for the county"
    await mine.ack()

    nc, errors = await _raw(server, COUNTY_NODE)
    try:
        js = nc.jetstream(timeout=1)
        durable = durable_name("city")
        await _refused(js.consumer_info("DUBAN", durable), errors, f"CONSUMER.INFO.DUBAN.{durable}")
        await _refused(nc.request(f"$JS.API.CONSUMER.MSG.NEXT.DUBAN.{durable}", b"1", timeout=1), errors,
                       f"MSG.NEXT.DUBAN.{durable}")
        # Its own consumer's name cannot be bent to the city's subjects, nor a new consumer made.
        own = ConsumerConfig(durable_name=durable_name("qingjiangpu"), name=durable_name("qingjiangpu"),
                             filter_subject="duban.v1.city.>")
        await _refused(js.add_consumer("DUBAN", own), errors, "CONSUMER.CREATE.DUBAN.tenant_qingjiangpu.duban.v1.city")
        spy = ConsumerConfig(name="spy", filter_subject="duban.v1.>")
        await _refused(js.add_consumer("DUBAN", spy), errors, "CONSUMER.CREATE.DUBAN.spy")
        # Nor the stream's messages directly, nor another node's replies, nor the events' subjects.
        await _refused(js.get_msg("DUBAN", 1), errors, "STREAM.MSG.GET.DUBAN")
        for subject in ("duban.v1.>", f"{inbox_prefix(CITY_NODE.name)}.>"):
            await nc.subscribe(subject)
            await nc.flush()
            await asyncio.sleep(0.1)
            assert any("subscription" in e.lower() and subject.lower() in e.lower() for e in errors), errors
    finally:
        await nc.close()
    # The city's event is still there for the city.
    [theirs] = await (await city.subscription("city")).fetch(1, timeout=5)
    assert theirs.data == b"for the city"


async def test_a_node_cannot_delete_or_change_the_stream_or_a_consumer(server, buses):
    city = await buses(CITY_NODE)
    await city.subscription("city")
    nc, errors = await _raw(server, COUNTY_NODE)
    try:
        js = nc.jetstream(timeout=1)
        await _refused(js.delete_stream("DUBAN"), errors, "STREAM.DELETE.DUBAN")
        await _refused(js.purge_stream("DUBAN"), errors, "STREAM.PURGE.DUBAN")
        await _refused(js.update_stream(StreamConfig(name="DUBAN", subjects=["x.>"])), errors, "STREAM.UPDATE.DUBAN")
        await _refused(js.delete_consumer("DUBAN", durable_name("city")), errors, "CONSUMER.DELETE.DUBAN.tenant_city")
        await _refused(js.delete_consumer("DUBAN", durable_name("qingjiangpu")), errors,
                       "CONSUMER.DELETE.DUBAN.tenant_qingjiangpu")
    finally:
        await nc.close()
    info = await city.js.stream_info("DUBAN")
    assert info.config.subjects == ["duban.v1.>"]
    assert (await city.js.consumer_info("DUBAN", durable_name("city"))).name == durable_name("city")


def test_the_generated_config_is_one_nats_server_accepts(tmp_path):
    nodes = tmp_path / "nodes.toml"
    nodes.write_text('[[nodes]]\nname = "city"\ntenants = ["city", "fgw"]\n\n'
                     '[[nodes]]\nname = "qingjiangpu"\ntenants = ["qingjiangpu"]\n')
    out = tmp_path / "auth.conf"
    r = subprocess.run([str(DUBAN), "nats", "config", "--nodes", str(nodes), "--out", str(out)],
                       capture_output=True, text=True, timeout=60, cwd=tmp_path.parent,
                       env=_env())
    assert r.returncode == 0, r.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    text = out.read_text()
    assert "$NATS_PASSWORD_CITY" in text and '"duban.v1.*.fgw.>"' in text and "qingjiangpu.>" in text
    env = {"NATS_PASSWORD_CITY": "a", "NATS_PASSWORD_QINGJIANGPU": "b"}
    check = subprocess.run([str(locate_binary("nats-server")), "-t", "-c", str(out)], capture_output=True, text=True,
                           timeout=30, env=env)
    assert check.returncode == 0, check.stdout + check.stderr
    # A tenant on two nodes, or one the registry does not know, is refused.
    bad = subprocess.run([str(DUBAN), "nats", "config", "--node", "a=city", "--node", "b=city,nowhere"],
                         capture_output=True, text=True, timeout=60,
                         env=_env())
    assert bad.returncode == 2 and "city is hosted by both a and b" in bad.stderr, bad.stderr
    bad = subprocess.run([str(DUBAN), "nats", "config", "--node", "a=city,nowhere"], capture_output=True, text=True,
                         timeout=60, env=_env())
    assert bad.returncode == 2 and "unknown tenant 'nowhere'" in bad.stderr, bad.stderr


def _env() -> dict[str, str]:
    repo = Path(__file__).resolve().parents[2]
    return {**{k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")},
            "DUBAN_TENANTS_FILE": str(repo / "tenants" / "huaian.toml")}
