"""SQLite connections for SQLAlchemy's aiosqlite dialect that cost fewer trips between threads.

Stock aiosqlite runs every call (make a cursor, execute, fetch the rows, close the cursor, commit, roll
back) on the connection's own thread, each a hand-off to it and back: about 100 µs of CPU and a wait for
the interpreter lock each time, four or more per statement. Two kinds here:

* ``threaded``: the connection keeps its thread, but a statement is one trip there (execute and fetch
  every row together), a cursor is made and closed where it is used, and a commit or rollback with no
  transaction open is not sent. For writing: a write may wait on another connection's lock (busy_timeout),
  which must not stop the event loop.
* ``inline``: no thread; every call runs at once in the caller's (the event loop's) thread. For the
  read-only pool only (``PRAGMA query_only``, WAL): a reader never waits for a lock there, and a page's
  statements take far less time than the hand-offs they would cost. A long read holds the loop for its
  length.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import aiosqlite
from aiosqlite.context import Result


def _execute_and_fetch(cursor: sqlite3.Cursor, sql: str, parameters: Iterable[Any]) -> list[Any]:
    cursor.execute(sql, parameters)
    return cursor.fetchall() if cursor.description else []


class Cursor(aiosqlite.Cursor):
    """A cursor whose statement and rows come back in one call; the rows are then served from memory."""

    def __init__(self, conn: aiosqlite.Connection, cursor: sqlite3.Cursor) -> None:
        super().__init__(conn, cursor)
        self._rows: list[Any] = []

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        parameters = () if parameters is None else parameters
        self._rows = await self._execute(_execute_and_fetch, self._cursor, sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = size or self._cursor.arraysize
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        # Every row was fetched with the statement, so the statement is finished: nothing to send.
        self._rows = []
        self._cursor.close()


class _Now:
    """Stands in for the queue to a connection's thread: runs each call at once (``inline``)."""

    def put_nowait(self, job: tuple[Any, Callable[[], Any]]) -> None:
        future, function = job
        try:
            result = function()
        except BaseException as exc:  # handed to the waiting caller, as the thread would
            if future is not None:
                future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class Connection(aiosqlite.Connection):
    """aiosqlite's connection, with one trip per statement (``threaded``) or none (``inline``)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], *, inline: bool) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._thread.daemon = True  # as SQLAlchemy makes aiosqlite's: a pool never disposed must not keep
        # the process from exiting
        self.inline = inline
        if inline:
            self._tx = _Now()  # type: ignore[assignment]

    def __await__(self):  # noqa: ANN204
        if not self.inline:
            self._thread.start()
        return self._connect().__await__()

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self.inline:
            return await super()._execute(fn, *args, **kwargs)
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def cursor(self) -> Result[Cursor]:  # type: ignore[override]
        async def make() -> Cursor:
            return Cursor(self, self._conn.cursor())

        return Result(make())

    def begin_here(self) -> None:
        """BEGIN (deferred), sent at once from the calling thread: for an ``inline`` connection, whose
        calls all run there anyway, without the round through SQLAlchemy's statement machinery."""
        assert self.inline, "only an inline connection may be used from the caller's thread"
        self._conn.execute("BEGIN")

    async def commit(self) -> None:
        if self._conn.in_transaction:
            await self._execute(self._conn.commit)

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await self._execute(self._conn.rollback)

    def stop(self) -> Any:
        if not self.inline:
            return super().stop()
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        return None


def connector(path: Path, *, inline: bool) -> Callable[[], Connection]:
    """What ``create_async_engine(..., async_creator=...)`` calls for a new connection to ``path``.
    ``check_same_thread=False``: a cursor is made and read in the event loop's thread, while (threaded)
    its statements run on the connection's thread — one at a time, as the pool lends a connection to one
    user at a time."""
    return lambda: Connection(lambda: sqlite3.connect(str(path), check_same_thread=False), inline=inline)
