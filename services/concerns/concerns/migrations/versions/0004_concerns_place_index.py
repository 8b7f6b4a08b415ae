"""Concerns: an index by category and place, for the likely-duplicates lookup of every submission.

Without it the lookup read every concern of the category from the last 30 days (the
category/submitted index), a cost that grew with the city's history; with it, a band of
latitude around the point.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_concerns_category_place", "concerns", ["category_code", "lat", "long"])


def downgrade() -> None:
    op.drop_index("ix_concerns_category_place", table_name="concerns")
