"""台账 imports: one row per imported sheet row (its import key, the item it became), append-only

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_imports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("row_key", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("batch", sa.String(length=36), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("sheet_row", sa.Integer(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_imports")),
        sa.UniqueConstraint("row_key", name=op.f("uq_ledger_imports_row_key")),
    )
    op.create_index(op.f("ix_ledger_imports_item_id"), "ledger_imports", ["item_id"])
    op.create_index(op.f("ix_ledger_imports_batch"), "ledger_imports", ["batch"])
    # 第六、七条: what was imported, when and by whom, is never edited or deleted.
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER ledger_imports_no_{event.lower()} BEFORE {event} ON ledger_imports "
                       "BEGIN SELECT RAISE(ABORT, 'ledger_imports is append-only'); END")
    else:
        op.execute("CREATE FUNCTION ledger_imports_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'ledger_imports is append-only'; END $$")
        op.execute("CREATE TRIGGER ledger_imports_append_only BEFORE UPDATE OR DELETE ON ledger_imports "
                   "FOR EACH ROW EXECUTE FUNCTION ledger_imports_append_only()")


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_imports_batch"), table_name="ledger_imports")
    op.drop_index(op.f("ix_ledger_imports_item_id"), table_name="ledger_imports")
    op.drop_table("ledger_imports")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION ledger_imports_append_only()")
