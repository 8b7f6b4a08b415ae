"""Surveys: the report card's problems (SARA), kept from concerns' problem events.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "problem_activity",
        sa.Column("problem_id", sa.String(length=64), nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("problem_id"),
    )
    op.create_index("ix_problem_activity_beat_code", "problem_activity", ["beat_code"])


def downgrade() -> None:
    op.drop_index("ix_problem_activity_beat_code", table_name="problem_activity")
    op.drop_table("problem_activity")
