"""Fault injection across two tenant nodes: events between them must be applied exactly once and in
order while the nodes are SIGKILLed.

``run_faults`` starts (or reuses) a nats-server and a weed mini, makes a PostgreSQL database of its own
(``duban_test_<hex>``, dropped at the end), runs ``duban migrate`` and ``duban seed-demo`` on it, and
starts two ``duban serve`` processes: the city node (tenant ``city``) and the county node (tenant
``qingjiangpu``). A ``Driver`` walks items through the whole 督查 path over HTTP, ``workers`` at a time,
while a ``Killer`` SIGKILLs a node (or NATS) every few successful actions and restarts it at once.
Every driver step survives a crash: a request can commit and its node die before answering, so after a
lost answer or a 409 the driver re-reads and goes on from what is there. When the flow is over the
harness reads both tenants' tables straight from PostgreSQL and returns a ``FaultResult``:
``report()`` is the table to print, ``failures()`` the checks that failed.

Used by tests/test_faults.py and bench/faults.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import asyncpg
import httpx
from sqlalchemy.engine import make_url

import helpers
from duban.accounts.service import DEMO_PASSWORD
from duban.events.natsconf import NodeUser, write_config
from duban.runtime import NatsServerProcess, S3ServerProcess, free_port
from duban.runtime.procs import _child_setup  # parent-death signal, so a dead harness leaves no nodes

REPO = Path(__file__).resolve().parent.parent
DUBAN = Path(sys.executable).parent / "duban"
CITY, COUNTY = "city", "qingjiangpu"
NODES = {"city": CITY, "county": COUNTY}  # node name → the tenant it hosts
# Each node logs in to NATS as itself: it publishes only as its tenant and reads only its consumer.
NODE_USERS = [NodeUser(node, (tenant,), f"faults-{node}-nats-password") for node, tenant in NODES.items()]
TARGETS = ("city", "county", "nats")  # what the killer can kill
ROLES = {"inspector": "city", "approver": "city", "handler": "county", "chief": "county"}  # demo user → node
ITEM_STATES = ("draft", "pending_approval", "registered", "assigned", "in_progress", "completion_review",
               "completed", "archived")
TASK_STATES = ("issued", "accepted", "in_progress", "completion_requested", "done")
POLL = 0.05  # seconds between two looks while waiting for an event to cross or a node to come up
READY_TIMEOUT = 60.0  # seconds a (re)started node has to answer GET /health
# What the consumer logs for a message JetStream delivers more than once. Until the app is built the
# CLI's format applies ("<time> INFO duban.events: …"), then Litestar's ("INFO - <time> - duban.events - …").
REDELIVERED = re.compile(r"^(?:INFO - )?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})"
                         r"(?: INFO duban\.events: | - duban\.events - ).*\bredelivered\b")


@dataclass(frozen=True)
class FaultPlan:
    """What to run: items, workers and kills, which targets (killed in turn), and the time limits."""

    items: int = 60
    workers: int = 8
    kills: int = 30
    targets: tuple[str, ...] = ("county", "city")
    seed: int = 1  # draws how many actions pass between two kills (1..6)
    timeout: float = 600.0  # the whole flow; items not finished by then are reported as stuck
    stuck_after: float = 60.0  # a step making no progress this long leaves its item stuck
    settle: float = 15.0  # after the flow: how long outboxes and parked events get to drain

    def __post_init__(self) -> None:
        unknown = set(self.targets) - set(TARGETS)
        if unknown or not self.targets:
            raise ValueError(f"targets must be some of {', '.join(TARGETS)}; got {', '.join(self.targets)}")


@dataclass
class FaultResult:
    """What one run saw: the driver's and the killer's counts, and what PostgreSQL holds afterwards."""

    plan: FaultPlan
    wall: float  # seconds, servers and database included
    flow: float  # seconds from the first driver request to the end of the flow
    timed_out: bool
    kills: dict[str, int]
    actions: int  # successful writes of the driver
    lost_answers: int  # requests that got no answer (node killed or restarting)
    unanswered_writes: int  # writes that got no answer, so whether they took effect was unknown
    committed_unanswered: int  # of those, the ones a re-read found had taken effect
    longest_stall: float  # the longest gap between two successful actions
    finished: int  # items that went the whole way
    stuck: list[str]  # one line per item that did not: where it stopped, states on both sides
    inbox: dict[str, dict[str, int]]  # tenant → inbox status → rows
    duplicates: dict[str, int]  # tenant → redeliveries absorbed (sum of inbox.duplicates)
    ever_parked: dict[str, int | None]  # tenant → rows with parked_at set (None: no such column)
    problems: list[str]  # rejected and conflict events with their reasons, up to 10
    unsent: dict[str, int]  # tenant → outbox rows with sent_at NULL
    lost: dict[str, int]  # receiving tenant → events sent to it that are not applied there
    out_of_order: dict[str, int]  # tenant → events applied after a later one of the same stream
    mismatches: list[str]  # the two tenants' copies disagree, or items are missing or extra
    redelivery: list[float]  # per restart that saw one: seconds from Popen to its first redelivery
    restarts: int  # node restarts (a redelivery is looked for after each)
    node_exits: list[str]  # nodes that ended on their own (not killed by the harness)

    def total(self, status: str) -> int:
        """Inbox rows of one status on both sides."""
        return sum(counts.get(status, 0) for counts in self.inbox.values())

    def failures(self) -> list[str]:
        """The checks that failed, as sentences; empty when the run proves what it should."""
        made, lost, unsent = sum(self.kills.values()), sum(self.lost.values()), sum(self.unsent.values())
        disorder = sum(self.out_of_order.values())
        checks = [
            (self.finished == self.plan.items, f"{self.plan.items - self.finished} of {self.plan.items} items "
                                               f"did not finish{' (timed out)' if self.timed_out else ''}"),
            (made >= self.plan.kills, f"only {made} of {self.plan.kills} kills were made"),
            (not self.mismatches, f"{len(self.mismatches)} state mismatches"),
            (not self.total("rejected"), f"{self.total('rejected')} rejected events"),
            (not self.total("conflict"), f"{self.total('conflict')} conflict events"),
            (not self.total("parked"), f"{self.total('parked')} events still parked"),
            (not unsent, f"{unsent} unsent outbox rows"),
            (not lost, f"{lost} events sent but not applied"),
            (not disorder, f"{disorder} events applied out of order"),
            (not self.node_exits, f"{len(self.node_exits)} node exits nobody asked for"),
        ]
        return [message for ok, message in checks if not ok]

    def report(self) -> str:
        """Everything above as a readable table."""
        plan, sides = self.plan, list(self.inbox)
        kills = ", ".join(f"{target} {n}" for target, n in self.kills.items())
        if self.redelivery:
            times = (min(self.redelivery), statistics.median(self.redelivery), max(self.redelivery))
            redelivery = "min {:.2f} s, median {:.2f} s, max {:.2f} s".format(*times)
        else:
            redelivery = "none seen"
        lines = [
            f"fault injection: {plan.items} items, {plan.workers} workers, seed {plan.seed}, "
            f"targets {','.join(plan.targets)}",
            f"  items finished        {self.finished} of {plan.items}{'  (TIMED OUT)' if self.timed_out else ''}",
            f"  kills                 {sum(self.kills.values())} of {plan.kills}: {kills}",
            f"  driver                {self.actions} actions; {self.lost_answers} requests got no answer",
            f"  unanswered writes     {self.unanswered_writes}, of which {self.committed_unanswered} had committed "
            "(found by re-reading)",
            f"  longest stall         {self.longest_stall:.2f} s between two successful actions",
            f"  restart → redelivery  {redelivery} ({len(self.redelivery)} of {self.restarts} restarts had one)",
            f"  wall time             {self.wall:.1f} s (flow {self.flow:.1f} s)",
            "",
            f"  {'per tenant':<30}" + "".join(f"{side:>14}" for side in sides),
        ]

        def row(label: str, values: list[object]) -> None:
            lines.append(f"  {label:<30}" + "".join(f"{'n/a' if v is None else v:>14}" for v in values))

        row("events applied", [self.inbox[s].get("applied", 0) for s in sides])
        row("duplicates absorbed", [self.duplicates[s] for s in sides])
        row("ever parked", [self.ever_parked[s] for s in sides])
        row("still parked", [self.inbox[s].get("parked", 0) for s in sides])
        row("conflict", [self.inbox[s].get("conflict", 0) for s in sides])
        row("rejected", [self.inbox[s].get("rejected", 0) for s in sides])
        for status in sorted({st for counts in self.inbox.values() for st in counts}
                             - {"applied", "parked", "conflict", "rejected"}):
            row(f"inbox {status}", [self.inbox[s].get(status, 0) for s in sides])
        row("unsent outbox rows", [self.unsent[s] for s in sides])
        row("sent to it, not applied", [self.lost[s] for s in sides])
        row("applied out of order", [self.out_of_order[s] for s in sides])
        lines += [f"  node exited by itself: {exit}" for exit in self.node_exits]
        lines += ["", f"  state mismatches      {len(self.mismatches)}"]
        lines += [f"    {m}" for m in self.mismatches[:20]]
        if len(self.mismatches) > 20:
            lines.append(f"    … and {len(self.mismatches) - 20} more")
        if self.problems:
            lines.append("  rejected / conflict events (up to 10):")
            lines += [f"    {p}" for p in self.problems]
        if self.stuck:
            lines.append(f"  items that did not finish ({len(self.stuck)}):")
            lines += [f"    {s}" for s in self.stuck[:30]]
            if len(self.stuck) > 30:
                lines.append(f"    … and {len(self.stuck) - 30} more")
        failures = self.failures()
        lines.append("  result: " + ("OK" if not failures else "FAILED: " + "; ".join(failures)))
        return "\n".join(lines)


# -- the nodes -------------------------------------------------------------------------------------
class Node:
    """One ``duban serve`` process hosting one tenant. Each incarnation logs to a file of its own, so
    what a restarted node logged is read from its start."""

    def __init__(self, name: str, tenant: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        user = next(u for u in NODE_USERS if u.name == name)
        self.env = {**env, "DUBAN_HOSTED_TENANTS": tenant, "DUBAN_PORT": str(port),
                    "DUBAN_DATA_DIR": str(workdir / "data" / name), "DUBAN_NATS_USER": user.name,
                    "DUBAN_NATS_PASSWORD": user.password}
        self.logs = workdir / "logs"
        self.incarnations: list[tuple[float, Path]] = []  # (wall clock at Popen, log file)
        self.exits: list[str] = []  # incarnations that had ended before the harness killed them
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Popen a new incarnation (from the event loop's thread: the parent-death signal is per thread)."""
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{self.name}-{len(self.incarnations):03d}.log"
        started = time.time()
        with log.open("wb") as out:
            self._proc = subprocess.Popen(
                [str(DUBAN), "serve"], env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=functools.partial(_child_setup, os.getpid()),
            )
        self.incarnations.append((started, log))

    async def ready(self, http: httpx.AsyncClient) -> None:
        """Wait until GET /health answers 200; raise with the log's tail if the node dies or stays away."""
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} node exited with code {self._proc.returncode} while starting:\n"
                                   + self.tail())
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{self.url}/health", timeout=1.0)).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} node not ready after {READY_TIMEOUT:.0f} s:\n" + self.tail())
            await asyncio.sleep(POLL)

    def kill(self) -> None:
        """SIGKILL the running incarnation and reap it."""
        self.check_alive()
        self._proc.kill()
        self._proc.wait()

    def check_alive(self) -> None:
        """Note it in ``exits`` if the current incarnation has ended on its own."""
        if self._proc.poll() is not None:
            self.exits.append(f"{self.incarnations[-1][1].name} (code {self._proc.returncode})")

    def terminate(self) -> None:
        """Ask the running incarnation to stop (SIGTERM)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)

    def wait_stopped(self, timeout: float) -> None:
        """Wait for the incarnation to end after ``terminate``; SIGKILL it when it takes too long."""
        if self._proc is None:
            return
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, limit: int = 4000) -> str:
        """The end of the current incarnation's log."""
        return self.incarnations[-1][1].read_text(errors="replace")[-limit:]

    def redelivery_delays(self) -> list[float | None]:
        """For each restart: seconds from its Popen to the first ``redelivered`` line it logged, or None."""
        delays: list[float | None] = []
        for started, log in self.incarnations[1:]:
            first = None
            for line in log.read_text(errors="replace").splitlines():
                if found := REDELIVERED.match(line):
                    first = datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f").timestamp() - started
                    break
            delays.append(first)
        return delays


