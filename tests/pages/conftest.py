"""Browser tests of the pages: Debian's Chromium driven by Playwright (never ``playwright install``), against a
platform served by a real uvicorn (tests/livehttp.py) in a thread of its own, on the test's NATS and S3."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import asyncpg
import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy.engine import make_url

from duban.platform import Platform
from duban.runtime import NatsServerProcess, S3ServerProcess
from duban.settings import Settings
from duban.timesource import FixedTime
from helpers import NATS_TEST_USER, TEST_NOW, TEST_TENANTS
from livehttp import serving

REPO = Path(__file__).resolve().parent.parent.parent
PG_URL = os.environ.get("DUBAN_TEST_DATABASE_URL", "")

# Debian's package (or another Chromium named by DUBAN_CHROMIUM).
CHROMIUM = os.environ.get("DUBAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts" / "pages"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "tenants(*codes): the tenants the live node of a page test hosts")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not Path(CHROMIUM).exists():
        reason = (f"no Chromium at {CHROMIUM}: install Debian's `chromium` and `fonts-noto-cjk` "
                  "(apt-get install -y chromium fonts-noto-cjk) to run the browser tests")
        for item in items:
            if Path(str(item.fspath)).parent == Path(__file__).parent:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch arguments, pointed at the system's Chromium."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ["--lang=zh-CN"]}


# pytest-playwright's Playwright and browser, but for this folder only: Playwright's sync API keeps an event
# loop running in the main thread while it is started, so a session-wide one would break every later test
# that calls asyncio.run (tests/test_cli_up.py …) in a whole-suite run. Stopped after the last page test.
@pytest.fixture(scope="package")
def playwright(_pw_api_request_contexts):  # noqa: ANN001, ANN201
    pw = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(pw)
    yield pw
    pw.stop()


@pytest.fixture(scope="package")
def browser_type(playwright, browser_name: str):  # noqa: ANN001, ANN201
    return getattr(playwright, browser_name)


@pytest.fixture(scope="package")
def launch_browser(browser_type_launch_args: dict, browser_type):  # noqa: ANN001, ANN201
    return lambda **more: browser_type.launch(**{**browser_type_launch_args, **more})


@pytest.fixture(scope="package")
def browser(launch_browser):  # noqa: ANN001, ANN201
    launched = launch_browser()
    yield launched
    launched.close()


@dataclass
class LiveNode:
    """A migrated, seeded platform standing at TEST_NOW, served over HTTP from a thread with its own event
    loop (the browser test itself runs Playwright's sync API in the main thread)."""

    settings: Settings
    backend: str = "sqlite"
    url: str = ""
    platform: Platform | None = None
    error: BaseException | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 (reported to the test)
            self.error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        database = None
        if self.backend == "postgres":  # a database of its own, made and dropped in this loop
            database = f"duban_test_{uuid.uuid4().hex[:12]}"
            await _admin(f'CREATE DATABASE "{database}"')
            self.settings = replace(self.settings, database_url=make_url(PG_URL).set(
                drivername="postgresql+asyncpg", database=database).render_as_string(hide_password=False))
        try:
            await self._serve()
        finally:
            if database:
                await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    async def _serve(self) -> None:
        platform = Platform(self.settings)
        platform.time = FixedTime(TEST_NOW)
        platform.keys.init()
        await platform.migrate()
        await platform.seed_demo()
        await platform.start()
        try:
            async with serving(platform) as url:
                self.url, self.platform = url, platform
                self._ready.set()
                await self._stop.wait()
        finally:
            await platform.stop()
            await platform.db.dispose()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)


async def _admin(statement: str) -> None:
    admin = await asyncpg.connect(make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@pytest.fixture
def live(request: pytest.FixtureRequest, backend: str, tmp_path: Path, nats_server: NatsServerProcess,
         s3_server: S3ServerProcess) -> Iterator[LiveNode]:
    """The node under test, as tests/conftest.py's ``settings`` describe it (made here, without its async
    ``database_url``: Playwright's sync API holds the main thread's event loop). Hosting TEST_TENANTS, or
    those of the test's ``@pytest.mark.tenants(...)``."""
    marker = request.node.get_closest_marker("tenants")
    hosted = tuple(marker.args) if marker else TEST_TENANTS
    settings = Settings(
        data_dir=tmp_path / "data", database_url="", tenants_file=REPO / "tenants" / "huaian.toml",
        policies_dir=REPO / "policies", hosted_tenants=hosted, nats_url=nats_server.url,
        nats_user=NATS_TEST_USER.name, nats_password=NATS_TEST_USER.password, keys_dir=tmp_path / "keys",
        s3_endpoint=s3_server.endpoint, s3_access_key=s3_server.access_key, s3_secret_key=s3_server.secret_key,
        s3_bucket_prefix=f"t{uuid.uuid4().hex[:10]}", relay_poll_seconds=0.5, password_cost=10, run_jobs=False,
        session_hours=24 * 366, session_idle_minutes=0, login_rate_per_minute=0,
    )
    node = LiveNode(settings, backend)
    thread = threading.Thread(target=node.run, name="duban-live", daemon=True)
    thread.start()
    if not node._ready.wait(120):
        raise AssertionError("the live server did not start within 120 s")
    if node.error is not None:
        raise node.error
    try:
        yield node
    finally:
        node.stop()
        thread.join(60)


@pytest.fixture
def shots(request: pytest.FixtureRequest):  # noqa: ANN201
    """Save a full-page screenshot as tests/.artifacts/pages/<backend>-<module>-<nn>-<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    backend = request.node.callspec.params.get("backend", "") if hasattr(request.node, "callspec") else ""
    counter = iter(range(1, 100))

    def shoot(page, name: str) -> Path:  # noqa: ANN001
        test = request.node.module.__name__.rpartition(".")[2].removeprefix("test_").removesuffix("_pages")
        path = ARTIFACTS / f"{backend or 'run'}-{test}-{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot
