"""The unit of work one request or one event runs in: one tenant, one session, one actor (or the event's
sender), and the node's calendar and time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from duban.policy.policy import Actor, Policy
from duban.tenancy.registry import Registry
from duban.timesource import SystemTime

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
    calendar: Any = None  # the node's WorkCalendar (statutory working days)
    time: SystemTime = field(default_factory=SystemTime)


@dataclass
class EventContext:
    """What an incoming event's handler works with (no actor: the event names its own)."""

    tenant: str
    session: AsyncSession
    registry: Registry
    calendar: Any = None
    time: SystemTime = field(default_factory=SystemTime)
    attachments: Any = None  # the node's AttachmentStore (copies received attachments in)
    sender: str | None = None  # the tenant that sent the event being applied (set by the inbox)
