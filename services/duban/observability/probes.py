"""What ``/ready`` checks and what ``/metrics`` reads from the databases and NATS, each bounded in time
and cached for a moment: a flood of probes or scrapes runs one check at a time, and the others take its
answer (``_Cached``). Nothing read here names a host, a port or a credential: a failure is said as which
part, which tenant, and the kind of error (the full error goes to the node's log)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import urllib3
from minio import Minio
from minio.error import S3Error
from nats.js.errors import NotFoundError

from duban.events.bus import durable_name
from duban.observability.repository import WAITING, ObservabilityRepository

if TYPE_CHECKING:
    from duban.platform import Platform

log = logging.getLogger("duban.observability")

DB_SECONDS = 2.0  # a tenant's database answers SELECT 1 (or the gauges' queries) within this
NATS_SECONDS = 1.0  # a consumer's info, from JetStream
S3_SECONDS = 2.0  # the object store answers a HEAD of the first tenant's archive bucket
TOTAL_SECONDS = 5.0  # a whole round of checks or gauges ends by then; what did not answer is reported so
PARALLEL = 4  # tenants' databases asked at once (on PostgreSQL they share one pool)
READY_CACHE = 1.0  # seconds a readiness answer is reused
GAUGES_CACHE = 5.0  # seconds the databases' and consumers' figures are reused by /metrics

T = TypeVar("T")


class _Cached(Generic[T]):
    """One value, computed by one caller at a time and reused for ``seconds``."""

    def __init__(self, seconds: float, compute: Callable[[], Awaitable[T]]) -> None:
        self.seconds, self.compute = seconds, compute
        self.value: T | None = None
        self.at = -1e18
        self._lock: asyncio.Lock | None = None

    async def get(self) -> T:
        if time.monotonic() - self.at < self.seconds:
            return self.value  # type: ignore[return-value]
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if time.monotonic() - self.at >= self.seconds:
                self.value = await self.compute()
                self.at = time.monotonic()
        return self.value  # type: ignore[return-value]


@dataclass
class Check:
    ok: bool
    detail: str
    why: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ConsumerState:
    pending: int  # in the stream, not yet delivered to the consumer
    ack_pending: int  # delivered, not yet acknowledged
    redelivered: int


@dataclass
class TenantFigures:
    backlog: int = 0
    oldest_age: float = 0.0  # seconds since the oldest unsent event was written
    reminders_due: int = 0
    waiting: dict[str, int] = field(default_factory=lambda: dict.fromkeys(WAITING, 0))


@dataclass
class Figures:
    tenants: dict[str, TenantFigures] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)  # tenants whose last round did not answer (figures kept)
    consumers: dict[str, ConsumerState] = field(default_factory=dict)


def _kind(exc: BaseException) -> str:
    return "no answer in time" if isinstance(exc, TimeoutError) else type(exc).__name__


class Probe:
    """The checks and figures of one node (one per app)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.readiness = _Cached(READY_CACHE, self._ready)
        self._consumers = _Cached(READY_CACHE, self._consumer_states)
        self.figures = Figures()
        self._figures = _Cached(GAUGES_CACHE, self._refresh_figures)
        self._s3_client: Minio | None = None
        self._s3_call: asyncio.Future | None = None

    # -- /ready ---------------------------------------------------------------------------------------
    async def ready(self) -> dict[str, Check]:
        return await self.readiness.get()

    async def _ready(self) -> dict[str, Check]:
        try:
            async with asyncio.timeout(TOTAL_SECONDS + 1):
                database, consumers, s3 = await asyncio.gather(self.database(), self.consumers(), self.s3())
        except TimeoutError:
            late = Check(False, "no answer in time", ["the checks did not end in time"])
            return {"database": late, "nats": self.nats(), "s3": late, "consumers": late}
        return {"database": database, "nats": self.nats(), "s3": s3, "consumers": consumers}

    async def _each_tenant(self, work: Callable[[str], Awaitable[Any]]) -> dict[str, BaseException | None]:
        """Run ``work`` for every hosted tenant, a few at a time, each bounded; what failed, by tenant."""
        gate = asyncio.Semaphore(PARALLEL)

        async def one(tenant: str) -> BaseException | None:
            async with gate:
                try:
                    async with asyncio.timeout(DB_SECONDS):
                        await work(tenant)
                except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:  # noqa: BLE001 — reported per tenant, never raised
                    if not isinstance(exc, TimeoutError):
                        log.warning("observability: %s: %s", tenant, exc)
                    return exc
            return None

        tenants = self.platform.tenants
        outcomes: dict[str, BaseException | None] = dict.fromkeys(tenants, TimeoutError())
        tasks = {tenant: asyncio.ensure_future(one(tenant)) for tenant in tenants}
        done, pending = await asyncio.wait(tasks.values(), timeout=TOTAL_SECONDS)
        for task in pending:
            task.cancel()
        for tenant, task in tasks.items():
            if task in done:
                outcomes[tenant] = task.result()
        return outcomes

    async def database(self) -> Check:
        """Every hosted tenant's database answers SELECT 1 (its read-only session, which takes no lock)."""

        async def ping(tenant: str) -> None:
            async with self.platform.db.transaction(tenant, snapshot=True) as session:
                await ObservabilityRepository(session, tenant).ping()

        failed = {t: e for t, e in (await self._each_tenant(ping)).items() if e is not None}
        total = len(self.platform.tenants)
        why = [f"database of {tenant}: {_kind(exc)}" for tenant, exc in sorted(failed.items())]
        return Check(not failed, f"{total - len(failed)}/{total} tenants answer", why)

    def nats(self) -> Check:
        nc = self.platform.bus.nc
        if nc is not None and nc.is_connected:
            return Check(True, "connected")
        state = "reconnecting" if nc is not None and nc.is_reconnecting else "not connected"
        return Check(False, state, [f"NATS: {state}"])

    async def consumers(self) -> Check:
        """Every hosted tenant's loop reads its durable consumer, and JetStream knows that consumer."""
        tenants = self.platform.tenants
        attached = self.platform.consumer.attached
        detached = [t for t in tenants if t not in attached]
        why = [f"consumer of {t}: not attached" for t in detached]
        if not self.nats().ok:
            why.append("consumers: cannot be checked, NATS not connected")
        else:
            states = await self._consumers.get()
            why += [f"consumer of {t}: {states[t]}" for t in tenants if isinstance(states.get(t), str)]
        return Check(not why, f"{len(tenants) - len(detached)}/{len(tenants)} attached", why)

    async def _consumer_states(self) -> dict[str, ConsumerState | str]:
        """Each hosted tenant's durable consumer as JetStream sees it, or why it could not be read."""
        bus = self.platform.bus
        if bus.js is None or bus.nc is None or not bus.nc.is_connected:
            return dict.fromkeys(self.platform.tenants, "NATS not connected")

        async def one(tenant: str) -> ConsumerState | str:
            try:
                info = await bus.js.consumer_info(bus.stream, durable_name(tenant), timeout=NATS_SECONDS)
            except NotFoundError:
                return "no durable consumer on the server"
            except Exception as exc:  # noqa: BLE001 — said, not raised
                return _kind(exc)
            return ConsumerState(info.num_pending or 0, info.num_ack_pending or 0, info.num_redelivered or 0)

        tenants = self.platform.tenants
        return dict(zip(tenants, await asyncio.gather(*(one(t) for t in tenants)), strict=True))

    async def s3(self) -> Check:
        """The object store answers (a HEAD of the first tenant's archive bucket; missing is fine)."""
        if self._s3_call is None or self._s3_call.done():  # one call at a time, whatever the probes do
            self._s3_call = asyncio.ensure_future(asyncio.to_thread(self._s3_head))
            self._s3_call.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            async with asyncio.timeout(S3_SECONDS):
                await asyncio.shield(self._s3_call)
        except S3Error as exc:
            return Check(False, "refused", [f"S3: answered {exc.code}"])
        except Exception as exc:  # noqa: BLE001
            log.warning("observability: S3: %s", exc)
            return Check(False, "unreachable", [f"S3: unreachable ({_kind(exc)})"])
        return Check(True, "reachable")

    def _s3_head(self) -> bool:
        settings = self.platform.settings
        if self._s3_client is None:  # short timeouts and no retries: the probe says at once what is wrong
            http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=1, read=S3_SECONDS), retries=False,
                                       maxsize=1)
            self._s3_client = Minio(settings.s3_endpoint, access_key=settings.s3_access_key,
                                    secret_key=settings.s3_secret_key, secure=settings.s3_secure, http_client=http)
        return self._s3_client.bucket_exists(self.platform.archive.bucket_for(self.platform.tenants[0]))

    # -- /metrics ------------------------------------------------------------------------------------
    async def refresh(self) -> Figures:
        """The databases' and consumers' figures, at most ``GAUGES_CACHE`` seconds old."""
        return await self._figures.get()

    async def _refresh_figures(self) -> Figures:
        platform, figures = self.platform, self.figures
        now, today = platform.time.now(), platform.time.today()

        async def read(tenant: str) -> None:
            async with platform.db.transaction(tenant, snapshot=True) as session:
                repo = ObservabilityRepository(session, tenant)
                backlog = await repo.backlog()
                found = TenantFigures(backlog.count, max(0.0, (now - backlog.oldest).total_seconds())
                                      if backlog.oldest else 0.0, await repo.reminders_due(today),
                                      await repo.inbox_waiting())
            figures.tenants[tenant] = found

        failed = await self._each_tenant(read)
        figures.failed = {t for t, e in failed.items() if e is not None}
        states = await self._consumers.get()
        figures.consumers = {t: s for t, s in states.items() if isinstance(s, ConsumerState)}
        return figures
