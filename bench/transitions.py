"""How many item and assignment transitions per second does one PostgreSQL session commit, beside raw commits?

Makes a PostgreSQL database of its own (dropped afterwards, also on failure) with a city and a county
tenant, and compares, in the same run, one transaction at a time on one connection each:
  raw         asyncpg alone: a single-row INSERT committed on its own (autocommit), into a scratch table
  item        at the city, through items.service in platform.db.transaction: create (draft + history),
              submit and approve (state + history; approve also takes a serial number), assign (state +
              assignment + 3 clocks + history + outbox event)
  assignment  at the county, on assignments delivered by the platform's inbox: accept, add_feedback,
              request_completion, each one transaction with the state change, its history row, its outbox
              event (and its counter), and the clock it meets (feedback also stores the feedback row)
Also timed, not judged: the inbox applying those events at the other tenant (receive@county, @city).
Each round takes ``--items`` items through their life, with the ``--raw`` raw commits in ten slices
before, between and after its phases (so both see the same noise); a warm-up round comes first.
Prints the median rate of each kind over ``--rounds`` rounds, its ratio to the raw rate of the same
round, and PASS/FAIL for "transitions ≥ 50% of the raw rate". When that fails (or with ``--profile``)
more items are traced: the round trips of each kind of transaction (BEGIN, statements, COMMIT) and the
time spent awaiting them versus the Python around them, the statements sent, the floor of a 签收 (the
same rows written by hand with asyncpg: as separate statements, and as one statement), and a cProfile.
Run: .venv/bin/python bench/transitions.py [--items 200] [--rounds 5] [--raw 2000] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime

import asyncpg
import asyncpg.prepared_stmt
import asyncpg.transaction
import msgspec
from benchdb import CITY, COUNTY, DEFAULT_URL, asyncpg_dsn, bench_platform  # bench/benchdb.py, beside this script
from sqlalchemy import event
from sqlalchemy.engine import Engine

from duban.context import TenantContext
from duban.db.base import new_id
from duban.events.envelope import AssignmentAccepted, Envelope, encode
from duban.items import service
from duban.items.models import HistoryEntry
from duban.items.schemas import FeedbackCreate, ItemCreate, UnitPlan
from duban.platform import Platform
from duban.policy.policy import Actor
from duban.timesource import CHINA

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=CHINA)  # a Monday, a working day
ITEM_KINDS = ("create", "submit", "approve", "assign")
ASSIGNMENT_KINDS = ("accept", "feedback", "request_completion")
RECEIVE_KINDS = ("receive@county", "receive@city")
RAW_SQL = "INSERT INTO bench_raw (item_ref, action, actor, note, at) VALUES ($1, $2, $3, $4, $5)"
# 签收 by hand, the rows items.service.accept writes: the state, a history row, the accept clock met, the
# counter of the item's events to the assigner, the outbox event.
FLOOR_ASSIGNMENT = """UPDATE assignments SET state = 'accepted', accepted_at = $2, accepted_by = $3, updated_at = $2
WHERE id = $1 AND state = 'issued' RETURNING item_ref, assigner"""
FLOOR_HISTORY = """INSERT INTO history (item_ref, assignment_id, action, from_state, to_state, actor, note, at)
VALUES ($1, $2, 'accept', 'issued', 'accepted', $3, NULL, $4)"""
FLOOR_CLOCK = """UPDATE clocks SET state = 'met', met_at = $2, on_time = due >= $3, late_workdays = 0
WHERE id = (SELECT id FROM clocks WHERE assignment_id = $1 AND kind = 'accept' AND state = 'open'
            ORDER BY due, seq LIMIT 1)"""
FLOOR_COUNTER = """INSERT INTO counters (key, value) VALUES ($1, 1)
ON CONFLICT (key) DO UPDATE SET value = counters.value + 1 RETURNING value"""
FLOOR_OUTBOX = """INSERT INTO outbox (id, kind, to_tenant, item_ref, seq, body, created_at)
VALUES ($1, 'assignment.accepted', $2, $3, $4, $5, $6)"""
FLOOR_ONE = """WITH a AS (UPDATE assignments SET state = 'accepted', accepted_at = $2, accepted_by = $3, updated_at = $2
                WHERE id = $1 AND state = 'issued' RETURNING id, item_ref, assigner),
