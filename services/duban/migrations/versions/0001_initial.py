"""tenant tables: accounts, items, assignments, history, outbox, inbox

Applied to every tenant (one SQLite file or one PostgreSQL schema each). History is append-only:
a trigger refuses UPDATE and DELETE on it (第六、七条: records are never silently edited).

Revision ID: 0001
Revises:
Create Date: 2026-11-26 21:13:52.900222
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("item_ref", sa.String(length=80), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history")),
    )
    op.create_index(op.f("ix_history_item_ref"), "history", ["item_ref"])

    op.create_table(
        "inbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("from_tenant", sa.String(length=32), nullable=False),
        sa.Column("item_ref", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
    )
    op.create_index(op.f("ix_inbox_item_ref"), "inbox", ["item_ref"])

    op.create_table(
        "items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("serial", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("division", sa.String(length=100), nullable=False),
        sa.Column("group_code", sa.String(length=32), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("confidentiality", sa.String(length=16), nullable=False),
        sa.Column("retention", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("parent_ref", sa.String(length=80), nullable=True),
        sa.Column("archive", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sa.UniqueConstraint("serial", name=op.f("uq_items_serial")),
    )
    op.create_index(op.f("ix_items_state"), "items", ["state"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("to_tenant", sa.String(length=32), nullable=False),
        sa.Column("item_ref", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(op.f("ix_outbox_item_ref"), "outbox", ["item_ref"])
    op.create_index(op.f("ix_outbox_sent_at"), "outbox", ["sent_at"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_ref", sa.String(length=80), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=True),
        sa.Column("assigner", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("serial", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_assignments_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("item_ref", "unit", name=op.f("uq_assignments_item_ref_unit")),
    )
    op.create_index(op.f("ix_assignments_item_id"), "assignments", ["item_id"])
    op.create_index(op.f("ix_assignments_item_ref"), "assignments", ["item_ref"])
    op.create_index(op.f("ix_assignments_state"), "assignments", ["state"])
    op.create_index(op.f("ix_assignments_unit"), "assignments", ["unit"])

    op.create_table(
        "login_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_login_sessions")),
    )
    op.create_index(op.f("ix_login_sessions_user_id"), "login_sessions", ["user_id"])

    op.create_table(
        "user_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_roles")),
        sa.UniqueConstraint("user_id", "role", name=op.f("uq_user_roles_user_id_role")),
    )
    op.create_index(op.f("ix_user_roles_user_id"), "user_roles", ["user_id"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_feedback_assignment_id_assignments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_index(op.f("ix_feedback_assignment_id"), "feedback", ["assignment_id"])

    _history_append_only()


def _history_append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER history_no_{event.lower()} BEFORE {event} ON history "
                "BEGIN SELECT RAISE(ABORT, 'history is append-only'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION history_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'history is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history "
            "FOR EACH ROW EXECUTE FUNCTION history_append_only()"
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_feedback_assignment_id"), table_name="feedback")

    op.drop_table("feedback")
    op.drop_index(op.f("ix_user_roles_user_id"), table_name="user_roles")

    op.drop_table("user_roles")
    op.drop_index(op.f("ix_login_sessions_user_id"), table_name="login_sessions")

    op.drop_table("login_sessions")
    op.drop_index(op.f("ix_assignments_unit"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_state"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_item_ref"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_item_id"), table_name="assignments")

    op.drop_table("assignments")
    op.drop_table("users")
    op.drop_index(op.f("ix_outbox_sent_at"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_item_ref"), table_name="outbox")

    op.drop_table("outbox")
    op.drop_index(op.f("ix_items_state"), table_name="items")

    op.drop_table("items")
    op.drop_index(op.f("ix_inbox_item_ref"), table_name="inbox")

    op.drop_table("inbox")
    op.drop_index(op.f("ix_history_item_ref"), table_name="history")

    op.drop_table("history")
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION history_append_only()")
