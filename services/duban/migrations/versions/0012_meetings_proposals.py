"""meetings, issuing leaders and 建议提案 (proposals)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # 第四条2: a group member belongs to one 督查组.
    op.add_column("users", sa.Column("group_code", sa.String(length=32), nullable=True))
    op.create_table(
        "meetings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("session_number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("minutes_number", sa.String(length=100), nullable=False),
        sa.Column("chair", sa.String(length=32), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
        sa.UniqueConstraint("kind", "held_on", "session_number", name=op.f("uq_meetings_kind_held_on_session_number")),
    )
    op.create_index(op.f("ix_meetings_held_on"), "meetings", ["held_on"])
    op.create_table(
        "meeting_items",
        sa.Column("meeting_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_items_meeting_id_meetings")),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_meeting_items_item_id_items")),
        sa.PrimaryKeyConstraint("meeting_id", "position", name=op.f("pk_meeting_items")),
        sa.UniqueConstraint("item_id", name=op.f("uq_meeting_items_item_id")),
    )
    op.create_table(
        "proposals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("item_ref", sa.String(length=80), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=True),
        sa.Column("assignment_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("proposer", sa.String(length=200), nullable=False),
        sa.Column("session", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("registered_by", sa.String(length=100), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_proposals_item_id_items")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        sa.UniqueConstraint("kind", "session", "number", name=op.f("uq_proposals_kind_session_number")),
    )
    op.create_index(op.f("ix_proposals_item_ref"), "proposals", ["item_ref"])
    op.create_index(op.f("ix_proposals_item_id"), "proposals", ["item_id"])
    op.create_index(op.f("ix_proposals_assignment_id"), "proposals", ["assignment_id"])
    op.create_table(
        "proposal_replies",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("proposal_id", sa.String(length=36), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("reply_class", sa.String(length=1), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("signed_by", sa.String(length=100), nullable=False),
        sa.Column("contact", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("replied_by", sa.String(length=100), nullable=False),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rating", sa.String(length=24), nullable=True),
        sa.Column("rating_note", sa.Text(), nullable=True),
        sa.Column("rated_by", sa.String(length=100), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"],
                                name=op.f("fk_proposal_replies_proposal_id_proposals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_replies")),
    )
    op.create_index(op.f("ix_proposal_replies_proposal_id"), "proposal_replies", ["proposal_id"])
    op.create_table(
        "proposal_consultations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("proposal_id", sa.String(length=36), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"],
                                name=op.f("fk_proposal_consultations_proposal_id_proposals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_consultations")),
    )
    op.create_index(op.f("ix_proposal_consultations_proposal_id"), "proposal_consultations", ["proposal_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_proposal_consultations_proposal_id"), table_name="proposal_consultations")
    op.drop_table("proposal_consultations")
    op.drop_index(op.f("ix_proposal_replies_proposal_id"), table_name="proposal_replies")
    op.drop_table("proposal_replies")
    op.drop_index(op.f("ix_proposals_assignment_id"), table_name="proposals")
    op.drop_index(op.f("ix_proposals_item_id"), table_name="proposals")
    op.drop_index(op.f("ix_proposals_item_ref"), table_name="proposals")
    op.drop_table("proposals")
    op.drop_table("meeting_items")
    op.drop_index(op.f("ix_meetings_held_on"), table_name="meetings")
    op.drop_table("meetings")
    # Not batch: on SQLite a batch drop copies and drops ``users``, which cascades to user_roles and
    # login_sessions (foreign keys are on). SQLite ≥ 3.35 drops the column in place.
    op.drop_column("users", "group_code")
