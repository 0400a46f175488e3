"""How fast does a real node answer authorised reads, beside its own /health, at 8 concurrent clients?

Starts its own nats-server and weed mini, then for each database — the embedded default (one SQLite file
per tenant, in a fresh data dir) and, when ``--database-url`` or DUBAN_TEST_DATABASE_URL names a
PostgreSQL server, a PostgreSQL database of its own (dropped afterwards, also on failure) — runs
`duban migrate`, `duban seed-demo` and `duban serve` (one process hosting every tenant of the registry,
as `duban up` does, with the default session settings: idle timeout on). It logs the city's inspector in,
drafts ``--items`` items, and drives the server with wrk (a compiled load generator: `apt-get install wrk`;
a Python client would take the CPU the server needs on a small machine) at ``--connections`` connections:
  health  GET /health                    (no authentication, no database: the node's ceiling)
  me      GET /api/me                    (session check + policy)
  items   GET /api/items?limit=20        (session check + a page of the list with its lights)
``--rounds`` rounds of ``--seconds`` each per endpoint, interleaved so all three see the same noise (other
programs on the machine). Prints each round, the median req/s and p50/p99 latency per endpoint, the ratio
of each to /health in the same round, the server's CPU time per request (all its threads, from /proc: what
the noise of other programs changes least), and PASS/MISS for the target: items ≥ 1,000 req/s, p99 ≤ 50 ms, and
≥ 1/5 of /health's rate. Every response must be a 200 (a 401 would be fast and wrong). Exits 1 on a MISS.
``--profile DIR`` also samples the server with py-spy (`pip install py-spy`) during one extra round of each
endpoint (not counted in the figures): collapsed stacks per endpoint in DIR, and a summary printed.
Run: .venv/bin/python bench/load.py [--seconds 5] [--rounds 3] [--database-url postgresql+asyncpg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
from benchdb import admin  # bench/benchdb.py, beside this script
from sqlalchemy.engine import make_url

from duban.accounts.service import DEMO_PASSWORD
from duban.runtime import NatsServerProcess, S3ServerProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENDPOINTS = {"health": "/health", "me": "/api/me", "items": "/api/items?limit=20"}
TARGET_RATE, TARGET_P99_MS, TARGET_SHARE = 1000.0, 50.0, 0.2


@dataclass
class Run:
    rate: float  # requests a second
    p50_ms: float
    p99_ms: float
    requests: int
    cpu_ms: float = 0.0  # the server's CPU time (all its threads) per request


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, token: str | None, seconds: int, connections: int, pid: int | None = None) -> Run:
    """One wrk run (with ``pid``: also the server's CPU time per request); raises if any answer was not a
    2xx or a socket failed."""
    cpu = _cpu_seconds(pid) if pid else 0.0
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency",
               url]
    if token:
        command[1:1] = ["-H", f"Authorization: Bearer {token}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout
    if done.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"{' '.join(command)} failed:\n{out}{done.stderr}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    if bad or errors:
        raise RuntimeError(f"wrk {url}: not every answer was a 200:\n{out}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    cpu = (_cpu_seconds(pid) - cpu) * 1000 / requests if pid else 0.0
    return Run(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), _ms(latency["50"]), _ms(latency["99"]),
               requests, cpu)


def _duban(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(BIN / "duban"), *args], env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"duban {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def _plan(n: int) -> dict:
    return {
        "title": f"推进重点项目建设（第{n}项）", "source_kind": "instruction",
        "source": {"leader": "市长", "instruction_text": "请抓紧推进，按期完成。", "instructed_on": "2026-09-01"},
        "content": "加快征地拆迁和配套道路建设。", "requirements": "每周反馈一次进展。", "division": "督查一处",
        "group": "mayor", "deadline": (date.today() + timedelta(days=60)).isoformat(),
        "units": [{"unit": "qingjiangpu", "role": "lead"}, {"unit": "huaian", "role": "co"}],
    }


def _start_server(env: dict[str, str], log: Path, base: str) -> subprocess.Popen:
    server = subprocess.Popen([str(BIN / "duban"), "serve"], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"duban serve exited with {server.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"duban serve not ready after 120 s:\n{log.read_text()[-4000:]}")
        time.sleep(0.1)


def _stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _profile(pid: int, url: str, token: str | None, args: argparse.Namespace, out: Path) -> None:
    """Sample the server with py-spy while wrk loads one endpoint; write the collapsed stacks and print
    where the samples fall (own time by function, and time inside the platform's own functions)."""
    spy = shutil.which("py-spy") or str(BIN / "py-spy")
    recorder = subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", "250", "--nonblocking", "--format",
                                 "raw", "-o", str(out), "--duration", str(args.seconds + 1)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    time.sleep(0.5)  # py-spy attaches
    wrk(url, token, args.seconds, args.connections)
    recorder.wait(60)
    own: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r" \(.*?([^/]+/[^/]+\.py):\d+\)$", r" (\1)", f) for f in stack.split(";")]
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            if "duban/" in frame or "(duban" in frame:
                inside[frame] += int(count)
    print(f"  profile {out} ({total} samples); own time:", flush=True)
    for frame, n in own.most_common(12):
        print(f"    {n / total:5.1%}  {frame}")
    print("  inside the platform's functions:")
    for frame, n in inside.most_common(12):
        print(f"    {n / total:5.1%}  {frame}")


