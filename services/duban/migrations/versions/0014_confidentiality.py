"""第八条 confidentiality: the 批示件 register, per-item need-to-know, protected reads

- ``instruction_register``: the registrar's 批示件登记 (a number unique per year).
- ``assignments.confidentiality``: the item's level travels with 交办, so a unit's copy is protected too.
  Added with a server default (``internal``, the items' default): no table rebuild on SQLite, and rows
  from before keep their meaning.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "instruction_register",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("instructed_on", sa.Date(), nullable=False),
        sa.Column("leader", sa.String(length=64), nullable=False),
        sa.Column("leader_name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=True),
        sa.Column("registered_by", sa.String(length=100), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instruction_register")),
        sa.UniqueConstraint("year", "number", name=op.f("uq_instruction_register_year_number")),
    )
    op.create_index("ix_instruction_register_registered_at_id", "instruction_register", ["registered_at", "id"])
    op.create_index(op.f("ix_instruction_register_item_id"), "instruction_register", ["item_id"])
    # A plain ADD COLUMN (SQLite too): no rebuild of assignments, its triggers and search index stay as they are.
    op.add_column("assignments", sa.Column("confidentiality", sa.String(length=16), nullable=False,
                                           server_default="internal"))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite ≥ 3.35 too): a batch rebuild would drop the search triggers of 0013.
    op.drop_column("assignments", "confidentiality")
    op.drop_index(op.f("ix_instruction_register_item_id"), table_name="instruction_register")
    op.drop_index("ix_instruction_register_registered_at_id", table_name="instruction_register")
    op.drop_table("instruction_register")