def _stop_nodes(nodes: list[Node]) -> None:
    """SIGTERM every node at once, then wait for each; SIGKILL what is still there after 20 s."""
    for node in nodes:
        node.terminate()
    for node in nodes:
        node.wait_stopped(20.0)


# -- the driver --------------------------------------------------------------------------------------
class Stuck(Exception):
    """An item that cannot go on; the message says where and why."""


@dataclass
class Walk:
    """One item's way through the path, as far as the driver got."""

    n: int
    item_id: str | None = None
    task_id: str | None = None
    where: str = "not started"
    finished: bool = False


class Driver:
    """Walks items through the path over HTTP, ``workers`` at once. Each step is a POST repeated until
    it has taken effect; waiting for an event to cross is a GET every ``POLL`` seconds."""

    def __init__(self, http: httpx.AsyncClient, urls: dict[str, str], plan: FaultPlan,
                 data_dir: Path | None = None) -> None:
        self.http, self.urls, self.plan = http, urls, plan
        self.data_dir = data_dir  # where seed-demo wrote the demo identities (the approver's TOTP secret)
        self.walks = [Walk(n) for n in range(plan.items)]
        self.actions = 0
        self.lost_answers = 0
        self.unanswered_writes = 0
        self.committed_unanswered = 0
        self.longest_stall = 0.0
        self.over = False  # the flow ended (every item walked, or the time ran out)
        self._last_action: float | None = None
        self._next = 0
        self._tokens: dict[str, str] = {}
        self._logins = {role: asyncio.Lock() for role in ROLES}
        self._moved = asyncio.Condition()

    # -- the flow ------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Walk every item; the caller bounds the time (cancelling ends the flow as well)."""
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self.plan.workers):
                    group.create_task(self._worker())
        finally:
            async with self._moved:
                self.over = True
                self._moved.notify_all()

    async def after_actions(self, count: int) -> bool:
        """Wait until ``count`` more actions have succeeded; False if the flow ended first."""
        target = self.actions + count
        async with self._moved:
            await self._moved.wait_for(lambda: self.actions >= target or self.over)
        return not self.over

    async def _worker(self) -> None:
        while self._next < len(self.walks):
            walk = self.walks[self._next]
            self._next += 1
            try:
                await self._walk(walk)
            except Stuck as exc:
                walk.where = f"stuck: {exc}"

    async def _walk(self, walk: Walk) -> None:
        """City: 立项, 审定, 交办. County: 签收, 反馈 (progress, result), 办结申请. City: 办结. County: done."""
        title = f"故障演练事项 #{walk.n:04d}"
        created = await self._act(walk, "creating the item at the city", "inspector", "/api/items",
                                  helpers.plan(title=title), lambda: self._find(title))
        walk.item_id = item = created["id"]
        at_city = f"/api/items/{item}"
        await self._act(walk, "submitting the plan", "inspector", f"{at_city}/submit", None,
                        lambda: self._item_at(item, "pending_approval"))
        await self._act(walk, "approving the plan", "approver", f"{at_city}/approve", None,
                        lambda: self._item_at(item, "registered"))
        await self._act(walk, "assigning to the county", "inspector", f"{at_city}/assign", None,
                        lambda: self._item_at(item, "assigned"))
        walk.task_id = task = (await self._get("inspector", at_city))["assignments"][0]["id"]
        at_county = f"/api/assignments/{task}"
        await self._until(walk, "waiting for the assignment to reach the county", lambda: self._queued(task))
        await self._act(walk, "accepting at the county", "handler", f"{at_county}/accept", None,
                        lambda: self._task_at(task, "accepted"))
        for kind, text in (("progress", "征地拆迁已过半。"), ("result", "征地拆迁已完成，配套道路已通车。")):
            await self._act(walk, f"posting {kind} feedback", "handler", f"{at_county}/feedback",
                            {"text": text, "kind": kind}, functools.partial(self._has_feedback, task, kind))
        await self._act(walk, "requesting completion", "chief", f"{at_county}/request-completion",
                        {"note": "申请办结"}, lambda: self._task_at(task, "completion_requested"))
        await self._until(walk, "waiting for the completion request to reach the city",
                          lambda: self._item_at(item, "completion_review"))
        await self._act(walk, "completing at the city", "inspector", f"{at_city}/complete", None,
                        lambda: self._item_at(item, "completed"))
        await self._until(walk, "waiting for the completion to reach the county", lambda: self._task_at(task, "done"))
        walk.where, walk.finished = "finished", True

    # -- steps -----------------------------------------------------------------------------------------
    async def _act(self, walk: Walk, what: str, role: str, path: str, body: dict | None,
                   done: Callable[[], Awaitable[object]]) -> dict:
        """POST until it has taken effect and return its answer. A 2xx counts as an action. After a
        lost answer or a 409, ``done`` re-reads: an earlier attempt may have committed before its node
        died; what it returns (when truthy) stands for the answer."""
        walk.where = what
        deadline = time.monotonic() + self.plan.stuck_after
        unanswered = False
        while True:
            answer = await self._request(role, "POST", path, body)
            if answer is not None and answer.is_success:
                await self._acted()
                return answer.json()
            if answer is not None and answer.status_code not in (401, 409) and answer.status_code < 500:
                raise Stuck(f"{what}: {answer.status_code} {answer.text[:300]}")
            if answer is None:
                self.unanswered_writes += 1
                unanswered = True
            seen = await done()
            if seen:
                self.committed_unanswered += unanswered
                return seen if isinstance(seen, dict) else {}
            if time.monotonic() > deadline:
                last = "no answer" if answer is None else f"{answer.status_code} {answer.text[:300]}"
                raise Stuck(f"{what}: not done after {self.plan.stuck_after:.0f} s (last: {last})")
            await asyncio.sleep(POLL)

    async def _until(self, walk: Walk, what: str, check: Callable[[], Awaitable[bool]]) -> None:
        """Poll ``check`` until it holds (an event crossing between the nodes)."""
        walk.where = what
        deadline = time.monotonic() + self.plan.stuck_after
        while not await check():
            if time.monotonic() > deadline:
                raise Stuck(f"{what}: nothing after {self.plan.stuck_after:.0f} s")
            await asyncio.sleep(POLL)

    async def _find(self, title: str) -> dict | None:
        """The city's item of that title, if an earlier attempt created it (searched by its words: the
        titles are unique, so the one page holds it)."""
        for item in await self._get("inspector", f"/api/items?{urlencode({'q': title, 'limit': 500})}"):
            if item["title"] == title:
                return item
        return None

    async def _item_at(self, item_id: str, state: str) -> bool:
        """The city's item has reached ``state`` (or gone past it)."""
        detail = await self._get("inspector", f"/api/items/{item_id}")
        return _reached(ITEM_STATES, detail["item"]["state"], state)

    async def _task_at(self, task_id: str, state: str) -> bool:
        """The county's assignment has reached ``state`` (or gone past it)."""
        detail = await self._get("handler", f"/api/assignments/{task_id}")
        return _reached(TASK_STATES, detail["assignment"]["state"], state)

    async def _queued(self, task_id: str) -> bool:
        """The assignment is in the county handler's queue of issued work."""
        queue = await self._get("handler", "/api/assignments?state=issued&limit=500")
        return any(a["id"] == task_id for a in queue)

    async def _has_feedback(self, task_id: str, kind: str) -> bool:
        """The county already holds a feedback of this kind on the assignment."""
        detail = await self._get("handler", f"/api/assignments/{task_id}")
        return any(f["kind"] == kind for f in detail["feedback"])

    # -- HTTP ------------------------------------------------------------------------------------------
    async def _get(self, role: str, path: str) -> dict | list:
        """Read until the node answers 200 (it may be down or restarting)."""
        deadline = time.monotonic() + self.plan.stuck_after
        while True:
            answer = await self._request(role, "GET", path)
            if answer is not None and answer.status_code == 200:
                return answer.json()
            if answer is not None and answer.status_code < 500 and answer.status_code != 401:
                raise Stuck(f"GET {path}: {answer.status_code} {answer.text[:300]}")
            if time.monotonic() > deadline:
                raise Stuck(f"GET {path}: no good answer for {self.plan.stuck_after:.0f} s")
            await asyncio.sleep(POLL)

    async def _request(self, role: str, method: str, path: str, body: dict | None = None) -> httpx.Response | None:
        """One call as a demo user; None when no answer came (the node died or is restarting), so a
        write may or may not have taken effect. A 401 drops the token: the next call logs in again."""
        node = ROLES[role]
        try:
            token = await self._token(role)
            answer = await self.http.request(method, f"{self.urls[node]}{path}", json=body,
                                             headers={"Authorization": f"Bearer {token}"})
        except httpx.TransportError:
            self.lost_answers += 1
            return None
        if answer.status_code == 401 and self._tokens.get(role) == token:
            del self._tokens[role]
        return answer

    async def _token(self, role: str) -> str:
        """The role's bearer token; logs in once (sessions live in the database, so restarts keep them)."""
        async with self._logins[role]:
            if role not in self._tokens:
                tenant = NODES[ROLES[role]]
                body = {"tenant": tenant, "username": role, "password": DEMO_PASSWORD}
                code = self.data_dir and helpers.totp_login_code(self.data_dir, tenant, role, helpers.TEST_NOW)
                if code:  # the approver's second factor, at the nodes' fixed time
                    body["totp"] = code
                answer = await self.http.post(f"{self.urls[ROLES[role]]}/api/login", json=body)
                if answer.status_code != 200:
                    raise Stuck(f"{tenant}/{role} cannot log in: {answer.status_code} {answer.text[:200]}")
                self._tokens[role] = answer.json()["token"]
            return self._tokens[role]

    async def _acted(self) -> None:
        now = time.monotonic()
        if self._last_action is not None:
            self.longest_stall = max(self.longest_stall, now - self._last_action)
        self._last_action = now
        async with self._moved:
            self.actions += 1
            self._moved.notify_all()


