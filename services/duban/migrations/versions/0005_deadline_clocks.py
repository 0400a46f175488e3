"""deadline clocks: each assignment's 签收, 反馈, 进度 and 办结 clocks; periodic reports in the plan

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clocks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("original_due", sa.Date(), nullable=False),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("late_workdays", sa.Integer(), nullable=True),
        sa.Column("next_reminder_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_clocks_assignment_id_assignments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clocks")),
    )
    op.create_index(op.f("ix_clocks_assignment_id"), "clocks", ["assignment_id"])
    op.create_index("ix_clocks_state_due", "clocks", ["state", "due"])
    op.create_index("ix_clocks_state_next_reminder_on", "clocks", ["state", "next_reminder_on"])
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("progress_reports", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("progress_reports")
    op.drop_index("ix_clocks_state_next_reminder_on", table_name="clocks")
    op.drop_index("ix_clocks_state_due", table_name="clocks")
    op.drop_index(op.f("ix_clocks_assignment_id"), table_name="clocks")
    op.drop_table("clocks")
