"""The 催办 scheduler: a named, tenant-aware job. It runs inside every node by default
(``DUBAN_RUN_JOBS``), or alone as ``duban worker``.

Every ``reminder_scan_seconds`` it scans each hosted tenant — only inside that tenant's working hours
(the registry's ``working_hours`` on statutory working days; what falls outside waits for the next
opening) — one batch per transaction until nothing due is left."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, time
from typing import TYPE_CHECKING

from duban.context import EventContext
from duban.errors import DubanError
from duban.reminders.service import scan
from duban.timesource import CHINA

if TYPE_CHECKING:
    from duban.platform import Platform

log = logging.getLogger("duban.reminders")
BATCH = 200


def within_hours(now: datetime, hours: str, calendar) -> bool:  # noqa: ANN001
    """Is ``now`` inside ``hours`` ("08:30-17:30", China time) on a statutory working day? A day the
    calendar cannot tell about is not taken as a working day."""
    local = now.astimezone(CHINA)
    start, _, end = hours.partition("-")
    try:
        if not calendar.is_workday(local.date()):
            return False
    except DubanError:
        return False
    return time.fromisoformat(start) <= local.time().replace(tzinfo=None) < time.fromisoformat(end)


class ReminderJob:
    """Scans the hosted tenants for due 催办 steps."""

    name = "reminders"

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def run_once(self, tenant: str) -> int:
        """Send everything due now in one tenant (nothing outside its working hours); returns how many."""
        platform = self.platform
        entry = platform.registry.get(tenant)
        if not within_hours(platform.time.now(), entry.working_hours if entry else "08:30-17:30", platform.calendar):
            return 0
        total = 0
        while True:
            async with platform.db.transaction(tenant) as session:
                ctx = EventContext(tenant, session, platform.registry, platform.calendar, platform.time)
                sent, examined = await scan(ctx, BATCH)
            total += sent
            if sent:
                platform.committed(tenant)
            if examined < BATCH:
                return total

    async def run(self) -> None:
        """Forever: scan every hosted tenant, then wait ``reminder_scan_seconds``."""
        while True:
            for tenant in self.platform.tenants:
                try:
                    sent = await self.run_once(tenant)
                    if sent:
                        log.info("催办 %s: %s reminders sent", tenant, sent)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("催办 scan of %s failed; the next scan retries", tenant)
            with contextlib.suppress(TimeoutError):
                await asyncio.sleep(self.platform.settings.reminder_scan_seconds)
