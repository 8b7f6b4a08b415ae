"""Notifications: subscriptions confirmed by e-mail (double opt-in for people without an account).

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
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    # Every subscription so far was a signed-in person's: confirmed when it was made.
    op.execute("UPDATE subscriptions SET confirmed_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("confirmed_at")
