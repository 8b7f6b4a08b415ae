"""Concerns: Idempotency-Key of submissions (hashes only, kept for a day).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_keys",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("concern_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["concern_id"], ["concerns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key_hash"),
    )
    op.create_index("ix_submission_keys_created_at", "submission_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_submission_keys_created_at", table_name="submission_keys")
    op.drop_table("submission_keys")
