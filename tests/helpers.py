"""Small helpers shared by the API tests."""

from __future__ import annotations

import asyncio
import datetime
import os
import subprocess
import sys
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from httpx import ASGITransport, AsyncClient

from duban.accounts.service import DEMO_PASSWORD
from duban.accounts.totp import read_identities
from duban.app import create_app
from duban.archive import DossierMeta
from duban.events.natsconf import NodeUser
from duban.platform import Platform
from duban.settings import Settings
from duban.tenancy.registry import load_registry
from duban.timesource import FixedTime

# The platforms under test stand at this moment (Platform.time), whatever the real date: deadlines are
# counted in statutory working days, and a real "today" would one day reach a year with no calendar data.
TEST_NOW = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


DUBAN = Path(sys.executable).parent / "duban"
# The tenants of the test platform, and its NATS user (services/duban/events/natsconf.py) hosting them.
TEST_TENANTS = ("city", "qingjiangpu", "huaian", "fgw")
# The test node's NATS user may act as any tenant of the registry: tests host different sets of tenants
# on one platform (tests/tree). What one node's user may not do is tested with users of their own
# (tests/trust).
NATS_TEST_USER = NodeUser("test", tuple(t.code for t in load_registry(Path(__file__).resolve().parent.parent
                                                                  / "tenants" / "huaian.toml").tenants),
                          "duban-test-nats-password")


def duban_env(settings: Settings, **more: str) -> dict[str, str]:
    """The environment of a ``duban`` command run against a test platform's storage (``more``: extra
    DUBAN_* variables, e.g. ``DUBAN_HOSTED_TENANTS``)."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")},
            "DUBAN_DATA_DIR": str(settings.data_dir), "DUBAN_DATABASE_URL": settings.database_url,
            "DUBAN_TENANTS_FILE": str(settings.tenants_file), "DUBAN_POLICIES_DIR": str(settings.policies_dir),
            "DUBAN_HOSTED_TENANTS": ",".join(settings.hosted_tenants), "DUBAN_NATS_USER": settings.nats_user,
            "DUBAN_NATS_PASSWORD": settings.nats_password, "DUBAN_KEYS_DIR": str(settings.keys_path),
            "DUBAN_PRIVATE_KEYS_DIR": str(settings.private_keys_path), **more}


async def nats_connect(settings: Settings, **options: object):  # noqa: ANN201
    """A raw NATS connection as the test node's user (only its own reply subjects are readable to it)."""
    import nats

    from duban.events.bus import inbox_prefix

    return await nats.connect(settings.nats_url, user=settings.nats_user or None,
                              password=settings.nats_password or None, inbox_prefix=inbox_prefix(settings.nats_user),
                              **options)


def signed(platform, envelope) -> bytes:  # noqa: ANN001
    """An envelope as its sender's node would publish it: signed with the test platform's key."""
    from duban.events.envelope import encode

    return encode(platform.keys.sign(envelope))


