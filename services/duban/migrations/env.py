"""Alembic environment: the same migrations are applied to every tenant's storage.

Called two ways: programmatically by ``duban migrate`` (a tenant connection is passed in
``config.attributes["connection"]``), or from the command line (``alembic upgrade head``,
``alembic check``) where it walks every hosted tenant from the settings.
"""

from __future__ import annotations

import asyncio

from alembic import context

from duban.db.base import UTCDateTime
from duban.db.models import Base
from duban.lists.search import outside_models

config = context.config
target_metadata = Base.metadata


def _render_item(type_, obj, autogen_context):  # noqa: ANN001, ANN202
    # Our UTC wrapper is stored as a plain timezone-aware timestamp; render it so migrations
    # don't import application code.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    # Text search lives outside the models (0013): FTS5 tables and their shadow tables on SQLite, trigram
    # GIN indexes on PostgreSQL. Alembic would read them as tables and indexes the models dropped.
    return not (reflected and compare_to is None and outside_models(name, type_))


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
        compare_type=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _every_tenant() -> None:
    from duban.platform import build_database
    from duban.settings import Settings

    db = build_database(Settings.from_env())
    try:
        for tenant in db.tenants:
            async with db.migration_connection(tenant) as conn:
                await conn.run_sync(_run)
    finally:
        await db.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run against a database")
elif "connection" in config.attributes:
    _run(config.attributes["connection"])
else:
    asyncio.run(_every_tenant())