def _reached(states: tuple[str, ...], current: str, wanted: str) -> bool:
    return current in states and states.index(current) >= states.index(wanted)


# -- the killer --------------------------------------------------------------------------------------
class Killer:
    """After every (re)start and readiness, waits for 1..6 more successful actions (seeded), then
    SIGKILLs the next target and restarts it at once."""

    def __init__(self, plan: FaultPlan, nodes: dict[str, Node], nats: NatsServerProcess, http: httpx.AsyncClient,
                 progress: Callable[[str], None]) -> None:
        self.plan, self.nodes, self.nats, self.http, self.progress = plan, nodes, nats, http, progress
        self.kills = dict.fromkeys(plan.targets, 0)

    async def run(self, driver: Driver) -> None:
        """Kill ``plan.kills`` times, or until the flow ends."""
        rng = random.Random(self.plan.seed)
        for i in range(self.plan.kills):
            target = self.plan.targets[i % len(self.plan.targets)]
            if not await driver.after_actions(rng.randint(1, 6)):
                return
            began = time.monotonic()
            if target == "nats":
                self.nats.kill()
                # In a worker thread so the driver keeps going; the default executor's threads live as
                # long as the loop, which matters for nats-server's parent-death signal.
                await asyncio.to_thread(self.nats.start)
            else:
                node = self.nodes[target]
                node.kill()
                node.start()
                await node.ready(self.http)
            self.kills[target] += 1
            self.progress(f"kill {i + 1}/{self.plan.kills}: {target} back in {time.monotonic() - began:.2f} s, "
                          f"{driver.actions} actions, {sum(w.finished for w in driver.walks)} items finished")


