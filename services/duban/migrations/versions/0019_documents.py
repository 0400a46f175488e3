"""generated documents and their numbers: documents (通知单, 催办通知书, 督查专报, 办理情况报告) and their stored
renditions, both append-only

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("documents", "document_renditions")


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_documents_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("kind", "year", "seq", name=op.f("uq_documents_kind_year_seq")),
    )
    op.create_index("ix_documents_item_id_created_at", "documents", ["item_id", "created_at"])
    op.create_index(op.f("ix_documents_assignment_id"), "documents", ["assignment_id"])
    op.create_table(
        "document_renditions",
        sa.Column("document_id", sa.String(length=36), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.String(length=63), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"],
                                name=op.f("fk_document_renditions_document_id_documents")),
        sa.PrimaryKeyConstraint("document_id", "format", name=op.f("pk_document_renditions")),
    )
    # 第六、七条: an issued document is never edited or deleted; a correction is a new document.
    for table in TABLES:
        if op.get_bind().dialect.name == "sqlite":
            for event in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        else:
            op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                       f"$$ BEGIN RAISE EXCEPTION '{table} is append-only'; END $$")
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")


def downgrade() -> None:
    op.drop_table("document_renditions")
    op.drop_index(op.f("ix_documents_assignment_id"), table_name="documents")
    op.drop_index("ix_documents_item_id_created_at", table_name="documents")
    op.drop_table("documents")
    if op.get_bind().dialect.name != "sqlite":
        for table in TABLES:
            op.execute(f"DROP FUNCTION {table}_append_only()")
