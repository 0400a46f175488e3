"""Per-tenant storage: one SQLite file per tenant (embedded default) or one PostgreSQL schema per
tenant (``tenant_<code>``) behind a single engine, chosen with ``schema_translate_map``.

Reading and writing go apart: a read-only transaction (``snapshot``, every read request) never takes a
write lock — on SQLite it is a deferred transaction on a pool of its own whose connections cannot write
(WAL lets it read beside a writer), on PostgreSQL REPEATABLE READ READ ONLY."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from duban.db import sqlite
from duban.errors import NotFound
from duban.settings import Settings

# JSON columns are read with msgspec (the same values as the json module's, several times faster: a list
# page reads a few per row). They are still written with the json module, so stored text is unchanged.
_json = msgspec.json.decode


def schema_name(tenant: str) -> str:
    """The PostgreSQL schema that holds one tenant's tables."""
    return f"tenant_{tenant}"


class Database:
    """Hands out sessions bound to exactly one tenant's storage."""

    def __init__(self, settings: Settings, tenants: list[str]) -> None:
        self.settings = settings
        self.tenants = list(tenants)
        self._engines: dict[str, AsyncEngine] = {}
        self._makers: dict[str, async_sessionmaker[AsyncSession]] = {}
        self._readers: dict[str, async_sessionmaker[AsyncSession]] = {}  # SQLite: the read-only pools
        self._shared: AsyncEngine | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.settings.is_sqlite

    def sqlite_path(self, tenant: str) -> Path:
        """Where a tenant's SQLite file lives."""
        return self.settings.data_dir / "db" / f"{tenant}.sqlite3"

    def engine(self, tenant: str) -> AsyncEngine:
        """The engine for one tenant (on PostgreSQL: the shared engine with the tenant's schema)."""
        if tenant not in self.tenants:
            raise NotFound(f"单位 {tenant} 不在本节点上 (tenant {tenant} is not hosted here)")
        if tenant in self._engines:
            return self._engines[tenant]
        if self.is_sqlite:
            path = self.sqlite_path(tenant)
            private_file(path)
            engine = create_async_engine(f"sqlite+aiosqlite:///{path}", json_deserializer=_json,
                                         async_creator=sqlite.connector(path, inline=False))
            _sqlite_pragmas(engine, read_only=False)
        else:
            if self._shared is None:
                self._shared = create_async_engine(self.settings.database_url, pool_size=10, max_overflow=10,
                                                   json_deserializer=_json)
            engine = self._shared.execution_options(schema_translate_map={None: schema_name(tenant)})
        self._engines[tenant] = engine
        return engine

    def sessionmaker(self, tenant: str) -> async_sessionmaker[AsyncSession]:
        """A session factory bound to one tenant."""
        maker = self._makers.get(tenant)
        if maker is None:
            maker = async_sessionmaker(self.engine(tenant), expire_on_commit=False)
            self._makers[tenant] = maker
        return maker

    def _reader(self, tenant: str) -> async_sessionmaker[AsyncSession]:
        """SQLite: sessions on the tenant's read-only pool (connections that run in the event loop's
        thread, see db/sqlite.py)."""
        maker = self._readers.get(tenant)
        if maker is None:
            self.engine(tenant)  # the file exists, private, before a reader opens it
            path = self.sqlite_path(tenant)
            # As many kept connections as requests read at once: a pool smaller than that opens and
            # closes a connection (and sets its pragmas) for every request beyond it.
            engine = create_async_engine(f"sqlite+aiosqlite:///{path}", pool_size=16, max_overflow=48,
                                         json_deserializer=_json, async_creator=sqlite.connector(path, inline=True))
            _sqlite_pragmas(engine, read_only=True)
            self._engines[f"{tenant} (read)"] = engine
            maker = self._readers[tenant] = async_sessionmaker(engine, expire_on_commit=False)
        return maker

    @asynccontextmanager
    async def transaction(self, tenant: str, *, snapshot: bool = False) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends cleanly, rolls back otherwise.

        ``snapshot``: read only, and every statement sees the same moment (PostgreSQL REPEATABLE READ READ
        ONLY; SQLite: a deferred transaction in WAL, on the read-only pool), so a page built from several
        queries never mixes the states before and after a concurrent change, and reading takes no lock a
        writer waits for. A write in it fails (SQLite: "attempt to write a readonly database")."""
        maker = self._reader(tenant) if snapshot and self.is_sqlite else self.sessionmaker(tenant)
        async with maker() as session:
            try:
                if snapshot and not self.is_sqlite:
                    await session.connection(execution_options={"isolation_level": "REPEATABLE READ",
                                                                "postgresql_readonly": True})
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def migrate(self) -> None:
        """Bring every hosted tenant's storage to the newest schema."""
        from duban.db.migrate import upgrade_tenant

        for tenant in self.tenants:
            await upgrade_tenant(self, tenant)

    @asynccontextmanager
    async def migration_connection(self, tenant: str):  # noqa: ANN201
        """A connection inside a transaction where unqualified names mean the tenant's tables."""
        if self.is_sqlite:
            async with self.engine(tenant).begin() as conn:
                yield conn
            return
        self.engine(tenant)
        assert self._shared is not None
        async with self._shared.begin() as conn:
            schema = schema_name(tenant)
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            # SET LOCAL: lasts for this transaction only, so the pooled connection stays clean.
            await conn.execute(text(f'SET LOCAL search_path TO "{schema}"'))
            yield conn

    async def dispose(self) -> None:
        """Close every pool."""
        engines = [e for e in self._engines.values() if self.is_sqlite]
        if self._shared is not None:
            engines.append(self._shared)
        await asyncio.gather(*(e.dispose() for e in engines))
        self._engines.clear()
        self._makers.clear()
        self._readers.clear()
        self._shared = None


def private_file(path: Path) -> None:
    """Make sure ``path`` exists readable by this user only (0600, in a 0700 folder), before anything is
    written to it (a tenant's database, keys, credentials)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)  # also one created before this rule


def _sqlite_pragmas(engine: AsyncEngine, *, read_only: bool) -> None:
    # WAL lets readers run beside a writer; a writer's BEGIN IMMEDIATE takes the write lock up front so
    # two transactions never deadlock upgrading read locks (SQLite would fail one with "locked"). A
    # reader's plain (deferred) BEGIN takes no lock: its snapshot starts at its first read.
    # synchronous stays FULL (WAL's NORMAL could lose the last commits on a power cut, and an event they
    # sent would then be known to the receiver but not here); only writes pay for it.
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        if read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn) -> None:  # noqa: ANN001
        if read_only:  # the reader's connection runs in this thread: straight to it (db/sqlite.py)
            conn.connection.driver_connection.begin_here()
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
