"""Concerns: the state of an officer's referral request and, when referrals could not make a
referral of it, the reason (from beat.referral.request_failed).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referral_requests") as batch:
        batch.add_column(sa.Column("state", sa.String(20), nullable=False, server_default="requested"))
        batch.add_column(sa.Column("failure_reason", sa.String(40), nullable=True))
        batch.add_column(sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referral_requests") as batch:
        batch.drop_column("failed_at")
        batch.drop_column("failure_reason")
        batch.drop_column("state")
