"""Events between two tenant nodes are applied exactly once and in order while the nodes are SIGKILLed:
80 items walk the whole path across a city node and a county node (`duban serve` processes on one
PostgreSQL database) while the two are killed and restarted, in turn, every 1..6 successful actions
(harness: tests/faults.py)."""

from __future__ import annotations

import os

import pytest

import faults

PG_URL = os.environ.get("DUBAN_TEST_DATABASE_URL", "")
KILLS = 30


@pytest.mark.skipif(not PG_URL, reason="set DUBAN_TEST_DATABASE_URL=postgresql+asyncpg://... (the nodes share "
                                       "one PostgreSQL database)")
async def test_events_cross_exactly_once_and_in_order_while_nodes_are_killed(tmp_path, nats_server_factory, s3_server):
    # 80 items (9 actions each), not 60: the 30 kills take about 440 actions here (the other node works on
    # while one restarts), and the flow must not end before the last kill. About 50 s on 2 cores.
    plan = faults.FaultPlan(items=80, workers=8, kills=KILLS, targets=("county", "city"), seed=20261127,
                            timeout=150.0, stuck_after=45.0)
    nats = nats_server_factory(users=faults.NODE_USERS)  # each node logs in as itself
    result = await faults.run_faults(plan, database_url=PG_URL, workdir=tmp_path, nats=nats, s3=s3_server)
    report = result.report()
    print("\n" + report)

    assert sum(result.kills.values()) >= KILLS and result.kills["county"] and result.kills["city"], report
    assert result.finished == plan.items and not result.timed_out, report
    assert not result.mismatches, report
    assert result.total("rejected") == 0, report
    assert result.total("conflict") == 0, report
    assert result.total("parked") == 0, report
    assert sum(result.unsent.values()) == 0, report
    assert sum(result.lost.values()) == 0 and sum(result.out_of_order.values()) == 0, report
    assert not result.node_exits, report