async def run_duban(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    """Run ``duban ARGS`` to its end, asynchronously: a node in the test's event loop keeps running (and
    holding its locks only briefly) meanwhile."""
    process = await asyncio.create_subprocess_exec(str(DUBAN), *args, env=duban_env(settings),
                                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return subprocess.CompletedProcess(args, process.returncode, out.decode(), err.decode())


async def eventually(check: Callable[[], Awaitable[object]], within: float = 15.0, what: str = "condition") -> object:
    """Poll ``check`` until it returns something truthy (events cross NATS asynchronously)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


# (client, tenant, username) → the session of a demo user with a second factor, and the TOTP steps used:
# a platform's clock stands still in tests, and a code, once used, cannot log in again (no replay).
_SECOND_FACTOR_SESSIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_USED_STEPS: dict[tuple[str, str, str], int] = {}


def totp_login_code(data_dir: Path, tenant: str, username: str, now: datetime.datetime) -> str | None:
    """The TOTP code a demo user sends at ``now`` (None: the user has no second factor): the code of the
    earliest step within the allowed drift not used yet through this helper."""
    from duban.accounts import totp

    secret = read_identities(data_dir).get(tenant, {}).get(username, {}).get("totp_secret")
    if secret is None:
        return None
    key = (str(data_dir), tenant, username)
    step = max(totp.step_of(now) - totp.DRIFT, _USED_STEPS.get(key, -1) + 1)
    _USED_STEPS[key] = step
    return totp.code_at_step(secret, step)


async def login(client: AsyncClient, tenant: str, username: str, *, data_dir: Path | None = None,
                now: datetime.datetime | None = None) -> dict[str, str]:
    """Log a demo user in; returns the Authorization header. An approver or administrator also sends the
    TOTP code of the demo identities file; their session is reused while it lasts (the clock of a test
    platform stands still, and a used code cannot log in again). For a client of an in-process node the
    node's data dir and clock are used; for a node in another process, pass its ``data_dir`` (where its
    demo accounts were seeded) and ``now`` (its DUBAN_FIXED_TIME; default TEST_NOW)."""
    app = getattr(client._transport, "app", None)  # the in-process node behind the test client, if any
    platform = app.state.platform if app is not None else None
    data_dir = data_dir or (platform.settings.data_dir if platform is not None else None)
    now = now or (platform.time.now() if platform is not None else TEST_NOW)
    body = {"tenant": tenant, "username": username, "password": DEMO_PASSWORD}
    second_factor = data_dir is not None and "totp_secret" in read_identities(data_dir).get(tenant, {}).get(
        username, {})
    if second_factor:
        sessions = _SECOND_FACTOR_SESSIONS.setdefault(client, {})
        known = sessions.get((tenant, username))
        if known is not None and (await client.get("/api/me", headers=known)).status_code == 200:
            return known
        body["totp"] = totp_login_code(data_dir, tenant, username, now)
    response = await client.post("/api/login", json=body)
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    if second_factor:
        sessions[(tenant, username)] = headers
    return headers


def plan(units: list[tuple[str, str]] | None = None, **overrides: object) -> dict:
    """A valid draft plan of a leader's instruction."""
    body = {
        "title": "推进淮安东站综合客运枢纽建设",
        "source_kind": "instruction",
        "source": {"leader": "市长", "instruction_text": "请抓紧推进，按期完成。", "instructed_on": "2026-09-01"},
        "content": "加快征地拆迁和配套道路建设。",
        "requirements": "每周反馈一次进展。",
        "division": "督查一处",
        "group": "mayor",
        "deadline": (TEST_NOW.date() + timedelta(days=30)).isoformat(),
        "units": [{"unit": u, "role": r} for u, r in (units or [("qingjiangpu", "lead")])],
    }
    body.update(overrides)
    return body


async def registered_item(client: AsyncClient, inspector: dict, approver: dict, **plan_overrides: object) -> str:
    """Draft, submit and approve an item; returns its id."""
    response = await client.post("/api/items", json=plan(**plan_overrides), headers=inspector)
    assert response.status_code == 201, response.text
    item_id = response.json()["id"]
    assert (await client.post(f"/api/items/{item_id}/submit", headers=inspector)).status_code == 200
    assert (await client.post(f"/api/items/{item_id}/approve", headers=approver)).status_code == 200
    return item_id


def dossier_meta(**changes: object) -> DossierMeta:
    """Archival metadata of a sample dossier, with some fields changed."""
    values = dict(
        fonds="J001",
        year=2026,
        retention="permanent",
        org="city",
        piece=7,
        title="关于加快推进老旧小区改造的督查事项",
        responsible="市政府办公室督查室",
        date=datetime.date(2026, 3, 14),
        doc_number="督〔2026〕7号",
        confidentiality="internal",
    )
    values.update(changes)
    return DossierMeta(**values)


# A tenant tree deeper than 淮安's: towns and a community below the counties.
DEEP_TREE = """
[[tenants]]
code = "city"
name = "市政府办公室"
kind = "city_office"

[[tenants]]
code = "qingjiangpu"
name = "清江浦区人民政府"
kind = "county"
parent = "city"

[[tenants]]
code = "huaian"
name = "淮安区人民政府"
kind = "county"
parent = "city"

[[tenants]]
code = "qjp_town"
name = "清江浦区某街道"
kind = "town"
parent = "qingjiangpu"

[[tenants]]
code = "qjp_village"
name = "某社区"
kind = "unit"
parent = "qjp_town"

[[tenants]]
code = "ha_town"
name = "淮安区某镇"
kind = "town"
parent = "huaian"
"""


@asynccontextmanager
async def hosting(settings: Settings, tenants: tuple[str, ...]) -> AsyncIterator[tuple[Platform, AsyncClient]]:
    """A started platform hosting these tenants (migrated, seeded, with their signing keys), standing at
    ``TEST_NOW``, and an HTTP client on it."""
    platform = Platform(replace(settings, hosted_tenants=tenants))
    platform.time = FixedTime(TEST_NOW)
    await platform.migrate()
    await platform.seed_demo()
    platform.keys.init()  # the signing keys of the tenants this node hosts
    await platform.start()
    try:
        transport = ASGITransport(app=create_app(platform, manage_platform=False))
        async with AsyncClient(transport=transport, base_url="http://duban.test") as client:
            yield platform, client
    finally:
        await platform.stop()
