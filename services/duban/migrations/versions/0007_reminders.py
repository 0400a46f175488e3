"""催办: reminders sent and received; the leader in charge named at 签收

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_ref", sa.String(length=80), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("clock_id", sa.String(length=36), nullable=True),
        sa.Column("clock_kind", sa.String(length=16), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("clock_id", "step", "due", name=op.f("uq_reminders_clock_id_step_due")),
    )
    op.create_index(op.f("ix_reminders_item_ref"), "reminders", ["item_ref"])
    op.create_index(op.f("ix_reminders_assignment_id"), "reminders", ["assignment_id"])
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("leader_in_charge", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("leader_in_charge")
    op.drop_index(op.f("ix_reminders_assignment_id"), table_name="reminders")
    op.drop_index(op.f("ix_reminders_item_ref"), table_name="reminders")
    op.drop_table("reminders")
