"""督查通报 issues: bulletins (number per year, period, figures snapshot), append-only

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulletins",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletins")),
        sa.UniqueConstraint("year", "number", name=op.f("uq_bulletins_year_number")),
    )
    op.create_index("ix_bulletins_created_at_id", "bulletins", ["created_at", "id"])
    # 第六、七条: an issued bulletin is never edited or deleted; a correction is a new issue.
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER bulletins_no_{event.lower()} BEFORE {event} ON bulletins "
                       "BEGIN SELECT RAISE(ABORT, 'bulletins is append-only'); END")
    else:
        op.execute("CREATE FUNCTION bulletins_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'bulletins is append-only'; END $$")
        op.execute("CREATE TRIGGER bulletins_append_only BEFORE UPDATE OR DELETE ON bulletins "
                   "FOR EACH ROW EXECUTE FUNCTION bulletins_append_only()")


def downgrade() -> None:
    op.drop_index("ix_bulletins_created_at_id", table_name="bulletins")
    op.drop_table("bulletins")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION bulletins_append_only()")
