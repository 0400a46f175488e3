"""The periodic report of every hosted tenant's figures (only what changed is sent)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from duban.figures.service import report

if TYPE_CHECKING:
    from duban.platform import Platform

log = logging.getLogger("duban.figures")


class FiguresJob:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def run_once(self, tenant: str) -> bool:
        platform = self.platform
        async with platform.db.transaction(tenant) as session:
            sent = await report(session, tenant, platform.registry, platform.time.now(), platform.time.today(),
                                f"{tenant}/system")
        if sent:
            platform.committed(tenant)
        return sent

    async def run(self) -> None:
        """Forever: report every hosted tenant, then wait ``figures_report_minutes``."""
        while True:
            for tenant in self.platform.tenants:
                try:
                    await self.run_once(tenant)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("figures of %s could not be reported; the next round retries", tenant)
            with contextlib.suppress(TimeoutError):
                await asyncio.sleep(self.platform.settings.figures_report_minutes * 60)
