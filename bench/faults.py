"""Are events between two tenant nodes applied exactly once and in order while the nodes crash?

Starts its own nats-server and weed mini, makes a PostgreSQL database of its own (dropped afterwards),
and runs a city node and a county node (`duban serve`). ``--workers`` walk ``--items`` items through the
whole path over HTTP while a node (or NATS) from ``--targets`` is SIGKILLed and restarted every 1..6
successful actions, ``--kills`` times. Then both tenants' tables are checked in PostgreSQL. Prints the
kills, the driver's actions and longest stall, events applied, redeliveries absorbed, parked, conflict
and rejected events, unsent outbox rows, state mismatches, and how long a restarted node takes to see
its first redelivery. Exits 1 if any check failed (the run's logs are then kept).
Run: .venv/bin/python bench/faults.py --kills 400 --items 300 --workers 8 --targets county,city [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from faults import TARGETS, FaultPlan, run_faults  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=400)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--targets", default="county,city", help=f"killed in turn, some of {','.join(TARGETS)}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds the whole flow may take")
    parser.add_argument("--database-url", default=os.environ.get(
        "DUBAN_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    plan = FaultPlan(items=args.items, workers=args.workers, kills=args.kills, seed=args.seed,
                     targets=tuple(t.strip() for t in args.targets.split(",") if t.strip()), timeout=args.timeout)
    workdir = Path(tempfile.mkdtemp(prefix="duban-faults-"))
    began = time.monotonic()

    def progress(line: str) -> None:
        print(f"[{time.monotonic() - began:7.1f} s] {line}", file=sys.stderr, flush=True)

    result = asyncio.run(run_faults(plan, database_url=args.database_url, workdir=workdir, progress=progress))
    print(result.report())
    if result.failures():
        print(f"logs kept in {workdir}", file=sys.stderr)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
