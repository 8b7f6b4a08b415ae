"""Concerns: a counter of changes to problems beside the reference data's, for the processes'
in-memory copies of the open problems (a new concern joins the open problems of its beat).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reference_versions") as batch:
        batch.add_column(sa.Column("problems_version", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("reference_versions") as batch:
        batch.drop_column("problems_version")
