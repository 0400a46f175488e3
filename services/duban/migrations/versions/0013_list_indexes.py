"""lists that scale: keyset indexes, the group and leader an assignment came with, and text search

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 03:00:00

Keyset indexes, one per list's order (models declare them too): items newest first (created_at, id),
a unit's queue by due date (unit, deadline, id), the inbox newest first (received_at, id), reminders
flagged for the 通报 newest first (flagged, at, id).

Text search over title and content of items and assignments (duban/lists/search.py), outside the models
and left out of ``alembic check`` by name (migrations/env.py):
- PostgreSQL: extension pg_trgm in schema ``public``, made once per database (under an advisory lock, as
  every tenant's migration asks for it), and GIN trigram indexes ``ix_<table>_<column>_trgm``. The
  operator class is named with the extension's schema, because a migration's search_path is the tenant's
  schema alone. Downgrade leaves the extension: other tenants' schemas use it. The searched columns keep
  a larger statistics sample (1000), so the planner tells common words from rare ones.
- SQLite: per table an FTS5 table ``<table>_search`` (contentless, trigram tokenizer), a key table
  ``<table>_search_keys`` giving each row a stable integer, and triggers keeping both in step. A later
  migration that rebuilds ``items`` or ``assignments`` on SQLite (batch mode: copy, drop, rename) drops
  these triggers with the old table and must create them again (``_sqlite_triggers`` below).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = {"items": ("title", "content"), "assignments": ("title", "content")}  # = duban.lists.search.SEARCHED
KEYSET = [
    ("ix_items_created_at_id", "items", ["created_at", "id"]),
    ("ix_assignments_unit_deadline_id", "assignments", ["unit", "deadline", "id"]),
    ("ix_inbox_received_at_id", "inbox", ["received_at", "id"]),
    ("ix_reminders_flagged_at_id", "reminders", ["flagged", "at", "id"]),
]


def _sqlite_triggers(name: str) -> list[str]:
    """The triggers that keep ``<name>_search`` and its keys in step with the table ``name``."""
    fts, keys = f"{name}_search", f"{name}_search_keys"
    forget = (f"INSERT INTO {fts} ({fts}, rowid, title, content) "
              f"SELECT 'delete', n, old.title, old.content FROM {keys} WHERE id = old.id;")
    learn = f"INSERT INTO {fts} (rowid, title, content) SELECT n, new.title, new.content FROM {keys} WHERE id = new.id;"
    return [
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {name} BEGIN "
        f"INSERT INTO {keys} (id) VALUES (new.id); {learn} END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF id, title, content ON {name} BEGIN "
        f"{forget} UPDATE {keys} SET id = new.id WHERE id = old.id; {learn} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {name} BEGIN "
        f"{forget} DELETE FROM {keys} WHERE id = old.id; END",
    ]


def upgrade() -> None:
    op.add_column("assignments", sa.Column("group_code", sa.String(length=32), nullable=True))
    op.add_column("assignments", sa.Column("issuing_leader", sa.String(length=32), nullable=True))
    for index, table, columns in KEYSET:
        op.create_index(index, table, columns, unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("SELECT pg_advisory_xact_lock(hashtext('duban: CREATE EXTENSION pg_trgm'))")
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        schema = bind.execute(sa.text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
            " WHERE e.extname = 'pg_trgm'")).scalar_one()
        for table, columns in SEARCHED.items():
            for column in columns:
                op.execute(f"CREATE INDEX ix_{table}_{column}_trgm ON {table} "
                           f'USING gin ({column} "{schema}".gin_trgm_ops)')
                # The planner guesses how many rows hold a word from this column's histogram: with the
                # default 100 entries a word in 5% of the rows can look rare, and a page then reads every
                # match through the index instead of walking the newest rows (280 ms against 7 at 1M).
                op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS 1000")
        return
    for table in SEARCHED:
        fts, keys = f"{table}_search", f"{table}_search_keys"
        op.execute(f"CREATE TABLE {keys} (n INTEGER PRIMARY KEY, id VARCHAR(36) NOT NULL UNIQUE)")
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5(title, content, content='', columnsize=0, "
                   "tokenize='trigram')")
        op.execute(f"INSERT INTO {keys} (id) SELECT id FROM {table}")
        op.execute(f"INSERT INTO {fts} (rowid, title, content) SELECT k.n, t.title, t.content FROM {table} t "
                   f"JOIN {keys} k ON k.id = t.id")
        for trigger in _sqlite_triggers(table):
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in SEARCHED.items():
            for column in columns:
                op.execute(f"DROP INDEX ix_{table}_{column}_trgm")
                op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET STATISTICS -1")
    else:
        for table in SEARCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_search_{event}")
            op.execute(f"DROP TABLE {table}_search")
            op.execute(f"DROP TABLE {table}_search_keys")
    for index, table, _ in reversed(KEYSET):
        op.drop_index(index, table_name=table)
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("issuing_leader")
        batch.drop_column("group_code")
