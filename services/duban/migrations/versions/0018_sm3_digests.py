"""SM3 as a second digest on the audit and history chains

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 10:00:00

The audit and history rows get ``sm3`` (nullable): SM3 over exactly the bytes their SHA-256 ``hash`` is
taken over (duban/audit/chain.py). Where SM3 is available the rows already there are given theirs here,
in ``seq`` order, from their own ``prev_hash`` and fields; the append-only triggers are lifted for that
and put back (a row whose SHA-256 no longer matches keeps failing on it: SM3 hides nothing). Where SM3
is not available the column stays NULL and ``duban audit verify`` checks SHA-256 only.
On SQLite adding a column is a plain ALTER TABLE, which keeps the tables' triggers; dropping it
(downgrade) rebuilds the tables in batch mode, which drops them, so they are made again: the
append-only ones of both tables (0001, 0009) and the one that keeps ``history_head`` (0017). On
PostgreSQL the columns come and go without touching the triggers; ``history_chain_head()`` keeps the
search_path 0017 bound it to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from duban.audit import history, service
from duban.audit.chain import links, sm3_available
from duban.db.base import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_audit = sa.table(
    "audit", sa.column("seq", sa.Integer()), sa.column("at", UTCDateTime()), sa.column("actor", sa.String()),
    sa.column("action", sa.String()), sa.column("target", sa.String()), sa.column("detail", sa.Text()),
    sa.column("prev_hash", sa.String()), sa.column("hash", sa.String()), sa.column("sm3", sa.String()),
)
_history = sa.table(
    "history", sa.column("id", sa.Integer()), sa.column("item_ref", sa.String()),
    sa.column("assignment_id", sa.String()), sa.column("action", sa.String()), sa.column("from_state", sa.String()),
    sa.column("to_state", sa.String()), sa.column("actor", sa.String()), sa.column("note", sa.Text()),
    sa.column("at", UTCDateTime()), sa.column("seq", sa.Integer()), sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()), sa.column("sm3", sa.String()),
)
_TABLES = ((_audit, service.fields), (_history, history.fields))


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _append_only(table: str, on: bool) -> None:
    """Lift (``on`` False) or put back the triggers that refuse UPDATE and DELETE on ``table``, as made by
    0001 (history) and 0009 (audit): two triggers on SQLite, one calling ``<table>_append_only()`` on
    PostgreSQL (the function stays)."""
    if _sqlite():
        for event in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event.lower()}")
            if on:
                op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        if on:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")


def upgrade() -> None:
    conn = op.get_bind()
    for table, _ in _TABLES:
        op.add_column(table.name, sa.Column("sm3", sa.String(length=64), nullable=True))
    if not sm3_available():
        return
    for table, fields in _TABLES:
        _append_only(table.name, False)
        for row in conn.execute(sa.select(table).order_by(table.c.seq)).all():
            _, sm3 = links(row.prev_hash, fields(row))
            conn.execute(sa.update(table).where(table.c.seq == row.seq).values(sm3=sm3))
        _append_only(table.name, True)


def downgrade() -> None:
    for table, _ in _TABLES:
        with op.batch_alter_table(table.name) as batch:
            batch.drop_column("sm3")
        if _sqlite():  # the table was rebuilt without its triggers
            _append_only(table.name, True)
    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS history_chain_head")
        op.execute("CREATE TRIGGER history_chain_head AFTER INSERT ON history "
                   "BEGIN UPDATE history_head SET hash = NEW.hash WHERE id = 1 AND seq = NEW.seq; END")
