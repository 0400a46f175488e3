"""Where the platform reads the time. One object per node (``Platform.time``), so tests move time by
setting it — no sleeping, no patching."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from duban.errors import InvalidInput

CHINA = ZoneInfo("Asia/Shanghai")


class SystemTime:
    """The real clock."""

    def now(self) -> datetime:
        """Now, in UTC."""
        return datetime.now(UTC)

    def today(self) -> date:
        """Today's date in China (deadlines are calendar dates there)."""
        return self.now().astimezone(CHINA).date()


def time_source(fixed: str = "") -> SystemTime:
    """The real clock, or (``DUBAN_FIXED_TIME``, for tests and drills) one standing at an ISO moment."""
    if not fixed:
        return SystemTime()
    try:
        return FixedTime(datetime.fromisoformat(fixed))
    except ValueError as exc:
        raise InvalidInput(f"DUBAN_FIXED_TIME={fixed!r}: 须为带时区的 ISO 时间，如 2026-10-09T09:00:00+08:00 "
                           f"(an ISO 8601 moment with its offset): {exc}") from exc


class FixedTime(SystemTime):
    """A clock that stands still until moved (tests, simulations)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedTime needs an aware datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)
