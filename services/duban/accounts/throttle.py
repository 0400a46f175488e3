"""Login throttling, per node and in memory: a flood of logins must not slow the node, and a password
must not be guessed.

- Per account (tenant + username): after ``max_failures`` wrong passwords within ``lockout``, the
  account's logins are refused for ``lockout`` — also with the right password — and a success clears
  the count.
- Per client address: at most ``per_minute`` login attempts a minute.

Both are checked before the password is hashed (hashing is what a flood would burn the CPU on). Time
comes from the node's clock. Entries older than the window are dropped as they are met, and the
tables are capped, so memory stays bounded under a flood of made-up names."""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta

from duban.errors import TooManyRequests

CAP = 100_000  # entries per table; past that the oldest are forgotten


class LoginThrottle:
    def __init__(self, max_failures: int = 5, lockout_minutes: int = 15, per_minute: int = 60) -> None:
        self.max_failures, self.lockout, self.per_minute = max_failures, timedelta(minutes=lockout_minutes), per_minute
        self._failures: dict[tuple[str, str], deque[datetime]] = {}
        self._attempts: dict[str, deque[datetime]] = {}

    @staticmethod
    def _recent(table: dict, key: object, since: datetime) -> deque[datetime]:
        times = table.pop(key, None) or deque()
        while times and times[0] <= since:
            times.popleft()
        if len(table) >= CAP:
            table.pop(next(iter(table)))
        table[key] = times  # re-inserted: the dict keeps the most recently used last
        return times

    def check(self, tenant: str, username: str, address: str, now: datetime) -> None:
        """Before the password is checked: refuse if the address floods or the account is locked."""
        if self.per_minute > 0:
            attempts = self._recent(self._attempts, address, now - timedelta(minutes=1))
            if len(attempts) >= self.per_minute:
                raise TooManyRequests("登录尝试过于频繁，请一分钟后再试 (too many login attempts from this address; "
                                      "wait a minute)", retry_after=60)
            attempts.append(now)
        if self.max_failures > 0:
            failures = self._recent(self._failures, (tenant, username), now - self.lockout)
            if len(failures) >= self.max_failures:
                wait = failures[0] + self.lockout - now
                minutes = max(1, math.ceil(wait.total_seconds() / 60))
                raise TooManyRequests(f"密码错误次数过多，该账户已暂停登录，请{minutes}分钟后再试或联系管理员 "
                                      f"(too many wrong passwords: this account's logins are paused for "
                                      f"{minutes} min)", retry_after=int(wait.total_seconds()) + 1)

    def failed(self, tenant: str, username: str, now: datetime) -> None:
        """A wrong password (or an unknown user) for this account name."""
        if self.max_failures > 0:
            self._recent(self._failures, (tenant, username), now - self.lockout).append(now)

    def succeeded(self, tenant: str, username: str) -> None:
        """A right password: the account's failures are forgotten."""
        self._failures.pop((tenant, username), None)
