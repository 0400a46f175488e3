"""the split tree: parts as items below a received assignment, tree nodes rolled up from events, tenant figures

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("items", sa.Column("issuing_leader", sa.String(length=32), nullable=True))
    op.add_column("items", sa.Column("parent_assignment_id", sa.String(length=36), nullable=True))
    op.create_index(op.f("ix_items_parent_assignment_id"), "items", ["parent_assignment_id"], unique=False)
    op.add_column("assignments", sa.Column("plan_units", sa.JSON(), nullable=True))
    op.create_table(
        "co_views",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_ref", sa.String(length=80), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("co_unit", sa.String(length=32), nullable=False),
        sa.Column("lead_unit", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_co_views")),
    )
    op.create_index(op.f("ix_co_views_item_ref"), "co_views", ["item_ref"], unique=False)
    op.create_table(
        "tree_nodes",
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("item_ref", sa.String(length=80), nullable=False),
        sa.Column("parent_assignment_id", sa.String(length=36), nullable=False),
        sa.Column("part_ref", sa.String(length=80), nullable=False),
        sa.Column("part_serial", sa.String(length=32), nullable=True),
        sa.Column("part_title", sa.String(length=200), nullable=False),
        sa.Column("assigner", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("clocks", sa.JSON(), nullable=False),
        sa.Column("last_feedback", sa.JSON(), nullable=True),
        sa.Column("reported_by", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_tree_nodes")),
    )
    op.create_index(op.f("ix_tree_nodes_item_ref"), "tree_nodes", ["item_ref"], unique=False)
    op.create_table(
        "figure_reports",
        sa.Column("tenant", sa.String(length=32), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in (
            "open", "done", "overdue", "done_on_time",
            "received_open", "received_done", "received_overdue", "received_done_on_time")),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant", name=op.f("pk_figure_reports")),
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_co_views_item_ref"), table_name="co_views")
    op.drop_table("co_views")
    # Not batch: on SQLite a batch drop copies and drops the table, which cascades through the foreign
    # keys (clocks, feedback …). SQLite ≥ 3.35 drops a column in place.
    op.drop_column("assignments", "plan_units")
    op.drop_table("figure_reports")
    op.drop_index(op.f("ix_tree_nodes_item_ref"), table_name="tree_nodes")
    op.drop_table("tree_nodes")
    op.drop_index(op.f("ix_items_parent_assignment_id"), table_name="items")
    op.drop_column("items", "parent_assignment_id")
    op.drop_column("items", "issuing_leader")
