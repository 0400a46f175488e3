"""Observability (issue 11 §3): /metrics scraped and parsed with the Prometheus text parser after real
requests and after events crossed NATS; /ready 200 with everything up, 503 naming NATS while its server is
down and 200 again once it is back; who may read /metrics; ``duban network status`` listing a backlog and
a refused event. On SQLite and PostgreSQL (JSON logs: test_logs.py)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta

import httpx
import msgspec
from prometheus_client.parser import text_string_to_metric_families

from duban.app import create_app
from duban.events.envelope import Envelope, encode
from duban.events.models import CONFLICT
from duban.events.repository import InboxRepository, OutboxRepository
from helpers import TEST_NOW, eventually, login, registered_item, run_duban

FAMILIES = {  # every family /metrics must carry (names as the parser gives them: counters without _total)
    "duban_http_request_duration_seconds", "duban_events_published", "duban_events_publish_duplicates",
    "duban_events_received", "duban_outbox_backlog", "duban_outbox_oldest_age_seconds", "duban_inbox_waiting",
    "duban_consumer_pending", "duban_consumer_ack_pending", "duban_consumer_redelivered", "duban_consumer_attached",
    "duban_reminders_due", "duban_db_pool_size", "duban_db_pool_checked_out", "duban_db_pool_idle",
    "duban_db_pool_overflow", "duban_nats_connected", "duban_figures_stale",
}


async def scrape(client: httpx.AsyncClient, **headers: str) -> dict[str, dict[tuple, float]]:
    """/metrics parsed: family name → {(sample name, sorted labels): value}."""
    r = await client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(r.text):
        assert family.name.startswith("duban_"), family.name
        found[family.name] = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}
    return found


def value(families: dict, family: str, sample: str | None = None, **labels: str) -> float:
    """A sample's value (0 if absent), by family, sample name and labels."""
    return families.get(family, {}).get((sample or family, tuple(sorted(labels.items()))), 0.0)


class _Item(msgspec.Struct):
    title: str


# ---- /metrics -------------------------------------------------------------------------------------

async def test_metrics_move_with_requests_and_events(client, platform):
    async def ready():
        return (await client.get("/ready")).status_code == 200

    await eventually(ready, what="the node ready (its consumers attached)")
    before = await scrape(client)
    assert FAMILIES <= set(before), FAMILIES - set(before)
    inspector, approver = await login(client, "city", "inspector"), await login(client, "city", "approver")
    handler = await login(client, "qingjiangpu", "handler")
    item_id = await registered_item(client, inspector, approver, units=[("qingjiangpu", "lead")])
    assert (await client.post(f"/api/items/{item_id}/assign", headers=inspector)).status_code == 200

    async def arrived():  # the 交办 crossed NATS: published by the city, taken by the county's consumer
        return (await client.get("/api/assignments", headers=handler)).json()

    await eventually(arrived, what="the assignment at the county")
    # Refused by the login check, which answers further out than the middleware that times requests.
    assert (await client.get("/api/items", headers={"Authorization": "Bearer nosuch.x"})).status_code == 401
    after = await scrape(client)

    published = value(after, "duban_events_published", "duban_events_published_total", tenant="city",
                      kind="assignment.issued")
    assert published > value(before, "duban_events_published", "duban_events_published_total", tenant="city",
                             kind="assignment.issued")
    applied = value(after, "duban_events_received", "duban_events_received_total", tenant="qingjiangpu",
                    kind="assignment.issued", outcome="applied")
    assert applied >= 1
    # Latency per route template: the assign route once, under its template; no raw path (no id) anywhere.
    route = "/api/items/{item_id}/assign"
    assert value(after, "duban_http_request_duration_seconds", "duban_http_request_duration_seconds_count",
                 method="POST", route=route, status="2xx") == 1
    assert value(after, "duban_http_request_duration_seconds", "duban_http_request_duration_seconds_count",
                 method="GET", route="/api/items", status="4xx") == 1
    labels = {dict(key[1]).get("route") for samples in after.values() for key in samples}
    assert not any(item_id in (r or "") for r in labels), "a raw path became a label"
    assert value(after, "duban_consumer_attached", tenant="qingjiangpu") == 1
    assert value(after, "duban_nats_connected") == 1
    assert "qingjiangpu" in {dict(k[1]).get("tenant") for k in after["duban_consumer_pending"]}
    pools = after["duban_db_pool_size"]
    assert pools and all(v > 0 for v in pools.values())


