"""db/sqlite.py: SQLAlchemy's aiosqlite dialect on connections that take one trip to their thread per
statement (``threaded``) or none (``inline``) behaves as the stock one does."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from duban.db import sqlite


@pytest.fixture(params=["threaded", "inline"])
async def engine(request, tmp_path):
    path = tmp_path / "t.sqlite3"
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}",
                                 async_creator=sqlite.connector(path, inline=request.param == "inline"))
    yield engine
    await engine.dispose()


async def test_statements_rows_counts_and_transactions(engine):
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
        done = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert done.lastrowid == 1
        await conn.execute(text("INSERT INTO t (name) VALUES (:name)"), [{"name": f"n{i}"} for i in range(300)])
        assert (await conn.execute(text("UPDATE t SET name = 'x' WHERE id > 250"))).rowcount == 51
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
        assert len(rows) == 301 and rows[0] == (1, "a") and rows[-1] == (301, "x")
        streamed = [r async for r in await conn.stream(text("SELECT id FROM t ORDER BY id"))]
        assert [r.id for r in streamed] == list(range(1, 302))
        assert (await conn.execute(text("SELECT id FROM t WHERE id = 1000"))).first() is None
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM t"))
            raise RuntimeError("rolled back")
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 301


async def test_an_error_reaches_the_caller_and_the_connection_goes_on(engine):
    async with engine.connect() as conn:
        with pytest.raises(Exception, match="no such table"):
            await conn.execute(text("SELECT * FROM missing"))
        assert (await conn.execute(text("SELECT 1"))).scalar() == 1


async def test_connections_serve_concurrent_users(engine):
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))

    async def user(n: int) -> int:
        async with engine.connect() as conn:
            return (await conn.execute(text(f"SELECT {n} + count(*) FROM t"))).scalar()

    assert await asyncio.gather(*(user(n) for n in range(20))) == list(range(20))
