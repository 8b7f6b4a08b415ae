"""Concerns: a counter of changes to categories and beats, for the processes' in-memory copies.

Each process keeps categories and beat boundaries in memory and re-reads this one row to know
when to reload them (concerns/reference.py). It starts at 0 and every change adds one.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "reference_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("reference_versions")
