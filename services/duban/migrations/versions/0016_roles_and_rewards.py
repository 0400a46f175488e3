"""the responsibility network: 奖惩建议 records (merit_proposals), append-only; the new roles need no table

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "merit_proposals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("person", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("basis_items", sa.JSON(), nullable=False),
        sa.Column("basis_assignments", sa.JSON(), nullable=False),
        sa.Column("filed_by", sa.String(length=100), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merit_proposals")),
    )
    op.create_index("ix_merit_proposals_filed_at_id", "merit_proposals", ["filed_at", "id"])
    # 第六、七条: a filed proposal is never edited or deleted; a correction is a new proposal.
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER merit_proposals_no_{event.lower()} BEFORE {event} ON merit_proposals "
                       "BEGIN SELECT RAISE(ABORT, 'merit_proposals is append-only'); END")
    else:
        op.execute("CREATE FUNCTION merit_proposals_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'merit_proposals is append-only'; END $$")
        op.execute("CREATE TRIGGER merit_proposals_append_only BEFORE UPDATE OR DELETE ON merit_proposals "
                   "FOR EACH ROW EXECUTE FUNCTION merit_proposals_append_only()")


def downgrade() -> None:
    op.drop_index("ix_merit_proposals_filed_at_id", table_name="merit_proposals")
    op.drop_table("merit_proposals")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION merit_proposals_append_only()")
