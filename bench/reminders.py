"""Does the 催办 scan read only what is due, however many open assignments a tenant holds?

Makes a PostgreSQL database of its own (dropped afterwards, also on failure), migrates a city and a county
tenant, and fills the city with N open assignments it issued to the county, each with one open deadline
clock whose next 催办 day is weeks to years away (not due). N grows 10k → 100k → 1M (``--sizes``), bulk
loaded with INSERT … SELECT generate_series, then VACUUM ANALYZE. Beside them stand ``--due`` (100)
assignments whose clock is due today (due 2026-10-13, so step before:3 applies on 2026-10-09).

At each size, on a platform whose clock stands at Friday 2026-10-09 09:00 (a working day, inside working
hours), it times:
  scan      one whole ReminderJob.run_once("city"): finds the due clocks, sends exactly D reminders
            (reminder + history + outbox rows, clocks moved on) and commits; repeated ``--repeats`` times,
            the due clocks reset in between (their reminders and outbox rows deleted; history is
            append-only, its few rows stay)
  empty     run_once with nothing due
  query     the due-clocks query alone (ReminderRepository.due_clocks) with nothing due
The baseline is the smallest size, measured in the same run: the scan's time there is the cost of the D
reminders themselves; what a larger N adds on top is what the scan reads of the clocks that are not due.
Prints medians, minimums and the ratio to the smallest size, PASS/FAIL for "≤ 1 s at the largest size"
and "largest/smallest ≤ 2", and the plan of the due-clocks query at the largest size (as executed, and
the generic plan PostgreSQL may switch a cached prepared statement to), with whether it uses the index
ix_clocks_state_next_reminder_on.
Run: .venv/bin/python bench/reminders.py [--sizes 10000,100000,1000000] [--due 100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import date, datetime

import asyncpg
from benchdb import CITY, DEFAULT_URL, asyncpg_dsn, bench_platform  # bench/benchdb.py, beside this script
from sqlalchemy import event
from sqlalchemy.engine import Engine

from duban.platform import Platform
from duban.reminders.repository import ReminderRepository
from duban.timesource import CHINA

NOW = datetime(2026, 10, 9, 9, 0, tzinfo=CHINA)  # Friday, a working day; 09:00 is inside 08:30-17:30
TODAY = NOW.date()
DUE = date(2026, 10, 13)  # before:3 of 10-13 is 10-09 (Saturday 10-10 is a 调休 working day)
NOT_DUE_FROM = date(2026, 11, 2)  # the not-due clocks fall due from here over ~2.5 years
ASSIGNED_AT = datetime(2026, 9, 28, 9, 0, tzinfo=CHINA)
CHUNK = 100_000  # rows per INSERT … SELECT

# One row per n of generate_series($2, $3 - 1); $1 the id prefix ('n' not due, 'd' due), $4 the first due
# date, $5 how many days the due dates spread over; $6 the time of 交办 (items, assignments), or how many
# days before its due date a clock's next 催办 day is (clocks). Ids are uuid-shaped md5s of (prefix, table,
# n): random, like uuid4.
ITEMS_SQL = """
INSERT INTO items (id, serial, title, content, requirements, source_kind, source, division, group_code, deadline,
                   progress_reports, units, confidentiality, retention, state, reject_reason, parent_ref, archive,
                   created_by, created_at, updated_at)
SELECT md5($1 || ':item:' || n)::uuid::text, upper($1) || '-' || n, '督查事项 ' || n, '加快推进，按期办结。',
       '每月反馈一次进展。', 'instruction',
       '{"leader": "市长", "instruction_text": "请抓紧推进，按期完成。", "instructed_on": "2026-09-25"}',
       '督查一处', 'mayor', $4::date + (n % $5)::int, NULL, '[{"unit": "qingjiangpu", "role": "lead"}]',
       'internal', '30y', CASE WHEN n % 3 = 0 THEN 'assigned' ELSE 'in_progress' END, NULL, NULL, NULL,
       'city/inspector', $6::timestamptz, $6::timestamptz
FROM generate_series($2::bigint, $3::bigint - 1) AS n
"""
ASSIGNMENTS_SQL = """
INSERT INTO assignments (id, item_ref, item_id, assigner, unit, role, serial, title, content, requirements,
                         source_kind, deadline, state, note, assigned_at, accepted_at, accepted_by, updated_at,
                         leader_in_charge)
SELECT md5($1 || ':assignment:' || n)::uuid::text, 'city/' || md5($1 || ':item:' || n)::uuid::text,
       md5($1 || ':item:' || n)::uuid::text, 'city', 'qingjiangpu', 'lead', upper($1) || '-' || n,
       '督查事项 ' || n, '加快推进，按期办结。', '每月反馈一次进展。', 'instruction', $4::date + (n % $5)::int,
       CASE n % 3 WHEN 0 THEN 'issued' WHEN 1 THEN 'accepted' ELSE 'in_progress' END, NULL, $6::timestamptz,
       CASE WHEN n % 3 = 0 THEN NULL ELSE $6::timestamptz + interval '1 hour' END,
       CASE WHEN n % 3 = 0 THEN NULL ELSE 'qingjiangpu/handler' END, $6::timestamptz, NULL
