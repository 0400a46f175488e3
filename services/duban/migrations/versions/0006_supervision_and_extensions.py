"""督办 records and 延期申请

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supervisions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_ref", sa.String(length=80), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("joint_bodies", sa.JSON(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("follow_up_required", sa.Boolean(), nullable=False),
        sa.Column("follow_up", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervisions")),
    )
    op.create_index(op.f("ix_supervisions_item_ref"), "supervisions", ["item_ref"])
    op.create_index(op.f("ix_supervisions_assignment_id"), "supervisions", ["assignment_id"])
    op.create_table(
        "extensions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_ref", sa.String(length=80), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("clock_id", sa.String(length=36), nullable=False),
        sa.Column("clock_kind", sa.String(length=16), nullable=False),
        sa.Column("current_due", sa.Date(), nullable=False),
        sa.Column("requested_due", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("progress", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("new_due", sa.Date(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extensions")),
    )
    op.create_index(op.f("ix_extensions_item_ref"), "extensions", ["item_ref"])
    op.create_index(op.f("ix_extensions_assignment_id"), "extensions", ["assignment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_extensions_assignment_id"), table_name="extensions")
    op.drop_index(op.f("ix_extensions_item_ref"), table_name="extensions")
    op.drop_table("extensions")
    op.drop_index(op.f("ix_supervisions_assignment_id"), table_name="supervisions")
    op.drop_index(op.f("ix_supervisions_item_ref"), table_name="supervisions")
    op.drop_table("supervisions")