def bench(name: str, database_url: str, args: argparse.Namespace, s3: S3ServerProcess,
          workdir: Path) -> dict[str, list[Run]]:
    """Set one database up, serve it (with a NATS of its own), load it; the rounds of each endpoint."""
    with NatsServerProcess(workdir / f"nats-{name}") as nats:
        return _bench(name, database_url, args, nats, s3, workdir)


def _bench(name: str, database_url: str, args: argparse.Namespace, nats: NatsServerProcess, s3: S3ServerProcess,
           workdir: Path) -> dict[str, list[Run]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")},
           "DUBAN_DATA_DIR": str(workdir / name), "DUBAN_DATABASE_URL": database_url, "DUBAN_NATS_URL": nats.url,
"DUBAN_S3_ENDPOINT": s3.endpoint,
           "DUBAN_S3_ACCESS_KEY": s3.access_key, "DUBAN_S3_SECRET_KEY": s3.secret_key,
           "DUBAN_S3_BUCKET_PREFIX": f"bench{uuid.uuid4().hex[:8]}", "DUBAN_PORT": str(port),
           "DUBAN_TENANTS_FILE": str(ROOT / "tenants" / "huaian.toml"), "DUBAN_POLICIES_DIR": str(ROOT / "policies"),
           "DUBAN_PASSWORD_COST": "10"}  # cheap demo hashes: logins are not what is measured
    began = time.monotonic()
    _duban(env, "migrate")
    _duban(env, "seed-demo")
    _duban(env, "keys", "init")  # the node signs its events: it must hold its tenants' private keys
    server = _start_server(env, workdir / f"serve-{name}.log", base)
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            r = client.post("/api/login", json={"tenant": "city", "username": "inspector", "password": DEMO_PASSWORD})
            r.raise_for_status()
            token = r.json()["token"]
            for n in range(args.items):
                client.post("/api/items", json=_plan(n), headers={"Authorization": f"Bearer {token}"}
                            ).raise_for_status()
            page = client.get(ENDPOINTS["items"], headers={"Authorization": f"Bearer {token}"})
            page.raise_for_status()
            assert len(page.json()) == min(20, args.items), page.text
        print(f"[{name}] serving {base} (pid {server.pid}), {args.items} items, ready in "
              f"{time.monotonic() - began:.0f} s; load average {os.getloadavg()[0]:.2f}", flush=True)
        for path in ENDPOINTS.values():  # warm-up: connections, caches, the first statements
            wrk(base + path, None if path == "/health" else token, 1, args.connections)
        runs: dict[str, list[Run]] = {e: [] for e in ENDPOINTS}
        for round_ in range(1, args.rounds + 1):
            for endpoint, path in ENDPOINTS.items():
                run = wrk(base + path, None if endpoint == "health" else token, args.seconds, args.connections,
                          server.pid)
                runs[endpoint].append(run)
            line = "  ".join(f"{e} {r[-1].rate:6.0f}/s p99 {r[-1].p99_ms:6.1f} ms cpu {r[-1].cpu_ms:5.2f} ms"
                             for e, r in runs.items())
            print(f"  round {round_}: {line}", flush=True)
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            for endpoint, path in ENDPOINTS.items():
                _profile(server.pid, base + path, None if endpoint == "health" else token, args,
                         args.profile / f"{name}-{endpoint}.txt")
        return runs
    finally:
        _stop_server(server)


