"""Hot read statements, compiled once and run on the driver's own connection.

A list page is a few small indexed reads, each well under a millisecond in the database. Through the
ORM each one also costs 0.5–1 ms of Python (building and caching the statement, the execution context,
the result and the objects), several times the read itself. The statements of the hot lists have a
fixed shape per set of filters, so they are built with SQLAlchemy Core once per shape (``bindparam``
for every value), compiled once per dialect and tenant schema, and then only run: the SQL text goes to
the driver (asyncpg or SQLite) with the values, and each row comes back as a plain tuple, its values
converted by the columns' own types (``Row``: attributes by column name, as the ORM objects had).

They run inside the session's transaction, on its connection: a read request's snapshot covers them.
The statement stays SQLAlchemy Core, written in the repository beside the rest of its SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Date, DateTime, Select, String, bindparam, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from duban.db.base import UTCDateTime

Row = tuple  # a NamedTuple made per statement: row.<column name>


# Called with (SQL, parameters) before each run: tracing, and benchmarks that show a statement's plan.
listeners: list[Callable[[str, Sequence[Any]], None]] = []


class _Compiled(NamedTuple):
    sql: str
    names: tuple[str, ...]  # the parameters in their positional order
    binds: tuple[Callable[[Any], Any] | None, ...]  # each parameter's conversion to the driver's value
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column, conversion from the driver's value)
    row: type
    constants: dict[str, Any]


class Prepared:
    """One statement shape: ``build()`` gives the Core select (values as named ``bindparam``s)."""

    def __init__(self, build: Callable[[], Select]) -> None:
        self._build = build
        self._compiled: dict[Hashable, _Compiled] = {}

    def _compile(self, dialect: Dialect, schemas: Mapping[Any, str] | None) -> _Compiled:
        key = (dialect.name, tuple(schemas.items()) if schemas else None)
        found = self._compiled.get(key)
        if found is None:
            statement = self._build()
            compiled = statement.compile(dialect=dialect, schema_translate_map=schemas,
                                         render_schema_translate=bool(schemas))
            if "POSTCOMPILE" in compiled.string:  # an expanding IN: write a list of parameters instead
                raise ValueError(f"a prepared statement cannot hold an expanding IN: {compiled.string}")
            names = tuple(compiled.positiontup or ())
            # Values written into the statement (a constant state…) as against those given per run.
            constants = {n: b.effective_value for n, b in compiled.binds.items() if not b.required}
            binds = tuple(compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names)
            columns = list(statement.selected_columns)
            results = tuple(_result_processor(c.type, dialect) for c in columns)
            row = NamedTuple("Row", [(c.key, Any) for c in columns])  # type: ignore[misc]
            converted = tuple((i, f) for i, f in enumerate(results) if f is not None)
            found = self._compiled[key] = _Compiled(compiled.string, names, binds, converted, row, constants)
        return found

    async def rows(self, session: AsyncSession, **values: Any) -> list[Any]:  # noqa: ANN401
        """The rows for these values, in the session's transaction."""
        where = await _where(session)
        c = self._compile(where.dialect, where.schemas)
        given = {**c.constants, **values} if c.constants else values
        params = [given[n] if convert is None else convert(given[n]) for n, convert in zip(c.names, c.binds,
                                                                                            strict=True)]
        for listen in listeners:
            listen(c.sql, params)
        driver = where.pooled.driver_connection
        if where.dialect.name == "postgresql":
            if not driver.is_in_transaction():  # SQLAlchemy's adapter begins lazily, at its first statement
                await _begin(session, where.pooled.dbapi_connection)
            raw: Sequence[Any] = await driver.fetch(c.sql, *params)
        else:
            async with driver.execute(c.sql, params) as cursor:
                raw = await cursor.fetchall()
        make = c.row._make
        if not c.converted:
            return [make(r) for r in raw]
        rows = []
        for r in raw:
            values_ = list(r)
            for i, convert in c.converted:
                if values_[i] is not None:
                    values_[i] = convert(values_[i])
            rows.append(make(values_))
        return rows


def _result_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:  # noqa: ANN401
    """How a column's value comes back from the driver. SQLite keeps dates and timestamps as ISO text,
    which ``fromisoformat`` reads several times faster than SQLAlchemy's general parser (same values)."""
    if dialect.name == "sqlite":
        if isinstance(type_, UTCDateTime):
            return _utc_from_text
        if isinstance(type_, Date) and not isinstance(type_, DateTime):
            return _date_from_text
    return type_.dialect_impl(dialect).result_processor(dialect, None)


def _utc_from_text(value: str) -> datetime:
    found = datetime.fromisoformat(value)
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def _date_from_text(value: str) -> date:
    return date.fromisoformat(value)


class _Where(NamedTuple):
    transaction: Any  # the session's transaction this was found for
    dialect: Dialect
    schemas: Mapping[Any, str] | None
    pooled: Any  # the pool's connection: .driver_connection (asyncpg / aiosqlite), .dbapi_connection (adapter)


async def _where(session: AsyncSession) -> _Where:
    """The session's connection, dialect and schema map, found once per transaction (kept in session.info)."""
    transaction = session.sync_session.get_transaction()
    found = session.info.get("duban.prepared")
    if found is not None and transaction is not None and found.transaction is transaction:
        return found
    connection = await session.connection()
    schemas = connection.sync_connection.get_execution_options().get("schema_translate_map")
    # Checked out by session.connection(): reading it needs no trip through the pool (no greenlet).
    found = _Where(session.sync_session.get_transaction(), connection.dialect, schemas,
                   connection.sync_connection.connection)
    session.info["duban.prepared"] = found
    return found


async def _begin(session: AsyncSession, adapter: Any) -> None:  # noqa: ANN401
    """Begin the transaction SQLAlchemy's asyncpg adapter holds, with its isolation level and read-only
    flag, as its first statement would (without a statement's trip through SQLAlchemy)."""
    start = getattr(adapter, "_start_transaction", None)
    if start is None or getattr(adapter, "_transaction", None) is not None:
        await session.execute(text("SELECT 1"))  # another SQLAlchemy version: a statement begins it
        return
    await start()


class Shapes:
    """Prepared statements by shape (which filters a list was given): made on first use, then kept."""

    def __init__(self, build: Callable[..., Select]) -> None:
        self._build = build
        self._shapes: dict[Hashable, Prepared] = {}

    def __call__(self, *shape: Hashable) -> Prepared:
        found = self._shapes.get(shape)
        if found is None:
            found = self._shapes[shape] = Prepared(lambda: self._build(*shape))
        return found


CHUNK = 512  # ids per IN list


def ids_parameters(n: int) -> list[Any]:
    """``n`` parameters ``id0``… for an IN list (see ``chunked``)."""
    return [bindparam(f"id{i}", type_=String()) for i in range(n)]


def chunked(ids: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """The values of ``ids_parameters`` for ``ids``, in chunks of a few fixed sizes (powers of two up to
    CHUNK, the last id repeated to fill one), so that a handful of statement shapes serve any count."""
    chunks = []
    for start in range(0, len(ids), CHUNK):
        part = list(ids[start:start + CHUNK])
        size = 1 << (len(part) - 1).bit_length()
        part += [part[-1]] * (size - len(part))
        chunks.append((size, {f"id{i}": v for i, v in enumerate(part)}))
    return chunks
