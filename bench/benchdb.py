"""The PostgreSQL database and the platform a benchmark runs on, made for one run and gone after it.

Used by bench/reminders.py and bench/transitions.py. ``bench_platform(database_url, now)`` makes a database
of its own (``duban_bench_<hex>``) and a temporary data directory, and yields a ``Platform`` hosting a city
and a county tenant (no background jobs), migrated and seeded with the demo users, whose clock stands at
``now``. However the run ends (done, an error, Ctrl-C), it then disposes of the platform's connections,
drops the database (WITH (FORCE), so connections the benchmark left open do not stop it) and removes the
data directory. ``asyncpg_dsn`` turns the SQLAlchemy URL into one asyncpg connects with, to that database.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from duban.platform import Platform
from duban.settings import Settings
from duban.timesource import FixedTime

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CITY, COUNTY = "city", "qingjiangpu"


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def admin(database_url: str, statement: str) -> None:
    """One statement on the server's maintenance database (CREATE / DROP DATABASE)."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def bench_platform(database_url: str, now: datetime) -> AsyncIterator[tuple[Platform, str]]:
    """The platform on a fresh database, and the database's name; both gone afterwards."""
    name = f"duban_bench_{uuid.uuid4().hex[:12]}"
    async with AsyncExitStack() as stack:  # undone in reverse: dispose, drop the database, remove the directory
        workdir = Path(tempfile.mkdtemp(prefix="duban-bench-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        await admin(database_url, f'CREATE DATABASE "{name}"')
        stack.push_async_callback(admin, database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        url = make_url(database_url).set(drivername="postgresql+asyncpg", database=name)
        settings = Settings(
            data_dir=workdir, database_url=url.render_as_string(hide_password=False),
            tenants_file=ROOT / "tenants" / "huaian.toml", policies_dir=ROOT / "policies",
            hosted_tenants=(CITY, COUNTY), run_jobs=False, password_cost=10)
        platform = Platform(settings)
        stack.push_async_callback(platform.db.dispose)
        platform.time = FixedTime(now)
        platform.keys.init()  # the hosted tenants' signing keys, in the work directory
        await platform.migrate()
        await platform.seed_demo()
        yield platform, name
