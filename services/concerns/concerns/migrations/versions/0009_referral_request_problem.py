"""Concerns: a referral request may be made for a problem (issue 26), which then links the referral
referrals drafts from it.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referral_requests") as batch:
        batch.add_column(sa.Column("problem_id", sa.String(36), nullable=True))
        batch.create_foreign_key(
            "fk_referral_requests_problem_id", "problems", ["problem_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_referral_requests_problem_id", ["problem_id"])


def downgrade() -> None:
    with op.batch_alter_table("referral_requests") as batch:
        batch.drop_index("ix_referral_requests_problem_id")
        batch.drop_constraint("fk_referral_requests_problem_id", type_="foreignkey")
        batch.drop_column("problem_id")