FROM generate_series($2::bigint, $3::bigint - 1) AS n
"""
CLOCKS_SQL = """
INSERT INTO clocks (id, assignment_id, kind, seq, rule, due, original_due, state, met_at, on_time, late_workdays,
                    next_reminder_on)
SELECT md5($1 || ':clock:' || n)::uuid::text, md5($1 || ':assignment:' || n)::uuid::text, 'completion', 1,
       'deadline', $4::date + (n % $5)::int, $4::date + (n % $5)::int, 'open', NULL, NULL, NULL,
       $4::date + (n % $5)::int - $6::int
FROM generate_series($2::bigint, $3::bigint - 1) AS n
"""


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def fill(conn: asyncpg.Connection, prefix: str, lo: int, hi: int, first_due: date, spread: int,
               lead: int) -> None:
    """Assignments lo..hi-1 (with their items and one open clock each) in the city's tables."""
    for start in range(lo, hi, CHUNK):
        end = min(hi, start + CHUNK)
        async with conn.transaction():
            for sql, last in ((ITEMS_SQL, ASSIGNED_AT), (ASSIGNMENTS_SQL, ASSIGNED_AT), (CLOCKS_SQL, lead)):
                await conn.execute(sql, prefix, start, end, first_due, spread, last)
        if hi - lo > CHUNK:
            say(f"    loaded {end:,} / {hi:,}")


def median_min(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), min(times)