def report(name: str, runs: dict[str, list[Run]]) -> bool:
    """Print the medians and the verdict; True when the target is met."""
    health = runs["health"]
    print(f"\n{name}: median of {len(health)} rounds, {ARGS.connections} connections (wrk)")
    print(f"  {'endpoint':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'÷ /health':>10} {'server CPU/req':>15}")
    for endpoint, path in ENDPOINTS.items():
        rs = runs[endpoint]
        share = statistics.median(r.rate / h.rate for r, h in zip(rs, health, strict=True))
        print(f"  {path:<22} {statistics.median(r.rate for r in rs):8.0f} "
              f"{statistics.median(r.p50_ms for r in rs):8.2f} {statistics.median(r.p99_ms for r in rs):8.2f} "
              f"{share:10.2f} {statistics.median(r.cpu_ms for r in rs):12.2f} ms")
    items = runs["items"]
    rate = statistics.median(r.rate for r in items)
    p99 = statistics.median(r.p99_ms for r in items)
    share = statistics.median(r.rate / h.rate for r, h in zip(items, health, strict=True))
    checks = [(f"items ≥ {TARGET_RATE:.0f} req/s", rate >= TARGET_RATE, f"{rate:.0f}"),
              (f"items p99 ≤ {TARGET_P99_MS:.0f} ms", p99 <= TARGET_P99_MS, f"{p99:.1f} ms"),
              (f"items ≥ {TARGET_SHARE:.0%} of /health", share >= TARGET_SHARE, f"{share:.0%}")]
    for what, ok, value in checks:
        print(f"  {'PASS' if ok else 'MISS'}  {what}: {value}")
    return all(ok for _, ok, _ in checks)


ARGS: argparse.Namespace


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(143)


def _clean_up(workdir: Path) -> None:
    """Remove the run's files, unless it failed: then say where its logs are."""
    if sys.exc_info()[0] is None:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"logs kept in {workdir}", file=sys.stderr)


def main() -> int:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--database-url", default=os.environ.get("DUBAN_TEST_DATABASE_URL", ""),
                        help="a PostgreSQL server to bench too (a database of its own is made there)")
    parser.add_argument("--only", choices=["sqlite", "postgres"], default=None, help="bench one database only")
    parser.add_argument("--profile", type=Path, default=None, help="sample the server (py-spy) into DIR")
    ARGS = args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk not found: apt-get install wrk", file=sys.stderr)
        return 2
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (other programs on the machine are noise)")
    workdir = Path(tempfile.mkdtemp(prefix="duban-load-"))
    verdicts = []
    signal.signal(signal.SIGTERM, _terminate)  # so the servers stop and the database is dropped
    with ExitStack() as stack:
        stack.callback(_clean_up, workdir)
        s3 = S3ServerProcess(workdir / "s3", access_key="duban-bench", secret_key="duban-bench-secret-key")
        s3.start()
        stack.callback(s3.stop)
        if args.only != "postgres":
            verdicts.append(report("SQLite (embedded default)", bench("sqlite", "", args, s3, workdir)))
        if args.database_url and args.only != "sqlite":
            name = f"duban_bench_{uuid.uuid4().hex[:12]}"
            asyncio.run(admin(args.database_url, f'CREATE DATABASE "{name}"'))
            stack.callback(lambda: asyncio.run(admin(args.database_url,
                                                     f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
            url = make_url(args.database_url).set(drivername="postgresql+asyncpg", database=name)
            verdicts.append(report("PostgreSQL", bench("postgres", url.render_as_string(hide_password=False), args,
                                                       s3, workdir)))
        elif args.only != "sqlite":
            print("\n(PostgreSQL not benched: set DUBAN_TEST_DATABASE_URL or --database-url)")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
