"""login sessions remember their last use (idle timeout)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy on SQLite): login_sessions' rows stay as they are; a NULL
    # last use counts from the session's creation.
    op.add_column("login_sessions", sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("login_sessions") as batch:
        batch.drop_column("last_seen_at")
