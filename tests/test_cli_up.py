"""The newcomer's test of ``duban up``: the real console script in a subprocess, on a fresh data
dir and a free port, with its own nats-server and ``weed mini`` children. One item walks the whole
path over real HTTP; Ctrl-C stops everything; a restart on the same data dir keeps the data; a busy
port is refused before anything starts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from duban.accounts.service import DEMO_PASSWORD
from duban.runtime import NatsServerProcess
from duban.runtime.ports import free_port
from duban.tenancy.registry import load_registry
from helpers import TEST_NOW, plan

REPO = Path(__file__).resolve().parent.parent
DUBAN = Path(sys.executable).parent / "duban"
READY_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0
EVENT_TIMEOUT = 30.0
# What ``duban`` returns after a clean Ctrl-C: uvicorn stops serving, then re-raises the SIGINT it
# captured, so KeyboardInterrupt reaches ``cli.main`` (after ``up`` stopped the children) -> 130.
CTRL_C_EXIT = 130


# -- running `duban up` -----------------------------------------------------------------------------
class DubanUp:
    """One ``duban up`` subprocess, its log file and its HTTP address."""

    def __init__(self, data_dir: Path, port: int, log: Path) -> None:
        self.data_dir, self.port, self.log = data_dir, port, log
        self.url = f"http://127.0.0.1:{port}"
        self._log_handle = log.open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}  # the newcomer has none
        env["PYTHONUNBUFFERED"] = "1"
        # Except the moment it stands at: the item's dates (helpers.plan) are counted from the tests' moment,
        # so the walk never depends on the real date (nor reaches a year without calendar data).
        env["DUBAN_FIXED_TIME"] = TEST_NOW.isoformat()
        self.proc = subprocess.Popen(
            [str(DUBAN), "up", "--data-dir", str(data_dir), "--port", str(port)],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=self._log_handle, stderr=subprocess.STDOUT,
            start_new_session=True,  # our own group, so cleanup can kill it all without touching pytest
        )
        self.started = time.monotonic()

    def output(self) -> str:
        self._log_handle.flush()
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> float:
        """Poll GET /health until it answers 200; returns the seconds it took."""
        deadline = self.started + READY_TIMEOUT
        with httpx.Client(timeout=2.0) as client:
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError(f"duban up exited with {self.proc.returncode} before it was ready:\n"
                                         + self.output())
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return time.monotonic() - self.started
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"duban up not ready after {READY_TIMEOUT:.0f}s:\n" + self.output())
                time.sleep(0.1)

    def ctrl_c(self) -> tuple[int, float]:
        """Send SIGINT (what Ctrl-C does) and wait for the exit; returns (exit code, seconds)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"duban up still running {STOP_TIMEOUT:.0f}s after SIGINT:\n"
                                 + self.output()) from None
        return code, time.monotonic() - t0

    def cleanup(self) -> None:
        """Whatever happened: no `duban up` and none of its servers survive the test."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        _kill_leftovers(self.data_dir)
        self._log_handle.close()


@contextmanager
def duban_up(data_dir: Path, log: Path) -> Iterator[DubanUp]:
    server = DubanUp(data_dir, free_port(), log)
    try:
        yield server
    finally:
        server.cleanup()


def _processes_using(path: Path) -> dict[int, str]:
    """pid -> command line of every process whose command line mentions ``path``."""
    needle = str(path)
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        if needle in cmdline:
            found[int(entry.name)] = cmdline.strip()
    return found


def _kill_leftovers(path: Path) -> None:
    for pid in _processes_using(path):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _eventually(check: Callable[[], object], what: str, timeout: float = EVENT_TIMEOUT) -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def _login(client: httpx.Client, tenant: str, username: str, data_dir: Path | None = None) -> dict[str, str]:
    body = {"tenant": tenant, "username": username, "password": DEMO_PASSWORD}
    if data_dir is not None:  # an approver's second factor, the way the README's walk gets it
        env = {**os.environ, "DUBAN_FIXED_TIME": TEST_NOW.isoformat()}
        code = subprocess.run([str(DUBAN), "totp", "code", "--tenant", tenant, "--user", username, "--data-dir",
                               str(data_dir)], capture_output=True, text=True, env=env, timeout=60, check=True)
        body["totp"] = code.stdout.strip()
    r = client.post("/api/login", json=body)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _assert_stopped_cleanly(server: DubanUp) -> float:
    code, seconds = server.ctrl_c()
    out = server.output()
    assert code == CTRL_C_EXIT, f"exit code {code} after Ctrl-C:\n{out}"
    assert "stopping NATS and S3" in out, out
    assert "Traceback" not in out, out
    assert _processes_using(server.data_dir) == {}, "servers left running after Ctrl-C"
    assert not (server.data_dir / "runtime.json").exists()
    return seconds


def _nats_refuses_anonymous(url: str) -> bool:
    import asyncio

    import nats

    async def attempt() -> bool:
        try:
            nc = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=5)
        except Exception as exc:  # nats-py raises a plain nats.errors.Error for an authorization violation
            return "Authorization Violation" in str(exc)
        await nc.close()
        return False

    return asyncio.run(attempt())


# -- the tests ----------------------------------------------------------------------------------------
def test_duban_up_walks_the_path_stops_on_ctrl_c_and_keeps_its_data(tmp_path: Path) -> None:
    data = tmp_path / "data"
    timings: dict[str, float] = {}

    # -- first run: a fresh data dir -------------------------------------------------------------
    with duban_up(data, tmp_path / "up-1.log") as server:
        timings["first start"] = server.wait_ready()
        banner = server.output()
        assert f"http://127.0.0.1:{server.port}" in banner, banner
        assert f"http://127.0.0.1:{server.port}/login" in banner, banner  # the web pages' way in (pages/)
        for login in ("inspector", "approver", "qingjiangpu", "handler", "chief", DEMO_PASSWORD):
            assert login in banner, (login, banner)
        runtime = data / "runtime.json"
        assert runtime.exists() and oct(runtime.stat().st_mode & 0o777) == "0o600"
        children = _processes_using(data)
        assert any("nats-server" in c for c in children.values()), children
        assert any("weed" in c and " mini " in c for c in children.values()), children
        # NATS runs with the node's user only; the signing keys are the node's own, 0600 in a 0700 dir.
        nats_url = json.loads(runtime.read_text())["nats_url"]
        assert _nats_refuses_anonymous(nats_url)
        assert oct((data / "private-keys").stat().st_mode & 0o777) == "0o700"
        assert {oct(p.stat().st_mode & 0o777) for p in (data / "private-keys").iterdir()} == {"0o600"}
        registry = load_registry(REPO / "tenants" / "huaian.toml")
        assert sorted(p.stem for p in (data / "keys").glob("*.pub")) == sorted(t.code for t in registry.tenants)

        t0 = time.monotonic()
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            r = client.get("/schema/openapi.json")
            assert r.status_code == 200, r.text
            paths = r.json()["paths"]
            assert {"/health", "/api/login", "/api/items", "/api/items/{item_id}/archive/verify",
                    "/api/assignments/{assignment_id}/accept"} <= set(paths), sorted(paths)
            # The web pages: `/` leads a browser to the login page; no page is in the API's document.
            assert not {"/", "/login", "/home", "/items/{item_id}"} & set(paths), sorted(paths)
            r = client.get("/")
            assert r.status_code == 303 and r.headers["location"] == "/login", r.headers
            assert "登录" in client.get("/login").text

            inspector = _login(client, "city", "inspector")
            approver = _login(client, "city", "approver", server.data_dir)
            handler = _login(client, "qingjiangpu", "handler")
            chief = _login(client, "qingjiangpu", "chief")

            # 立项 → 审定
            r = client.post("/api/items", json=plan([("qingjiangpu", "lead")]), headers=inspector)
            assert r.status_code == 201, r.text
            item_id = r.json()["id"]
            assert r.json()["state"] == "draft"
            r = client.post(f"/api/items/{item_id}/submit", headers=inspector)
            assert r.status_code == 200 and r.json()["state"] == "pending_approval", r.text
            r = client.post(f"/api/items/{item_id}/approve", headers=approver)
            assert r.status_code == 200 and r.json()["state"] == "registered", r.text

            # 交办: the assignment crosses NATS into the county's queue.
            r = client.post(f"/api/items/{item_id}/assign", headers=inspector)
            assert r.status_code == 200 and r.json()["item"]["state"] == "assigned", r.text
            [sent] = r.json()["assignments"]

            def county_queue() -> list[dict]:
                r = client.get("/api/assignments", headers=handler)
                assert r.status_code == 200, r.text
                return r.json()

            [received] = _eventually(county_queue, "the assignment to reach qingjiangpu")
            assert received["id"] == sent["id"] and received["assigner"] == "city", received
            assignment = f"/api/assignments/{received['id']}"

            # 签收 → 反馈 → 办结申请
            r = client.post(f"{assignment}/accept", headers=handler)
            assert r.status_code == 200 and r.json()["state"] == "accepted", r.text
            r = client.post(f"{assignment}/feedback", headers=handler,
                            json={"text": "征地拆迁已完成，配套道路已通车。", "kind": "result"})
            assert r.status_code == 201, r.text
            r = client.post(f"{assignment}/request-completion", headers=chief, json={"note": "申请办结。"})
            assert r.status_code == 200 and r.json()["state"] == "completion_requested", r.text

            def city_item() -> dict | None:
                r = client.get(f"/api/items/{item_id}", headers=inspector)
                assert r.status_code == 200, r.text
                return r.json() if r.json()["item"]["state"] == "completion_review" else None

            detail = _eventually(city_item, "the completion request to reach the city")
            assert [f["text"] for f in detail["feedback"]] == ["征地拆迁已完成，配套道路已通车。"]

            # 办结 → 归档 → verify
            r = client.post(f"/api/items/{item_id}/complete", headers=inspector)
            assert r.status_code == 200 and r.json()["state"] == "completed", r.text
            r = client.post(f"/api/items/{item_id}/archive", headers=inspector)
            assert r.status_code == 200 and r.json()["state"] == "archived", r.text
            archive = r.json()["archive"]
            r = client.get(f"/api/items/{item_id}/archive/verify", headers=inspector)
            assert r.status_code == 200 and r.json()["ok"] is True, r.text
            assert r.json()["files_checked"] >= 4 and r.json()["problems"] == [], r.text
        timings["path"] = time.monotonic() - t0

        timings["first stop"] = _assert_stopped_cleanly(server)

    # -- second run: same data dir, new port ------------------------------------------------------
    with duban_up(data, tmp_path / "up-2.log") as server:
        timings["restart"] = server.wait_ready()
        banner = server.output()
        assert f"http://127.0.0.1:{server.port}" in banner and DEMO_PASSWORD in banner, banner
        children = dict(_processes_using(data))

        # Starting it a second time by mistake (same port, same data dir) is refused at once,
        # before it touches the running servers.
        env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
        again = subprocess.run([str(DUBAN), "up", "--data-dir", str(data), "--port", str(server.port)],
                               cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 2, again
        assert f"port {server.port}" in again.stderr and "in use" in again.stderr, again.stderr
        assert _processes_using(data) == children
        assert (data / "runtime.json").exists()  # still the running one's

        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            inspector = _login(client, "city", "inspector")
            handler = _login(client, "qingjiangpu", "handler")
            r = client.get(f"/api/items/{item_id}", headers=inspector)
            assert r.status_code == 200, r.text
            assert r.json()["item"]["state"] == "archived" and r.json()["item"]["archive"] == archive
            r = client.get(f"/api/items/{item_id}/archive/verify", headers=inspector)
            assert r.status_code == 200 and r.json()["ok"] is True and r.json()["problems"] == [], r.text
            r = client.get(f"/api/assignments/{received['id']}", headers=handler)
            assert r.status_code == 200, r.text

            def county_done() -> bool:
                r = client.get(f"/api/assignments/{received['id']}", headers=handler)
                return r.json()["assignment"]["state"] == "done"

            _eventually(county_done, "the completion to reach qingjiangpu")

        timings["second stop"] = _assert_stopped_cleanly(server)

    print("duban up timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))


def test_duban_up_refuses_a_busy_port_and_starts_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
        try:
            result = subprocess.run([str(DUBAN), "up", "--data-dir", str(data), "--port", str(port)],
                                    cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        finally:
            _kill_leftovers(data)
    assert result.returncode == 2, result  # DubanError -> exit 2
    message = result.stderr.strip()
    assert f"port {port} on 127.0.0.1 is in use" in message and "--port" in message, message
    assert "Traceback" not in result.stderr, result.stderr
    assert "starting NATS" not in result.stdout, result.stdout
    assert _processes_using(data) == {}
    assert not (data / "runtime.json").exists()
    assert not (data / "nats").exists() and not (data / "s3").exists()


def test_duban_up_refuses_a_data_dir_in_use(tmp_path: Path) -> None:
    """A second `duban up` on a data dir whose servers are running says so, without a traceback."""
    data = tmp_path / "data"
    holder = NatsServerProcess(data / "nats")  # what a running `duban up` holds
    holder.start()
    try:
        result = subprocess.run([str(DUBAN), "up", "--data-dir", str(data), "--port", str(free_port())],
                                capture_output=True, text=True, timeout=120, cwd=REPO)
    finally:
        holder.stop()
    assert result.returncode == 2, result.stderr
    assert "another `duban up`" in result.stderr and str(data) in result.stderr
    assert "Traceback" not in result.stderr
