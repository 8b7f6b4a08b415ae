"""Referrals: consent may have no end date (then it lasts until the referral closes);
requests that could not become referrals are kept with their reason.

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
    with op.batch_alter_table("consent_records") as batch:
        batch.alter_column("valid_until", existing_type=sa.DateTime(timezone=True), nullable=True)
    op.create_table(
        "failed_requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("concern_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("failed_requests")
    # The old schema needs an end date and cannot say "until the referral closes": such consent is
    # ended (valid_until = given_at), so nothing is shared on a guess after a downgrade.
    op.execute(sa.text("UPDATE consent_records SET valid_until = given_at WHERE valid_until IS NULL"))
    with op.batch_alter_table("consent_records") as batch:
        batch.alter_column("valid_until", existing_type=sa.DateTime(timezone=True), nullable=False)