# -- the run -------------------------------------------------------------------------------------------
async def run_faults(plan: FaultPlan, *, database_url: str, workdir: Path, nats: NatsServerProcess | None = None,
                     s3: S3ServerProcess | None = None,
                     progress: Callable[[str], None] = lambda line: None) -> FaultResult:
    """Run one experiment and return what it saw. ``database_url`` names a PostgreSQL server (a database
    of its own is made there); ``nats`` (with the users ``NODE_USERS``) and ``s3`` are started here
    unless given. Whatever is started here is stopped, and the database dropped, also when something fails."""
    began = time.monotonic()
    async with contextlib.AsyncExitStack() as stack:
        if nats is None:
            nats = NatsServerProcess(workdir / "nats", config_file=write_config(workdir / "nats-auth.conf", NODE_USERS))
            stack.callback(nats.stop)
            nats.start()
        if s3 is None:
            s3 = S3ServerProcess(workdir / "s3", access_key="duban-faults", secret_key=secrets.token_hex(20))
            stack.callback(s3.stop)
            s3.start()
        database = f"duban_test_{uuid.uuid4().hex[:12]}"
        await _admin(database_url, f'CREATE DATABASE "{database}"')
        stack.push_async_callback(_admin, database_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        run_url = make_url(database_url).set(drivername="postgresql+asyncpg", database=database)
        env = _environment(run_url.render_as_string(hide_password=False), nats, s3, workdir)
        for command in ("migrate", "seed-demo"):
            await _duban(env, command)
        progress(f"database {database} migrated and seeded; starting the nodes")

        http = await stack.enter_async_context(httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0)))
        nodes = {node: Node(node, tenant, env, workdir) for node, tenant in NODES.items()}
        stack.callback(_stop_nodes, list(nodes.values()))
        for node in nodes.values():  # each node signs for its own tenant; the public keys are shared
            await _duban(node.env, "keys", "init")
        for node in nodes.values():
            node.start()
        await asyncio.gather(*(node.ready(http) for node in nodes.values()))

        driver = Driver(http, {name: node.url for name, node in nodes.items()}, plan, workdir / "data")
        killer = Killer(plan, nodes, nats, http, progress)
        flow_began = time.monotonic()
        timed_out = False

        async def flow() -> None:
            nonlocal timed_out
            try:
                await asyncio.wait_for(driver.run(), plan.timeout)
            except TimeoutError:
                timed_out = True

        async with asyncio.TaskGroup() as group:
            group.create_task(flow())
            group.create_task(killer.run(driver))
        flow_time = time.monotonic() - flow_began
        progress(f"flow over after {flow_time:.1f} s; checking the tables")

        for node in nodes.values():
            node.check_alive()
        conn = await asyncpg.connect(_dsn(run_url))
        stack.push_async_callback(conn.close)
        await _settle(conn, plan.settle)
        delays = [d for node in nodes.values() for d in node.redelivery_delays()]
        result = FaultResult(
            plan=plan, wall=0.0, flow=flow_time, timed_out=timed_out, kills=killer.kills, actions=driver.actions,
            lost_answers=driver.lost_answers, unanswered_writes=driver.unanswered_writes,
            committed_unanswered=driver.committed_unanswered, longest_stall=driver.longest_stall,
            finished=sum(w.finished for w in driver.walks), redelivery=[d for d in delays if d is not None],
            restarts=len(delays), node_exits=[e for node in nodes.values() for e in node.exits],
            **await _tables(conn, driver.walks),
        )
    result.wall = time.monotonic() - began
    return result


