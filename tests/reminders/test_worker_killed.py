"""`duban worker` killed (SIGKILL) in the middle of a 催办 scan and started again: every due step goes
out exactly once — one reminder row and one event per clock, none lost, none doubled."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from duban.db.base import new_id
from duban.deadlines.models import OPEN, Clock
from duban.events.models import OutboxEvent
from duban.items.models import Assignment, Item
from duban.reminders.models import Reminder
from duban.timesource import CHINA
from helpers import DUBAN, duban_env, eventually

CLOCKS = 1500  # several scan batches (200 each), so the kill lands between two of them
DUE = date(2026, 10, 13)  # a 批示件 due after 国庆: its before:3 step is on 10-09


async def _due_clocks(platform, n: int) -> None:
    """``n`` assignments issued by the city to the county, each with a feedback clock due on DUE."""
    now = datetime(2026, 9, 28, 9, tzinfo=CHINA)
    async with platform.db.transaction("city") as session:
        for i in range(n):
            item = Item(id=new_id(), title=f"批量事项{i}", source_kind="instruction", source={}, division="督查一处",
                        group_code="mayor", deadline=date(2026, 12, 31), units=[], state="assigned",
                        created_by="city/inspector")
            a = Assignment(id=new_id(), item_ref=f"city/{item.id}", item_id=item.id, assigner="city",
                           unit="qingjiangpu", role="lead", title=item.title, source_kind="instruction",
                           deadline=item.deadline, state="accepted", assigned_at=now)
            session.add(item)
            await session.flush()
            session.add(a)
            await session.flush()
            session.add(Clock(id=new_id(), assignment_id=a.id, kind="feedback", seq=1, rule="workdays:7", due=DUE,
                              original_due=DUE, state=OPEN, next_reminder_on=DUE - timedelta(days=4)))


async def _sent(platform) -> int:
    """Reminders committed so far, read without waiting for the worker (on SQLite a plain reader beside
    the worker's write lock; the platform's own transactions would queue behind it)."""
    if platform.db.is_sqlite:
        with sqlite3.connect(platform.db.sqlite_path("city")) as conn:
            return conn.execute("SELECT count(*) FROM reminders").fetchone()[0]
    return await _count(platform, Reminder)


async def _count(platform, model, *where) -> int:
    async with platform.db.transaction("city") as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_no_reminder_is_lost_or_doubled_when_the_worker_is_killed_mid_scan(platform, settings, tmp_path):
    await _due_clocks(platform, CLOCKS)
    env = duban_env(settings, DUBAN_HOSTED_TENANTS="city", DUBAN_NATS_URL=settings.nats_url,
                    DUBAN_S3_ENDPOINT=settings.s3_endpoint, DUBAN_FIXED_TIME="2026-10-09T09:00:00+08:00")
    log = (tmp_path / "worker.log").open("wb")

    def start() -> subprocess.Popen:
        return subprocess.Popen([str(DUBAN), "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)

    worker = start()
    try:
        async def some_sent():
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            return await _sent(platform) > 0

        await eventually(some_sent, within=60, what="the first batch of reminders")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        at_kill = await _sent(platform)
        assert 0 < at_kill < CLOCKS, f"the kill should land mid-scan ({at_kill} of {CLOCKS} sent)"

        worker = start()

        async def all_sent():
            return await _sent(platform) == CLOCKS

        await eventually(all_sent, within=120, what="the rest after the restart")
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
            log.close()

    assert await _count(platform, Reminder, Reminder.step == "before:3") == CLOCKS
    async with platform.db.transaction("city") as session:
        rows = (await session.execute(select(Reminder.clock_id, func.count()).group_by(Reminder.clock_id))).all()
    assert len(rows) == CLOCKS and {n for _, n in rows} == {1}
    assert await _count(platform, OutboxEvent, OutboxEvent.kind == "reminder.sent") == CLOCKS
    assert await _count(platform, Clock, Clock.next_reminder_on == date(2026, 10, 12)) == CLOCKS  # before:1 next
