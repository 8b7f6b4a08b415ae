"""Referrals: a copy of concerns' beat boundaries (concerns is the single source of beats), so that
matching places points and measures distances by the same polygons.

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
    op.create_table(
        "beat_areas",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("boundary", sa.Text, nullable=False),
        sa.Column("min_lat", sa.Float, nullable=False),
        sa.Column("min_long", sa.Float, nullable=False),
        sa.Column("max_lat", sa.Float, nullable=False),
        sa.Column("max_long", sa.Float, nullable=False),
        sa.Column("centre_lat", sa.Float, nullable=False),
        sa.Column("centre_long", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("beat_areas")