async def test_backlog_and_age_are_read_from_the_outbox(platform):
    """A node whose relay does not run (not started): the event written waits, and /metrics says so."""
    async with platform.db.transaction("city") as session:
        await OutboxRepository(session, "city").add(kind="assignment.issued", to_tenant="qingjiangpu",
                                                    item_ref="city/obs-1", actor="city/inspector",
                                                    payload=_Item("待发"), occurred_at=TEST_NOW - timedelta(hours=1))
    transport = httpx.ASGITransport(app=create_app(platform, manage_platform=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://duban.test") as client:
        families = await scrape(client)
        assert value(families, "duban_outbox_backlog", tenant="city") == 1
        assert value(families, "duban_outbox_backlog", tenant="qingjiangpu") == 0
        assert value(families, "duban_outbox_oldest_age_seconds", tenant="city") == 3600
        assert value(families, "duban_consumer_attached", tenant="city") == 0
        assert value(families, "duban_nats_connected") == 0
        r = await client.get("/ready")
        assert r.status_code == 503
        assert any("NATS" in line for line in r.json()["why"])


async def test_a_flood_of_scrapes_and_probes_reads_the_databases_once(platform):
    app = create_app(platform, manage_platform=False)
    probe, rounds = app.state.probe, {"figures": 0, "ready": 0}

    def counted(name: str, compute):  # noqa: ANN001
        async def run():
            rounds[name] += 1
            return await compute()
        return run

    probe._figures.compute = counted("figures", probe._figures.compute)
    probe.readiness.compute = counted("ready", probe.readiness.compute)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://duban.test") as client:
        answers = await asyncio.gather(*(client.get(path) for path in ("/metrics", "/ready") * 25))
    assert {r.status_code for r in answers[::2]} == {200} and {r.status_code for r in answers[1::2]} == {503}
    assert rounds == {"figures": 1, "ready": 1}  # one round each; the other 24 took its answer


async def test_who_may_read_metrics(platform):
    app = create_app(platform, manage_platform=False)

    def client_from(host: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(host, 40000)),
                                 base_url="http://duban.test")

    async with client_from("127.0.0.1") as local, client_from("10.1.2.3") as remote:
        assert (await local.get("/metrics")).status_code == 200  # no token set: this host may
        assert (await remote.get("/metrics")).status_code == 403
        # Through a proxy on this host: refused, the proxy's clients are not this host.
        assert (await local.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})).status_code == 403
    platform.settings = replace(platform.settings, metrics_token="m-token-123")
    async with client_from("127.0.0.1") as local, client_from("10.1.2.3") as remote:
        assert (await local.get("/metrics")).status_code == 401
        assert (await remote.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await remote.get("/metrics", headers={"Authorization": "Bearer m-token-123"})).status_code == 200
        # /health and /ready stay open, and neither needs a session.
        assert (await remote.get("/health")).status_code == 200
        assert (await remote.get("/ready")).status_code in (200, 503)


# ---- /ready ---------------------------------------------------------------------------------------

async def test_ready_names_nats_while_it_is_down(client, platform, settings, nats_server):
    async def ready():
        r = await client.get("/ready")
        return r if r.status_code == 200 else None

    r = await eventually(ready, what="/ready 200 with every part up")
    body = r.json()
    assert body["status"] == "ready" and body["why"] == []
    assert {name for name, c in body["checks"].items() if c["ok"]} == {"database", "nats", "s3", "consumers"}

    nats_server.stop()

    async def not_ready():
        r = await client.get("/ready")
        return r if r.status_code == 503 and any("NATS" in line for line in r.json()["why"]) else None

    r = await eventually(not_ready, what="/ready 503 naming NATS")
    body = r.json()
    assert body["status"] == "not ready" and not body["checks"]["nats"]["ok"]
    assert body["checks"]["database"]["ok"] and body["checks"]["s3"]["ok"]
    # Nothing of where the parts are or how the node logs in to them.
    for secret in (str(nats_server.port), settings.s3_endpoint, settings.nats_password, settings.s3_secret_key,
                   settings.database_url or "sqlite3"):
        assert secret not in r.text

    nats_server.start()  # same port: the node reconnects, its consumers read again
    await eventually(ready, within=30, what="/ready 200 again after NATS came back")


# ---- duban network status ---------------------------------------------------------------------------

async def test_network_status_lists_backlog_senders_and_refused_events(platform, settings):
    async with platform.db.transaction("city") as session:
        outbox = OutboxRepository(session, "city")
        for n in range(2):
            await outbox.add(kind="assignment.issued", to_tenant="qingjiangpu", item_ref=f"city/obs-{n}",
                             actor="city/inspector", payload=_Item("待发"), occurred_at=TEST_NOW)
    envelope = Envelope(id="0b5e6a52-0000-4000-8000-00000000c0f1", kind="assignment.issued", from_tenant="city",
                        to_tenant="qingjiangpu", item_ref="city/obs-9", seq=1, occurred_at=TEST_NOW,
                        actor="city/inspector", payload={"title": "x"})
    async with platform.db.transaction("qingjiangpu") as session:
        InboxRepository(session, "qingjiangpu").add(envelope, encode(envelope), CONFLICT, "事项状态不允许")
    result = await run_duban(settings, "network", "status")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    backlog = next(line for line in out.splitlines() if line.strip().startswith("city "))
    assert "2 waiting" in backlog, out
    assert "total 2 waiting" in out
    assert "qingjiangpu    from city" in out
    assert envelope.id in out and "conflict" in out
    assert "duban inbox replay <tenant> <event_id>" in out
    assert f"duban inbox replay qingjiangpu {envelope.id}" in out

    as_json = await run_duban(settings, "network", "status", "--json")
    data = json.loads(as_json.stdout)
    city = next(t for t in data["tenants"] if t["tenant"] == "city")
    assert city["backlog"] == 2