def _environment(database_url: str, nats: NatsServerProcess, s3: S3ServerProcess, workdir: Path) -> dict[str, str]:
    """DUBAN_* of every command of the run (the nodes change the hosted tenants, port and data dir)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")},
        "DUBAN_DATABASE_URL": database_url, "DUBAN_HOSTED_TENANTS": f"{CITY},{COUNTY}",
        "DUBAN_DATA_DIR": str(workdir / "data"), "DUBAN_TENANTS_FILE": str(REPO / "tenants" / "huaian.toml"),
        "DUBAN_POLICIES_DIR": str(REPO / "policies"), "DUBAN_NATS_URL": nats.url,
        "DUBAN_KEYS_DIR": str(workdir / "keys"),
        "DUBAN_S3_ENDPOINT": s3.endpoint, "DUBAN_S3_ACCESS_KEY": s3.access_key,
        "DUBAN_S3_SECRET_KEY": s3.secret_key, "DUBAN_S3_BUCKET_PREFIX": f"f{uuid.uuid4().hex[:10]}",
        "DUBAN_PASSWORD_COST": "10", "DUBAN_RELAY_POLL_SECONDS": "0.5",
        # The nodes stand at the tests' moment (helpers.plan's dates are counted from it), and the flow is
        # the events of the path alone (no 催办 scheduler).
        "DUBAN_FIXED_TIME": helpers.TEST_NOW.isoformat(), "DUBAN_RUN_JOBS": "false",
    }


async def _duban(env: dict[str, str], command: str, *args: str) -> None:
    """Run ``duban <command>`` to the end; raise with its output if it fails."""
    proc = await asyncio.create_subprocess_exec(str(DUBAN), command, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), 120)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError(f"duban {command} did not finish in 120 s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"duban {command} failed with code {proc.returncode}:\n{output.decode(errors='replace')}")


def _dsn(url: object) -> str:
    """An asyncpg DSN for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _admin(database_url: str, statement: str) -> None:
    """One statement on the server's maintenance database (CREATE / DROP DATABASE)."""
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


