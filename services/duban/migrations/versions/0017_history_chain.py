"""history rows chained by SHA-256

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 06:10:00

Each history row gets ``seq`` (gapless, unique), ``prev_hash`` and ``hash`` (duban/audit/history.py), and
the table ``history_head`` holds the chain's end (one row: the last number and its hash). Rows already
there are chained here in ``id`` order (the append-only trigger is lifted for that and put back). A
trigger copies each new row's hash into the head, so a writer needs one statement (the head's UPDATE)
to take its numbers and learn the hash to chain onto. On PostgreSQL the trigger function is bound to
the tenant's schema (``SET search_path FROM CURRENT``), as the platform's sessions do not set one.
On SQLite the history table is rebuilt (batch mode) to make the new columns NOT NULL; its only
triggers are the append-only ones, made again afterwards.
"""

from collections.abc import Sequence
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from duban.audit.chain import GENESIS
from duban.audit.history import digest
from duban.db.base import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_history = sa.table(
    "history", sa.column("id", sa.Integer()), sa.column("item_ref", sa.String()),
    sa.column("assignment_id", sa.String()), sa.column("action", sa.String()), sa.column("from_state", sa.String()),
    sa.column("to_state", sa.String()), sa.column("actor", sa.String()), sa.column("note", sa.Text()),
    sa.column("at", UTCDateTime()), sa.column("seq", sa.Integer()), sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def _append_only(on: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS history_no_{event.lower()}")
            if on:
                op.execute(f"CREATE TRIGGER history_no_{event.lower()} BEFORE {event} ON history "
                           "BEGIN SELECT RAISE(ABORT, 'history is append-only'); END")
    elif on:
        op.execute("CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history "
                   "FOR EACH ROW EXECUTE FUNCTION history_append_only()")
    else:
        op.execute("DROP TRIGGER history_append_only ON history")


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    with op.batch_alter_table("history") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))

    # Chain the rows already there, oldest first.
    _append_only(False)
    seq, prev = 0, GENESIS
    rows = conn.execute(sa.select(_history).order_by(_history.c.id)).all()
    for row in rows:
        seq += 1
        link = digest(prev, SimpleNamespace(**(row._asdict() | {"seq": seq})))
        conn.execute(sa.update(_history).where(_history.c.id == row.id).values(seq=seq, prev_hash=prev, hash=link))
        prev = link

    with op.batch_alter_table("history") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint(op.f("uq_history_seq"), ["seq"])
    _append_only(True)

    op.create_table(
        "history_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_head")),
    )
    conn.execute(sa.text("INSERT INTO history_head (id, seq, hash) VALUES (1, :seq, :hash)"),
                 {"seq": seq, "hash": prev})
    if sqlite:
        op.execute("CREATE TRIGGER history_chain_head AFTER INSERT ON history "
                   "BEGIN UPDATE history_head SET hash = NEW.hash WHERE id = 1 AND seq = NEW.seq; END")
    else:
        op.execute("CREATE FUNCTION history_chain_head() RETURNS trigger LANGUAGE plpgsql "
                   "SET search_path FROM CURRENT AS "
                   "$$ BEGIN UPDATE history_head SET hash = NEW.hash WHERE id = 1 AND seq = NEW.seq; "
                   "RETURN NULL; END $$")
        op.execute("CREATE TRIGGER history_chain_head AFTER INSERT ON history "
                   "FOR EACH ROW EXECUTE FUNCTION history_chain_head()")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("DROP TRIGGER IF EXISTS history_chain_head" if sqlite else "DROP TRIGGER history_chain_head ON history")
    if not sqlite:
        op.execute("DROP FUNCTION history_chain_head()")
    op.drop_table("history_head")
    _append_only(False)
    with op.batch_alter_table("history") as batch:
        batch.drop_constraint(op.f("uq_history_seq"), type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    _append_only(True)
