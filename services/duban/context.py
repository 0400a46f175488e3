"""The unit of work one request or one event runs in: one tenant, one session, one actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from duban.policy.policy import Actor, Policy
from duban.tenancy.registry import Registry

CHINA = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today's date in China (deadlines are calendar dates there)."""
    return datetime.now(CHINA).date()


@dataclass
class TenantContext:
    tenant: str
    session: AsyncSession
    actor: Actor
    registry: Registry
    policy: Policy
