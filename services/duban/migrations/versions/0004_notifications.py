"""notifications: per-user notifications, their delivery per channel, users' e-mail addresses

- ``notifications``: what one user of the tenant is told; unique (recipient, dedup_key) so the same
  reminder is stored once; ``dispatched_at`` once the dispatcher made its deliveries.
- ``notification_deliveries``: one notification through one channel (pending | sent | failed).
- ``users.email``: where the e-mail channel writes to (nullable: not everyone has one).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("item_ref", sa.String(length=80), nullable=True),
        sa.Column("assignment_id", sa.String(length=36), nullable=True),
        sa.Column("dedup_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("recipient", "dedup_key", name=op.f("uq_notifications_recipient_dedup_key")),
    )
    op.create_index("ix_notifications_recipient_created_at", "notifications", ["recipient", "created_at"])
    op.create_index(op.f("ix_notifications_dispatched_at"), "notifications", ["dispatched_at"])

    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"], ondelete="CASCADE",
                                name=op.f("fk_notification_deliveries_notification_id_notifications")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint("notification_id", "channel",
                            name=op.f("uq_notification_deliveries_notification_id_channel")),
    )
    op.create_index("ix_notification_deliveries_due", "notification_deliveries", ["state", "next_attempt_at"])

    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    # Not batch: on SQLite a batch drop would copy and drop ``users``, and dropping it cascades to
    # user_roles and login_sessions (foreign keys are on). SQLite ≥ 3.35 drops the column in place.
    op.drop_column("users", "email")
    op.drop_index("ix_notification_deliveries_due", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_index(op.f("ix_notifications_dispatched_at"), table_name="notifications")
    op.drop_index("ix_notifications_recipient_created_at", table_name="notifications")
    op.drop_table("notifications")
