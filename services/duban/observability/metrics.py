"""``/metrics``: the node's figures in the Prometheus text format, every name prefixed ``duban_``.

One ``CollectorRegistry`` per app (an app may be built many times in one process, as the tests do). What
is counted as it happens lives where it happens, as plain counters — the relay's ``published``, the
consumer's ``received`` — and the request latencies in a histogram observed by the security middleware;
what the databases and JetStream know is read at scrape time (``Probe.refresh``, bounded and cached for
``GAUGES_CACHE`` seconds, so a scrape flood costs the databases one round every few seconds).

Families (labels):
- ``duban_http_request_duration_seconds`` histogram (method, route — the route's template, never the raw
  path —, status: 2xx…5xx)
- ``duban_events_published_total`` (tenant, kind): events the relay handed to JetStream and had
  acknowledged; ``duban_events_publish_duplicates_total`` those the stream already had (a re-publish
  after a crash, absorbed by its dedup window)
- ``duban_events_received_total`` (tenant, kind, outcome): what became of each delivery — applied, parked,
  conflict, rejected, duplicate; failed (nak'ed, retried) and given_up (kept for the operator after the
  last delivery)
- ``duban_outbox_backlog`` / ``duban_outbox_oldest_age_seconds`` (tenant): events written, not yet sent
- ``duban_inbox_waiting`` (tenant, status: parked, conflict, rejected): received events an operator may
  have to look at
- ``duban_consumer_pending`` / ``duban_consumer_ack_pending`` / ``duban_consumer_redelivered`` (tenant):
  the tenant's JetStream consumer (lag = pending); ``duban_consumer_attached`` (tenant) 1 while read
- ``duban_reminders_due`` (tenant): 催办 steps whose day has come
- ``duban_db_pool_size`` / ``_checked_out`` / ``_idle`` / ``_overflow`` (pool: ``shared`` on PostgreSQL;
  ``<tenant>`` and ``<tenant>:read`` on SQLite)
- ``duban_nats_connected``, ``duban_figures_stale`` (tenant: 1 when its database did not answer the
  last round; the figures shown are the previous ones), and ``duban_process_*`` (CPU, memory, files).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from duban.observability.probes import Probe

if TYPE_CHECKING:
    from duban.platform import Platform

# A read answered from the cache takes about a millisecond; a list page tens; an upload seconds.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STATUS = {1: "1xx", 2: "2xx", 3: "3xx", 4: "4xx", 5: "5xx"}


class RequestLatency:
    """The request histogram, kept as plain lists (one event loop per process writes it: no locks, a
    bisect and two additions per request) and exposed at scrape time."""

    def __init__(self) -> None:
        # (method, route, status class) → [count per bucket (the last: above every bound)…, sum of seconds]
        self.series: dict[tuple[str, str, int], list[float]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status // 100)
        counts = self.series.get(key)
        if counts is None:
            counts = self.series[key] = [0] * (len(BUCKETS) + 2)
        counts[bisect_left(BUCKETS, seconds)] += 1
        counts[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily("duban_http_request_duration_seconds",
                                       "Time from a request's arrival to the end of its answer, per route template",
                                       labels=("method", "route", "status"))
        for (method, route, status), counts in sorted(self.series.items()):
            cumulative, buckets = 0, []
            for bound, n in zip((*map(str, BUCKETS), "+Inf"), counts[:-1], strict=True):
                cumulative += n
                buckets.append((bound, cumulative))
            family.add_metric((method, route, STATUS.get(status, "other")), buckets, counts[-1])
        yield family

    def describe(self) -> list[Metric]:
        return []


class Metrics:
    """The registry of one app."""

    def __init__(self, platform: Platform, probe: Probe) -> None:
        self.platform, self.probe = platform, probe
        self.registry = CollectorRegistry()
        self.requests = RequestLatency()
        self.observe = self.requests.observe  # what the middleware calls (observability/http.py)
        self.registry.register(self.requests)
        self.registry.register(NodeCollector(platform, probe))
        ProcessCollector(namespace="duban", registry=self.registry)

    async def exposition(self) -> bytes:
        """The text a scrape gets (the databases' figures refreshed first, if older than the cache)."""
        await self.probe.refresh()
        return generate_latest(self.registry)


def _pools(db) -> list[tuple[str, object]]:  # noqa: ANN001
    """Every connection pool of the node's storage, once each, by a name that says whose it is."""
    found: dict[int, tuple[str, object]] = {}
    shared = getattr(db, "_shared", None)
    if shared is not None:
        found[id(shared.pool)] = ("shared", shared.pool)
    for name, engine in list(getattr(db, "_engines", {}).items()):
        found.setdefault(id(engine.pool), (name.replace(" (read)", ":read"), engine.pool))
    return sorted(found.values(), key=lambda pair: pair[0])


class NodeCollector:
    """Builds the node's families at scrape time from counters and the probe's cached figures."""

    def __init__(self, platform: Platform, probe: Probe) -> None:
        self.platform, self.probe = platform, probe

    def describe(self) -> list[Metric]:
        return []  # names are not reserved in the registry: every app has its own

    def collect(self) -> Iterator[Metric]:
        platform, figures = self.platform, self.probe.figures
        published = CounterMetricFamily("duban_events_published_total",
                                        "Events the relay published and JetStream acknowledged",
                                        labels=("tenant", "kind"))
        duplicates = CounterMetricFamily("duban_events_publish_duplicates_total",
                                         "Published events the stream had already (re-publish after a crash)",
                                         labels=("tenant", "kind"))
        totals: dict[tuple[str, str], int] = {}
        dups: dict[tuple[str, str], int] = {}
        for (tenant, kind, duplicate), n in list(platform.relay.published.items()):
            totals[(tenant, kind)] = totals.get((tenant, kind), 0) + n
            if duplicate:
                dups[(tenant, kind)] = dups.get((tenant, kind), 0) + n
        for key, n in sorted(totals.items()):
            published.add_metric(key, n)
            duplicates.add_metric(key, dups.get(key, 0))
        yield published
        yield duplicates

        received = CounterMetricFamily("duban_events_received_total",
                                       "Deliveries taken by this node's consumers, by what became of them",
                                       labels=("tenant", "kind", "outcome"))
        for key, n in sorted(platform.consumer.received.items()):
            received.add_metric(key, n)
        yield received

        backlog = GaugeMetricFamily("duban_outbox_backlog", "Events written but not yet sent", labels=("tenant",))
        age = GaugeMetricFamily("duban_outbox_oldest_age_seconds", "Age of the oldest event not yet sent (0: none)",
                                labels=("tenant",))
        due = GaugeMetricFamily("duban_reminders_due", "催办 steps whose day has come", labels=("tenant",))
        waiting = GaugeMetricFamily("duban_inbox_waiting", "Received events parked, in conflict or rejected",
                                    labels=("tenant", "status"))
        stale = GaugeMetricFamily("duban_figures_stale",
                                  "1: the tenant's database did not answer the last round (previous figures shown)",
                                  labels=("tenant",))
        for tenant in platform.tenants:
            found = figures.tenants.get(tenant)
            stale.add_metric((tenant,), 1 if tenant in figures.failed or found is None else 0)
            if found is None:
                continue
            backlog.add_metric((tenant,), found.backlog)
            age.add_metric((tenant,), found.oldest_age)
            due.add_metric((tenant,), found.reminders_due)
            for status, n in sorted(found.waiting.items()):
                waiting.add_metric((tenant, status), n)
        yield from (backlog, age, due, waiting, stale)

        pending = GaugeMetricFamily("duban_consumer_pending", "Events in the stream not yet delivered to the "
                                    "tenant's consumer (its lag)", labels=("tenant",))
        ack_pending = GaugeMetricFamily("duban_consumer_ack_pending", "Events delivered, not yet acknowledged",
                                        labels=("tenant",))
        redelivered = GaugeMetricFamily("duban_consumer_redelivered", "Events delivered more than once, not yet "
                                        "acknowledged", labels=("tenant",))
        attached = GaugeMetricFamily("duban_consumer_attached", "1 while this node reads the tenant's consumer",
                                     labels=("tenant",))
        reading = platform.consumer.attached
        for tenant in platform.tenants:
            attached.add_metric((tenant,), 1 if tenant in reading else 0)
            state = figures.consumers.get(tenant)
            if state is not None:
                pending.add_metric((tenant,), state.pending)
                ack_pending.add_metric((tenant,), state.ack_pending)
                redelivered.add_metric((tenant,), state.redelivered)
        yield from (pending, ack_pending, redelivered, attached)

        nc = platform.bus.nc
        yield GaugeMetricFamily("duban_nats_connected", "1 while the node is connected to NATS",
                                value=1 if nc is not None and nc.is_connected else 0)

        families = {name: GaugeMetricFamily(f"duban_db_pool_{name}", help_, labels=("pool",)) for name, help_ in (
            ("size", "Connections the pool keeps"), ("checked_out", "Connections in use"),
            ("idle", "Connections kept, not in use"), ("overflow", "Connections open beyond the pool's size"))}
        for name, pool in _pools(platform.db):
            if not hasattr(pool, "checkedout"):
                continue  # a pool that keeps nothing (NullPool, StaticPool)
            families["size"].add_metric((name,), pool.size())
            families["checked_out"].add_metric((name,), pool.checkedout())
            families["idle"].add_metric((name,), pool.checkedin())
            families["overflow"].add_metric((name,), max(0, pool.overflow()))
        yield from families.values()
