"""event order and counters: per-stream inbox order, parked events, gapless numbers

- ``counters``: gapless number series taken in the caller's transaction (item serials per year, and
  each item's outgoing event sequence per receiving tenant).
- ``inbox_streams``: the last sequence number applied per (item, sender).
- ``inbox``: the event's ``seq``, when it was parked and applied, and who resolved it.
- ``outbox``: one sequence number per (item, receiving tenant), unique.

Existing rows are carried over: counters start from the numbers already given, and each stream from
the highest sequence number already applied.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 01:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    counters = op.create_table(
        "counters",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_counters")),
    )
    streams = op.create_table(
        "inbox_streams",
        sa.Column("item_ref", sa.String(length=80), nullable=False),
        sa.Column("from_tenant", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("item_ref", "from_tenant", name=op.f("pk_inbox_streams")),
    )
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_inbox_stream", ["item_ref", "from_tenant", "seq"])
        batch.create_index("ix_inbox_status", ["status"])
    with op.batch_alter_table("outbox") as batch:
        batch.create_unique_constraint(op.f("uq_outbox_item_ref_to_tenant_seq"), ["item_ref", "to_tenant", "seq"])
    _carry_over(counters, streams)


def _carry_over(counters: sa.Table, streams: sa.Table) -> None:
    bind = op.get_bind()
    serials: dict[int, int] = {}
    for (serial,) in bind.execute(sa.text("SELECT serial FROM items WHERE serial IS NOT NULL")):
        year, _, number = serial.partition("-")
        if year.isdigit() and number.isdigit():
            serials[int(year)] = max(serials.get(int(year), 0), int(number))
    rows = [{"key": f"item_serial:{year}", "value": n} for year, n in serials.items()]
    rows += [{"key": f"outbox_seq:{to}:{ref}", "value": last} for ref, to, last in bind.execute(
        sa.text("SELECT item_ref, to_tenant, MAX(seq) FROM outbox GROUP BY item_ref, to_tenant"))]
    if rows:
        op.bulk_insert(counters, rows)

    applied: dict[tuple[str, str], int] = {}
    for event_id, ref, sender, status, body in bind.execute(
            sa.text("SELECT id, item_ref, from_tenant, status, body FROM inbox")).all():
        try:
            seq = int(json.loads(body)["seq"])
        except (ValueError, KeyError, TypeError):
            continue
        bind.execute(sa.text("UPDATE inbox SET seq = :seq WHERE id = :id"), {"seq": seq, "id": event_id})
        if status == "applied":
            applied[(ref, sender)] = max(applied.get((ref, sender), 0), seq)
    bind.execute(sa.text("UPDATE inbox SET applied_at = received_at WHERE status = 'applied'"))
    if applied:
        op.bulk_insert(streams, [{"item_ref": r, "from_tenant": s, "last_seq": n} for (r, s), n in applied.items()])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("uq_outbox_item_ref_to_tenant_seq"), type_="unique")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_index("ix_inbox_status")
        batch.drop_index("ix_inbox_stream")
        for column in ("resolved_at", "resolved_by", "applied_at", "parked_at", "seq"):
            batch.drop_column(column)
    op.drop_table("inbox_streams")
    op.drop_table("counters")