h AS (INSERT INTO history (item_ref, assignment_id, action, from_state, to_state, actor, note, at)
      SELECT item_ref, id, 'accept', 'issued', 'accepted', $3, NULL, $2 FROM a),
c AS (UPDATE clocks SET state = 'met', met_at = $2, on_time = due >= $4, late_workdays = 0
      WHERE id = (SELECT id FROM clocks WHERE assignment_id = $1 AND kind = 'accept' AND state = 'open'
                  ORDER BY due, seq LIMIT 1)),
n AS (INSERT INTO counters (key, value) SELECT 'outbox_seq:' || assigner || ':' || item_ref, 1 FROM a
      ON CONFLICT (key) DO UPDATE SET value = counters.value + 1 RETURNING value)
INSERT INTO outbox (id, kind, to_tenant, item_ref, seq, body, created_at)
SELECT $5, 'assignment.accepted', a.assigner, a.item_ref, n.value, replace($6, '"seq":0', '"seq":' || n.value), $2
FROM a, n"""


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Tracer:
    """Which kind of transition runs now, and (when on) what its database round trips cost."""

    def __init__(self) -> None:
        self.kind = ""
        self.on = False
        self.seconds: dict[str, Counter] = defaultdict(Counter)  # kind -> {begin, statement, prepare, commit}
        self.calls: dict[str, Counter] = defaultdict(Counter)
        self.statements: dict[str, list[str]] = {}
        self._current: list[str] = []
        self._undo: list[Callable[[], None]] = []

    def start(self) -> None:
        for cls, name, bucket in ((asyncpg.transaction.Transaction, "start", "begin"),
                                  (asyncpg.transaction.Transaction, "commit", "commit"),
                                  (asyncpg.prepared_stmt.PreparedStatement, "fetch", "statement"),
                                  (asyncpg.Connection, "prepare", "prepare")):
            self._wrap(cls, name, bucket)
        event.listen(Engine, "before_cursor_execute", self._statement)
        self.on = True

    def stop(self) -> None:
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        event.remove(Engine, "before_cursor_execute", self._statement)
        self.on = False

    def _wrap(self, cls: type, name: str, bucket: str) -> None:
        original = getattr(cls, name)
        tracer = self

        async def timed(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            began = time.perf_counter()
            try:
                return await original(self, *args, **kwargs)
            finally:
                tracer.seconds[tracer.kind][bucket] += time.perf_counter() - began
                tracer.calls[tracer.kind][bucket] += 1

        setattr(cls, name, timed)
        self._undo.append(lambda: setattr(cls, name, original))

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        self._current.append(summary(statement))

    def transaction_done(self, kind: str, seconds: float) -> None:
        if self.on:
            self.seconds[kind]["total"] += seconds
            self.calls[kind]["total"] += 1
            self.statements.setdefault(kind, self._current)
        self._current = []


def summary(statement: str) -> str:
    """'UPDATE assignments', 'INSERT counters ON CONFLICT DO UPDATE RETURNING', … of one SQL statement."""
    text = " ".join(statement.split())
    verb = text.split(" ", 1)[0].upper()
    pattern = {"SELECT": r" FROM (?:\w+\.)?(\w+)", "INSERT": r"INTO (?:\w+\.)?(\w+)",
               "UPDATE": r"UPDATE (?:\w+\.)?(\w+)", "DELETE": r"FROM (?:\w+\.)?(\w+)"}.get(verb)
    found = re.search(pattern, text) if pattern else None
    parts = [verb, found.group(1) if found else "?"]
    if " JOIN " in text:
        parts.append("JOIN")
    if "ON CONFLICT" in text:
        parts.append("ON CONFLICT " + ("DO UPDATE" if "DO UPDATE" in text else "DO NOTHING"))
    if "FOR UPDATE" in text:
        parts.append("FOR UPDATE")
    if "RETURNING" in text and verb == "INSERT":
        parts.append("RETURNING")
    return " ".join(parts)


class Bench:
    def __init__(self, platform: Platform, raw: asyncpg.Connection, floor_conn: asyncpg.Connection,
                 tracer: Tracer) -> None:
        self.platform, self.raw, self.floor_conn, self.tracer = platform, raw, floor_conn, tracer
        self.serial = 0
        self.between: Callable[[], Awaitable[None]] | None = None  # runs before each phase of an item's life
        self.inspector, self.approver = Actor(CITY, "inspector"), Actor(CITY, "approver")
        self.handler, self.chief = Actor(COUNTY, "handler"), Actor(COUNTY, "chief")

    async def raw_commits(self, n: int) -> float:
        """Seconds for ``n`` single-row INSERTs, each its own transaction (autocommit)."""
        began = time.perf_counter()
        for i in range(n):
            await self.raw.execute(RAW_SQL, f"city/{i}", "accept", "qingjiangpu/handler", None, NOW)
        return time.perf_counter() - began

    async def transition(self, times: dict[str, list[float]], kind: str, tenant: str, actor: Actor,
                         step: Callable[[TenantContext], Awaitable[object]]) -> object:
        """One transition in one transaction, as a request runs it (the relay woken after commit)."""
        platform = self.platform
        self.tracer.kind = kind
        began = time.perf_counter()
        async with platform.db.transaction(tenant) as session:
            ctx = TenantContext(tenant, session, actor, platform.registry, platform.policy, platform.calendar,
                                platform.time)
            result = await step(ctx)
        platform.committed(tenant)
        took = time.perf_counter() - began
        times[kind].append(took)
        self.tracer.transaction_done(kind, took)
        return result

    async def phase(self) -> None:
        if self.between is not None:
            await self.between()

    async def deliver(self, times: dict[str, list[float]], kind: str, source: str, target: str) -> None:
        """Hand the unsent events of ``source`` to ``target``'s inbox, in order, as the consumer does."""
        await self.phase()
        rows = await self.raw.fetch(f'SELECT id, body FROM "tenant_{source}".outbox WHERE sent_at IS NULL'
                                    " ORDER BY created_at, seq")
        self.tracer.kind = kind
        for row in rows:
            body = self.platform.relay.signed(row["body"].encode())  # as the relay publishes it
            began = time.perf_counter()
            outcome = await self.platform.inbox.receive(target, body)
            took = time.perf_counter() - began
            assert outcome == "applied", f"{kind}: event {row['id']} was {outcome}"
            times[kind].append(took)
            self.tracer.transaction_done(kind, took)
        await self.raw.execute(f'UPDATE "tenant_{source}".outbox SET sent_at = now() WHERE id = ANY($1::text[])',
                               [r["id"] for r in rows])

    async def issue(self, times: dict[str, list[float]], items: int) -> list[str]:
        """``items`` items through 立项 → 交办 at the city, delivered to the county; their assignment ids."""
        ids: list[str] = []
        await self.phase()
        for _ in range(items):
            self.serial += 1
            plan = ItemCreate(title=f"推进重点项目建设 {self.serial}", source_kind="instruction", division="督查一处",
                              group="mayor", deadline=date(2026, 12, 31), units=[UnitPlan(COUNTY, "lead")],
                              source={"leader": "市长", "instruction_text": "请抓紧推进，按期完成。",
                                      "instructed_on": "2026-10-30"},
                              content="加快征地拆迁和配套道路建设。", requirements="每周反馈一次进展。")
            item = await self.transition(times, "create", CITY, self.inspector,
                                         lambda ctx, plan=plan: service.create_item(ctx, plan))
            ids.append(item.id)
        await self.phase()
        for item_id in ids:
            await self.transition(times, "submit", CITY, self.inspector,
                                  lambda ctx, i=item_id: service.submit(ctx, i))
        await self.phase()
        for item_id in ids:
            await self.transition(times, "approve", CITY, self.approver,
                                  lambda ctx, i=item_id: service.approve(ctx, i))
        assignments: list[str] = []
        await self.phase()
        for item_id in ids:
            _, made = await self.transition(times, "assign", CITY, self.inspector,
                                            lambda ctx, i=item_id: service.assign(ctx, i))
            assignments += [a.id for a in made]
        await self.deliver(times, "receive@county", CITY, COUNTY)
        return assignments

    async def answer(self, times: dict[str, list[float]], assignments: list[str]) -> None:
        """签收 → 反馈 → 办结申请 of each assignment at the county, delivered back to the city."""
        await self.phase()
        for aid in assignments:
            await self.transition(times, "accept", COUNTY, self.handler, lambda ctx, a=aid: service.accept(ctx, a))
        feedback = FeedbackCreate(text="已完成征地拆迁 60%，配套道路开工。", kind="progress")
        await self.phase()
        for aid in assignments:
            await self.transition(times, "feedback", COUNTY, self.handler,
                                  lambda ctx, a=aid: service.add_feedback(ctx, a, feedback))
        await self.phase()
        for aid in assignments:
            await self.transition(times, "request_completion", COUNTY, self.chief,
                                  lambda ctx, a=aid: service.request_completion(ctx, a, "已按要求办结。"))
        await self.deliver(times, "receive@city", COUNTY, CITY)

    async def life(self, items: int) -> dict[str, list[float]]:
        """``items`` items through 立项 → 交办 at the city and 签收 → 反馈 → 办结申请 at the county."""
        times: dict[str, list[float]] = defaultdict(list)
        await self.answer(times, await self.issue(times, items))
        return times

    async def floor(self, n: int) -> tuple[float, float, float, float]:
        """ms per 签收 written by hand with asyncpg on the county's tables, the same rows as accept()
        writes: as 5 statements in BEGIN … COMMIT, and as one statement; ms per platform accept; and ms
        per single history row through the platform's session (the raw baseline's work, via the ORM)."""
        assignments = await self.issue(defaultdict(list), 3 * n)
        conn = self.floor_conn
        by = self.handler.ref

        def body(aid: str, item_ref: str, assigner: str) -> str:
            envelope = Envelope(id=new_id(), kind="assignment.accepted", from_tenant=COUNTY, to_tenant=assigner,
                                item_ref=item_ref, seq=0, occurred_at=NOW, actor=by,
                                payload=msgspec.to_builtins(AssignmentAccepted(aid, NOW, by)))
            return encode(envelope).decode()

        began = time.perf_counter()
        for aid in assignments[:n]:
            async with conn.transaction():
                a = await conn.fetchrow(FLOOR_ASSIGNMENT, aid, NOW, by)
                await conn.execute(FLOOR_HISTORY, a["item_ref"], aid, by, NOW)
                await conn.execute(FLOOR_CLOCK, aid, NOW, NOW.date())
                seq = await conn.fetchval(FLOOR_COUNTER, f"outbox_seq:{a['assigner']}:{a['item_ref']}")
                text = body(aid, a["item_ref"], a["assigner"]).replace('"seq":0', f'"seq":{seq}')
                await conn.execute(FLOOR_OUTBOX, new_id(), a["assigner"], a["item_ref"], seq, text, NOW)
        statements = (time.perf_counter() - began) / n
        began = time.perf_counter()
        for aid in assignments[n:2 * n]:
            a = await conn.fetchrow("SELECT item_ref, assigner FROM assignments WHERE id = $1", aid)
            await conn.execute(FLOOR_ONE, aid, NOW, by, NOW.date(), new_id(), body(aid, a["item_ref"], a["assigner"]))
        # (the SELECT gives the event body its item and assigner; it is timed with the statement)
        one = (time.perf_counter() - began) / n
        times: dict[str, list[float]] = defaultdict(list)
        for aid in assignments[2 * n:]:
            await self.transition(times, "accept", COUNTY, self.handler, lambda ctx, a=aid: service.accept(ctx, a))
        written = await conn.fetchval("SELECT count(*) FROM outbox o JOIN assignments a ON a.item_ref = o.item_ref"
                                      " WHERE o.kind = 'assignment.accepted' AND a.id = ANY($1::text[])", assignments)
        recorded = await conn.fetchval("SELECT count(*) FROM history WHERE action = 'accept' AND"
                                       " assignment_id = ANY($1::text[])", assignments)
        met = await conn.fetchval("SELECT count(*) FROM clocks WHERE kind = 'accept' AND state = 'met' AND"
                                  " assignment_id = ANY($1::text[])", assignments)
        assert written == recorded == met == 3 * n, \
            f"{written} events, {recorded} history rows, {met} clocks met; expected {3 * n} of each"
        began = time.perf_counter()
        for aid in assignments[:n]:
            async with self.platform.db.transaction(COUNTY) as session:
                session.add(HistoryEntry(item_ref=f"city/{aid}", assignment_id=aid, action="bench", actor=by,
                                         from_state=None, to_state=None, at=NOW))
        orm_row = (time.perf_counter() - began) / n
        return statements * 1000, one * 1000, statistics.mean(times["accept"]) * 1000, orm_row * 1000

    async def round(self, items: int, raw: int) -> dict[str, float]:
        """One round: rates per second of raw commits and of each kind of transition."""
        chunk = max(raw // 10, 1)
        spent, done = 0.0, 0

        async def between() -> None:  # the raw commits in slices between the phases: the same noise for both
            nonlocal spent, done
            spent += await self.raw_commits(chunk)
            done += chunk

        self.between = between
        try:
            times = await self.life(items)
            await between()
        finally:
            self.between = None
        rates = {"raw": done / spent}
        for kind, took in times.items():
            rates[kind] = len(took) / sum(took)
        for group, kinds in (("item", ITEM_KINDS), ("assignment", ASSIGNMENT_KINDS),
                             ("all", ITEM_KINDS + ASSIGNMENT_KINDS)):
            rates[group] = sum(len(times[k]) for k in kinds) / sum(sum(times[k]) for k in kinds)
        return rates


def report(rounds: list[dict[str, float]], args: argparse.Namespace) -> bool:
    print(f"\nOne transaction at a time on one connection; {args.rounds} rounds of {args.items} items "
          f"and {args.raw} raw commits each; median per second over the rounds; ratio = median of the "
          "rounds' rate / raw rate")
    raw = statistics.median(r["raw"] for r in rounds)
    print(f"{'raw asyncpg INSERT + COMMIT':<36}: {raw:8,.0f} /s  ({1000 / raw:6.2f} ms each)")

    def line(label: str, kind: str) -> float:
        rate = statistics.median(r[kind] for r in rounds)
        ratio = statistics.median(r[kind] / r["raw"] for r in rounds)
        print(f"{label:<36}: {rate:8,.0f} /s  ({1000 / rate:6.2f} ms each)   x{ratio:.3f} of raw")
        return ratio

    for kind in ITEM_KINDS:
        line(f"  item: {kind}", kind)
    item = line("item transitions", "item")
    for kind in ASSIGNMENT_KINDS:
        line(f"  assignment: {kind}", kind)
    assignment = line("assignment transitions", "assignment")
    overall = line("all transitions", "all")
    for kind in RECEIVE_KINDS:
        line(f"  (not judged) inbox {kind}", kind)
    ok = True
    for label, ratio in (("item transitions", item), ("assignment transitions", assignment),
                         ("all transitions", overall)):
        print(f"{'PASS' if ratio >= 0.5 else 'FAIL'}: {label} ≥ 50% of the raw commit rate ({ratio:.1%})")
        ok = ok and ratio >= 0.5
    return ok


async def profile(bench: Bench, items: int, raw_rate: float) -> None:
    """Where a transition's time goes: its round trips, then the Python around them (cProfile)."""
    tracer = bench.tracer
    tracer.start()
    try:
        await bench.life(items)
    finally:
        tracer.stop()
    print(f"\nWhere the time goes ({items} more items traced; ms per transaction; raw INSERT + COMMIT = "
          f"{1000 / raw_rate:.2f} ms, 1 round trip):")
    print(f"{'kind':<20} {'total':>6} {'trips':>5} {'BEGIN':>6} {'stmts':>6} {'COMMIT':>6} {'DB all':>6} "
          f"{'rest':>6} {'rest %':>6}")
    for kind in ITEM_KINDS + ASSIGNMENT_KINDS + RECEIVE_KINDS:
        n = tracer.calls[kind]["total"]
        if not n:
            continue
        s = {k: v / n * 1000 for k, v in tracer.seconds[kind].items()}
        trips = sum(c for b, c in tracer.calls[kind].items() if b != "total") / n
        db = s.get("begin", 0) + s.get("statement", 0) + s.get("prepare", 0) + s.get("commit", 0)
        rest = s["total"] - db
        print(f"{kind:<20} {s['total']:6.2f} {trips:5.1f} {s.get('begin', 0):6.2f} "
              f"{s.get('statement', 0) + s.get('prepare', 0):6.2f} {s.get('commit', 0):6.2f} {db:6.2f} "
              f"{rest:6.2f} {rest / s['total']:6.0%}")
    print("  trips: BEGIN + statements + COMMIT per transaction; DB all: time awaiting asyncpg (network, server,"
          " fsync at COMMIT);\n  rest: Python around them (SQLAlchemy ORM, unit of work, compiling, the"
          " service code, the event loop)")
    print("Statements per transaction (one sample of each kind):")
    for kind in ITEM_KINDS + ASSIGNMENT_KINDS + RECEIVE_KINDS:
        if kind in tracer.statements:
            print(f"  {kind:<18} {len(tracer.statements[kind]):2d}: {'; '.join(tracer.statements[kind])}")

    statements, one, ours, orm_row = await bench.floor(max(items // 2, 20))
    print("\nWhat one transaction costs by construction (the accept rows written by hand with asyncpg on the county's"
          " tables):")
    print(f"  {'raw single-row INSERT + COMMIT (the baseline)':<58} {1000 / raw_rate:6.2f} ms   1 round trip")
    print(f"  {'one history row through the platform session (add, commit)':<58} {orm_row:6.2f} ms   3 round trips"
          f"   x{1000 / raw_rate / orm_row:.2f} of raw")
    print(f"  {'accept as 5 statements in BEGIN … COMMIT':<58} {statements:6.2f} ms   7 round trips"
          f"   at best x{1000 / raw_rate / statements:.2f} of raw")
    print(f"  {'accept as 1 statement (data-modifying CTEs) + its SELECT':<58} {one:6.2f} ms   2 round trips"
          f"   x{1000 / raw_rate / one:.2f} of raw")
    print(f"  {'items.service.accept in platform.db.transaction':<58} {ours:6.2f} ms   9 round trips"
          f"   x{1000 / raw_rate / ours:.2f} of raw")

    profiler = cProfile.Profile()
    profiler.enable()
    began = time.perf_counter()
    times = await bench.life(items)
    wall = time.perf_counter() - began
    profiler.disable()
    stats = pstats.Stats(profiler)
    inside = sum(sum(times[k]) for k in ITEM_KINDS + ASSIGNMENT_KINDS + RECEIVE_KINDS)
    groups: Counter = Counter()
    for (filename, _, function), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        groups[area(filename, function)] += tottime
    total = sum(groups.values())
    print(f"\ncProfile of {items} more items ({wall:.1f} s wall under the profiler, {inside / wall:.0%} inside "
          "transactions), own time by area:")
    for name, seconds in groups.most_common():
        print(f"  {name:<44} {seconds:7.2f} s  {seconds / total:6.1%}")
    print("Top functions by own time:")
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:20]  # type: ignore[attr-defined]
    for (filename, line, function), (_, calls, tottime, _, _) in rows:
        where = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        print(f"  {tottime:6.2f} s {calls:8d} calls  {function} ({where}:{line})")


def area(filename: str, function: str) -> str:
    if "epoll" in function:
        return "waiting for the database (epoll)"
    if "_socket.socket" in function:
        return "socket send/recv"
    for marker, name in (("sqlalchemy/orm", "SQLAlchemy ORM (session, unit of work)"),
                         ("sqlalchemy/engine", "SQLAlchemy engine (execute, results)"),
                         ("sqlalchemy/sql", "SQLAlchemy SQL (statements, compile cache)"),
                         ("sqlalchemy/dialects", "SQLAlchemy asyncpg dialect"),
                         ("sqlalchemy/util", "SQLAlchemy util (greenlet bridge)"),
                         ("sqlalchemy", "SQLAlchemy other"), ("asyncpg", "asyncpg"), ("greenlet", "greenlet"),
                         ("duban", "duban (service code)"), ("bench/", "this bench's driver"),
                         ("msgspec", "msgspec"), ("asyncio", "asyncio event loop")):
        if marker in filename:
            return name
    if filename == "~":
        return "C builtins (dict, str, greenlet switch, …)"
    return "other Python"


async def run(args: argparse.Namespace) -> int:
    async with bench_platform(args.database_url, NOW) as (platform, name):
        raw: asyncpg.Connection | None = None
        floor_conn: asyncpg.Connection | None = None
        try:
            raw = await asyncpg.connect(asyncpg_dsn(args.database_url, name))
            # A scratch table shaped like a history row: the same kind of single-row write, alone.
            await raw.execute("CREATE TABLE bench_raw (id serial PRIMARY KEY, item_ref varchar(80) NOT NULL,"
                              " action varchar(40) NOT NULL, actor varchar(100) NOT NULL, note text,"
                              " at timestamptz NOT NULL)")
            floor_conn = await asyncpg.connect(asyncpg_dsn(args.database_url, name))
            await floor_conn.execute(f'SET search_path TO "tenant_{COUNTY}"')
            bench = Bench(platform, raw, floor_conn, Tracer())
            await bench.round(max(args.items // 4, 10), args.raw // 4)  # warm-up
            rounds = []
            for n in range(args.rounds):
                rounds.append(await bench.round(args.items, args.raw))
                say(f"round {n + 1}: raw {rounds[-1]['raw']:,.0f}/s, transitions {rounds[-1]['all']:,.0f}/s "
                    f"(x{rounds[-1]['all'] / rounds[-1]['raw']:.3f})")
            ok = report(rounds, args)
            if not ok or args.profile:
                await profile(bench, max(args.items // 2, 20), statistics.median(r["raw"] for r in rounds))
            return 0 if ok else 1
        finally:
            for conn in (raw, floor_conn):
                if conn is not None:
                    await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200, help="items taken through their life per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--raw", type=int, default=2000, help="raw single-row commits per round")
    parser.add_argument("--profile", action="store_true", help="trace and profile even if the ratio passes")
    parser.add_argument("--database-url", default=os.environ.get("DUBAN_TEST_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    began = time.perf_counter()
    code = asyncio.run(run(args))
    print(f"whole run: {time.perf_counter() - began:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