class Bench:
    def __init__(self, platform: Platform, conn: asyncpg.Connection, due: int) -> None:
        self.platform, self.conn, self.due = platform, conn, due
        self.due_clocks: list[str] = []
        self.due_refs: list[str] = []

    async def add_due(self) -> None:
        await fill(self.conn, "d", 0, self.due, DUE, 1, (DUE - TODAY).days)
        rows = await self.conn.fetch("SELECT c.id, a.item_ref FROM clocks c JOIN assignments a"
                                     " ON a.id = c.assignment_id WHERE a.serial LIKE 'D-%'")
        self.due_clocks, self.due_refs = [r["id"] for r in rows], [r["item_ref"] for r in rows]
        assert len(self.due_clocks) == self.due

    async def reset(self) -> None:
        """The due clocks due again: their reminders and events gone, their next 催办 day today."""
        async with self.conn.transaction():
            await self.conn.execute("DELETE FROM reminders WHERE clock_id = ANY($1::text[])", self.due_clocks)
            await self.conn.execute("DELETE FROM outbox WHERE item_ref = ANY($1::text[])", self.due_refs)
            await self.conn.execute("UPDATE clocks SET next_reminder_on = $2 WHERE id = ANY($1::text[])",
                                    self.due_clocks, TODAY)

    async def scan(self) -> float:
        """One whole run_once with the D clocks due; checks that exactly D reminders went out."""
        await self.reset()
        start = time.perf_counter()
        sent = await self.platform.reminders.run_once(CITY)
        took = time.perf_counter() - start
        assert sent == self.due, f"sent {sent} reminders, expected {self.due}"
        stored = await self.conn.fetchval("SELECT count(*) FROM reminders WHERE clock_id = ANY($1::text[])"
                                          " AND step = 'before:3'", self.due_clocks)
        events = await self.conn.fetchval("SELECT count(*) FROM outbox WHERE item_ref = ANY($1::text[])"
                                          " AND kind = 'reminder.sent'", self.due_refs)
        assert stored == events == self.due, f"{stored} reminders and {events} events stored, expected {self.due}"
        return took

    async def empty(self) -> float:
        start = time.perf_counter()
        sent = await self.platform.reminders.run_once(CITY)
        took = time.perf_counter() - start
        assert sent == 0, f"sent {sent} with nothing due"
        return took

    async def query(self) -> float:
        async with self.platform.db.transaction(CITY) as session:
            start = time.perf_counter()
            found = await ReminderRepository(session, CITY).due_clocks(TODAY, 200)
            took = time.perf_counter() - start
        assert not found, f"{len(found)} clocks due, expected none"
        return took

    async def measure(self, repeats: int) -> dict[str, list[float]]:
        await self.scan()  # warm-up: connections, prepared statements, caches
        result = {"scan": [await self.scan() for _ in range(repeats)]}
        result["empty"] = [await self.empty() for _ in range(max(repeats, 10))]
        result["query"] = [await self.query() for _ in range(max(repeats, 20))]
        return result

    async def captured_query(self) -> tuple[str, tuple]:
        """The due-clocks statement exactly as the platform sends it, with its parameters."""
        seen: list[tuple[str, tuple]] = []

        def capture(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
            if "FOR UPDATE" in statement and "clocks" in statement:
                seen.append((statement, tuple(parameters)))

        event.listen(Engine, "before_cursor_execute", capture)
        try:
            await self.query()
        finally:
            event.remove(Engine, "before_cursor_execute", capture)
        assert seen, "the due-clocks query was not seen"
        return seen[0]

    async def explain(self) -> None:
        statement, params = await self.captured_query()
        await self.reset()  # D clocks due, so the plan shows them found
        shown = statement[statement.index("FROM"):]
        print(f"\nThe due-clocks query at the largest size, {self.due} due: SELECT … {shown}")
        tr = self.conn.transaction()
        await tr.start()
        try:
            plan = [r[0] for r in await self.conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *params)]
            await self.conn.execute(f"PREPARE due_scan AS {statement}")
            await self.conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            generic = [r[0] for r in await self.conn.fetch(
                f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE due_scan({', '.join(literal(p) for p in params)})")]
        finally:
            await tr.rollback()
            await self.conn.execute("DEALLOCATE ALL")
        for name, lines in (("as executed (custom plan)", plan), ("generic plan (a cached prepared statement)",
                                                                   generic)):
            print(f"  {name}:")
            for line in lines:
                print(f"    {line}")
            uses = any("ix_clocks_state_next_reminder_on" in line for line in lines)
            print(f"  -> uses ix_clocks_state_next_reminder_on: {'YES' if uses else 'NO'}")
        # The scan moved the clocks on inside the rolled-back transaction only: they are due again.
        await self.platform.reminders.run_once(CITY)


def literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, date):
        return f"'{value.isoformat()}'::date"
    return str(value)


async def run(args: argparse.Namespace) -> int:
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    async with bench_platform(args.database_url, NOW) as (platform, name):
        conn = await asyncpg.connect(asyncpg_dsn(args.database_url, name))
        try:
            await conn.execute(f'SET search_path TO "tenant_{CITY}"')
            bench = Bench(platform, conn, args.due)
            await bench.add_due()
            results: dict[int, dict[str, list[float]]] = {}
            loaded = 0
            for size in sizes:
                start = time.perf_counter()
                await fill(conn, "n", loaded, size, NOT_DUE_FROM, 900, 7)
                loaded = size
                await conn.execute("VACUUM (ANALYZE) items, assignments, clocks")
                say(f"{size:,} open assignments not due (+{args.due} due): loaded in "
                    f"{time.perf_counter() - start:.1f} s")
                results[size] = await bench.measure(args.repeats)
                scan_med, scan_min = median_min(results[size]["scan"])
                say(f"  scan median {scan_med * 1000:.1f} ms, min {scan_min * 1000:.1f} ms")
            await bench.explain()
            return report(sizes, results, args)
        finally:
            await conn.close()


def report(sizes: list[int], results: dict[int, dict[str, list[float]]], args: argparse.Namespace) -> int:
    base, top = sizes[0], sizes[-1]
    print(f"\n催办 scan of tenant city: N open assignments not due + {args.due} due; "
          f"{args.repeats} timed scans per size (median, min); ratio = median / median at {base:,}")
    print(f"{'open assignments':>17} | {'scan, ' + str(args.due) + ' sent':>25} | {'ratio':>5} | "
          f"{'empty scan':>10} | {'ratio':>5} | {'query alone':>11} | {'ratio':>5}")
    medians = {s: {k: statistics.median(v) for k, v in results[s].items()} for s in sizes}
    for s in sizes:
        m, scan_min = medians[s], min(results[s]["scan"])
        print(f"{s:>17,} | {m['scan'] * 1000:9.1f} ms ({scan_min * 1000:7.1f} min) | "
              f"{m['scan'] / medians[base]['scan']:5.2f} | {m['empty'] * 1000:7.2f} ms | "
              f"{m['empty'] / medians[base]['empty']:5.2f} | {m['query'] * 1000:8.2f} ms | "
              f"{m['query'] / medians[base]['query']:5.2f}")
    per = medians[top]["scan"] / args.due * 1000
    print(f"per reminder sent at {top:,}: {per:.2f} ms (reminder, history and outbox rows, the clock moved on)")
    fast = medians[top]["scan"] <= 1.0
    flat = medians[top]["scan"] / medians[base]["scan"] <= 2.0
    print(f"{'PASS' if fast else 'FAIL'}: scan at {top:,} open assignments ≤ 1 s "
          f"({medians[top]['scan'] * 1000:.0f} ms)")
    print(f"{'PASS' if flat else 'FAIL'}: scan time at {top:,} / at {base:,} ≤ 2 "
          f"({medians[top]['scan'] / medians[base]['scan']:.2f})")
    return 0 if fast and flat else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="open assignments not due, ascending")
    parser.add_argument("--due", type=int, default=100, help="clocks due at each scan")
    parser.add_argument("--repeats", type=int, default=5, help="timed scans per size")
    parser.add_argument("--database-url", default=os.environ.get("DUBAN_TEST_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    began = time.perf_counter()
    code = asyncio.run(run(args))
    print(f"whole run: {time.perf_counter() - began:.0f} s")
    return code


if __name__ == "__main__":
    sys.exit(main())
