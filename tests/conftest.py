"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from duban.events.natsconf import NodeUser, write_config
from duban.runtime import NatsServerProcess, S3ServerProcess

# ---- runtime servers (duban.runtime): real nats-server and weed mini on 127.0.0.1 ----------
# s3_server is shared by the whole session (weed takes ~1 s to start, ~2 s to stop);
# nats_server is fresh per test (~50 ms), so no test sees another's streams.

S3_TEST_ACCESS_KEY = "duban-test"
S3_TEST_SECRET_KEY = "duban-test-secret-key"
from helpers import NATS_TEST_USER, TEST_TENANTS  # noqa: E402


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3ServerProcess]:
    """One SeaweedFS S3 server for the session; use .endpoint/.access_key/.secret_key."""
    server = S3ServerProcess(
        tmp_path_factory.mktemp("s3"), access_key=S3_TEST_ACCESS_KEY, secret_key=S3_TEST_SECRET_KEY
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nats_server_factory(tmp_path: Path) -> Iterator[Callable[..., NatsServerProcess]]:
    """Start extra NATS servers in a test: ``factory(store_dir=None, port=None, users=[the test node])``
    (``users=None``: no users, anyone may connect); all stopped after."""
    servers: list[NatsServerProcess] = []

    def make(store_dir: Path | None = None, port: int | None = None,
             users: list[NodeUser] | None = [NATS_TEST_USER]) -> NatsServerProcess:  # noqa: B006
        name = f"nats-{len(servers)}"
        config = write_config(tmp_path / f"{name}-auth.conf", users) if users else None
        server = NatsServerProcess(store_dir or tmp_path / name, port=port, config_file=config)
        servers.append(server)  # before start, so a half-started one is still cleaned up
        server.start()
        return server

    yield make
    for server in reversed(servers):
        server.stop()


@pytest.fixture
def nats_server(nats_server_factory: Callable[..., NatsServerProcess]) -> NatsServerProcess:
    """A fresh JetStream-enabled nats-server for this test, with the test node's user; use .url."""
    return nats_server_factory()


# ---- end of runtime servers block ------------------------------------------------------------


# ---- platform fixtures: a whole node on real parts ---------------------------------------------
# Every test that takes ``backend`` runs on SQLite and, when DUBAN_TEST_DATABASE_URL names a
# PostgreSQL server (CI sets it), on PostgreSQL too — each platform in a database of its own.

import os  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from duban.app import create_app  # noqa: E402
from duban.platform import Platform  # noqa: E402
from duban.settings import Settings  # noqa: E402
from duban.timesource import FixedTime  # noqa: E402
from helpers import TEST_NOW  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("DUBAN_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    not PG_URL, reason="set DUBAN_TEST_DATABASE_URL=postgresql+asyncpg://... to test on PostgreSQL"))]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the platform under test uses."""
    return request.param


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


@pytest.fixture
async def database_url(backend: str) -> AsyncIterator[str]:
    """'' for SQLite files; for PostgreSQL a fresh database, dropped after the test."""
    if backend == "sqlite":
        yield ""
        return
    name = f"duban_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield make_url(PG_URL).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    admin = await asyncpg.connect(_asyncpg_dsn(PG_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, nats_server: NatsServerProcess, s3_server: S3ServerProcess) -> Settings:
    """Settings of a node hosting a few tenants on the test's own servers."""
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, tenants_file=REPO / "tenants" / "huaian.toml",
        policies_dir=REPO / "policies", hosted_tenants=TEST_TENANTS, nats_url=nats_server.url,
        nats_user=NATS_TEST_USER.name, nats_password=NATS_TEST_USER.password,
        # Public keys are shared by every node of a test (tests/api/test_two_nodes.py); each node's
        # private keys stay in its own data dir.
        keys_dir=tmp_path / "keys",
        s3_endpoint=s3_server.endpoint, s3_access_key=s3_server.access_key, s3_secret_key=s3_server.secret_key,
        s3_bucket_prefix=f"t{uuid.uuid4().hex[:10]}", relay_poll_seconds=0.5,
        password_cost=10,  # cheap hashes: tests log in often; production keeps the default
        run_jobs=False,  # tests that need the 催办 scheduler run it themselves, at the times they set
        # Tests move the platform's clock by days and weeks and log in often from one address: sessions
        # and login limits are tested on their own (tests/api/test_login_hardening.py).
        session_hours=24 * 366, session_idle_minutes=0, login_rate_per_minute=0,
    )


@pytest.fixture
async def platform(settings: Settings) -> AsyncIterator[Platform]:
    """A migrated, seeded platform (not yet started; the client starts it)."""
    node = Platform(settings)
    node.time = FixedTime(TEST_NOW)
    node.keys.init()
    await node.migrate()
    await node.seed_demo()
    yield node
    await node.db.dispose()


@pytest.fixture
async def client(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """The HTTP API of a running platform (relay and consumers running), in the test's own event loop."""
    await platform.start()
    try:
        transport = httpx.ASGITransport(app=create_app(platform, manage_platform=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://duban.test") as test_client:
            yield test_client
    finally:
        await platform.stop()

