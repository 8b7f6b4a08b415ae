"""Surveys: running totals per results cell, filled from the responses already stored.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "result_totals",
        sa.Column("survey_code", sa.String(length=64), nullable=False),
        sa.Column("grouping", sa.String(length=10), nullable=False),
        sa.Column("group_code", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("measure", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("squares", sa.Float(), nullable=False),
        sa.Column("favourable", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("survey_code", "grouping", "group_code", "period", "channel", "measure", "code"),
    )
    # Imported here, not at the top: the rebuild reads today's models, which match this revision.
    from surveys.totals import rebuild_totals

    rebuild_totals(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.drop_table("result_totals")