# -- the checks ---------------------------------------------------------------------------------------
def _t(tenant: str) -> str:
    return f'"tenant_{tenant}"'


async def _settle(conn: asyncpg.Connection, seconds: float) -> None:
    """Once the flow is over, wait (up to ``seconds``) for unsent outbox rows and parked events to drain."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pending = 0
        for tenant in (CITY, COUNTY):
            pending += await conn.fetchval(f"SELECT count(*) FROM {_t(tenant)}.outbox WHERE sent_at IS NULL")
            pending += await conn.fetchval(f"SELECT count(*) FROM {_t(tenant)}.inbox WHERE status = 'parked'")
        if not pending:
            return
        await asyncio.sleep(0.1)


async def _tables(conn: asyncpg.Connection, walks: list[Walk]) -> dict[str, object]:
    """Read both tenants' tables: the inbox, the outbox against the other side's inbox, and the city's
    items, assignments and feedback against the county's copies."""
    found: dict[str, dict] = {"inbox": {}, "duplicates": {}, "ever_parked": {}, "unsent": {}, "lost": {},
                              "out_of_order": {}}
    problems: list[str] = []
    for tenant, sender in ((CITY, COUNTY), (COUNTY, CITY)):
        columns = {r["column_name"] for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'inbox'",
            f"tenant_{tenant}")}
        inbox = f"{_t(tenant)}.inbox"
        found["inbox"][tenant] = {r["status"]: r["n"] for r in await conn.fetch(
            f"SELECT status, count(*) AS n FROM {inbox} GROUP BY status")}
        found["duplicates"][tenant] = await conn.fetchval(f"SELECT coalesce(sum(duplicates), 0) FROM {inbox}")
        found["ever_parked"][tenant] = (await conn.fetchval(f"SELECT count(*) FROM {inbox} WHERE parked_at IS NOT NULL")
                                        if "parked_at" in columns else None)
        problems += [f"{tenant} {r['status']} {r['kind']} of {r['item_ref']}: {r['reason']}"
                     for r in await conn.fetch(f"SELECT status, kind, item_ref, reason FROM {inbox} WHERE status IN "
                                               "('rejected', 'conflict') ORDER BY received_at LIMIT 10")]
        found["unsent"][tenant] = await conn.fetchval(f"SELECT count(*) FROM {_t(tenant)}.outbox WHERE sent_at IS NULL")
        applied_at = "coalesce(applied_at, received_at)" if "applied_at" in columns else "received_at"
        applied = await conn.fetch(f"SELECT id, from_tenant, item_ref, body, {applied_at} AS at FROM {inbox} "
                                   "WHERE status = 'applied'")
        sent = {r["id"] for r in await conn.fetch(f"SELECT id FROM {_t(sender)}.outbox WHERE to_tenant = $1", tenant)}
        found["lost"][tenant] = len(sent - {r["id"] for r in applied})
        found["out_of_order"][tenant] = _out_of_order(applied)

    items = {r["id"]: r["state"] for r in await conn.fetch(f"SELECT id, state FROM {_t(CITY)}.items")}
    city = {r["item_id"]: (r["id"], r["state"]) for r in await conn.fetch(
        f"SELECT id, item_id, state FROM {_t(CITY)}.assignments WHERE item_id IS NOT NULL")}
    county = {r["id"]: r["state"] for r in await conn.fetch(f"SELECT id, state FROM {_t(COUNTY)}.assignments")}
    mismatches = [f"assignment {task}: city {state}, county {county.get(task, 'missing')}"
                  for task, state in city.values() if county.get(task) != state]
    issued = {task for task, _ in city.values()}
    mismatches += [f"assignment {task}: at the county only ({state})"
                   for task, state in county.items() if task not in issued]
    finished = {w.item_id for w in walks if w.finished}
    mismatches += [f"item {item}: finished by the driver but {state} at the city"
                   for item, state in items.items() if item in finished and state != "completed"]
    if len(items) != len(walks):
        mismatches.append(f"{len(items)} items at the city for {len(walks)} walked")
    city_feedback = {r["id"] for r in await conn.fetch(f"SELECT id FROM {_t(CITY)}.feedback")}
    county_feedback = {r["id"]: r["assignment_id"] for r in await conn.fetch(
        f"SELECT id, assignment_id FROM {_t(COUNTY)}.feedback")}
    mismatches += [f"feedback {f}: at the county only" for f in county_feedback.keys() - city_feedback]
    mismatches += [f"feedback {f}: at the city only" for f in city_feedback - county_feedback.keys()]
    per_task: dict[str, int] = {}
    for task in county_feedback.values():
        per_task[task] = per_task.get(task, 0) + 1
    mismatches += [f"assignment {task}: {n} feedback rows (the driver posts 2)"
                   for task, n in per_task.items() if n > 2]

    stuck = []
    for w in walks:
        if w.item_id is not None and not w.finished:
            task, city_state = city.get(w.item_id, (w.task_id, "-"))
            stuck.append(f"#{w.n:04d} item {w.item_id} ({items.get(w.item_id, 'missing')} at the city; assignment "
                         f"{city_state} at the city, {county.get(task, 'missing')} at the county): {w.where}")
        elif w.item_id is None and w.where != "not started":
            stuck.append(f"#{w.n:04d} no item yet: {w.where}")
    unstarted = sum(w.where == "not started" for w in walks)
    if unstarted:
        stuck.append(f"{unstarted} items not started")
    return {**found, "problems": problems[:10], "mismatches": mismatches, "stuck": stuck}


def _out_of_order(applied: list[asyncpg.Record]) -> int:
    """Events applied after a later event of the same (sender, item) stream, by the time they were applied."""
    streams: dict[tuple[str, str], list[tuple[datetime, int]]] = {}
    for r in applied:
        streams.setdefault((r["from_tenant"], r["item_ref"]), []).append((r["at"], json.loads(r["body"])["seq"]))
    late = 0
    for events in streams.values():
        highest = 0
        for _, seq in sorted(events):
            late += seq < highest
            highest = max(highest, seq)
    return late
