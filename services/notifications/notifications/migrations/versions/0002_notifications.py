"""Notifications: recipient directory, preferences, notifications, messages, delivery log, inbox.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from beat_shared.db import BigId

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("venue", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_broadcasts_beat_code", "broadcasts", ["beat_code"])

    op.create_table(
        "endpoint_states",
        sa.Column("endpoint_id", sa.String(length=64), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.String(length=300), nullable=True),
        sa.Column("throttled_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disable_reported", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("endpoint_id"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expanded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key", "rule", name="uq_notification_rule"),
    )
    op.create_index("ix_notifications_due", "notifications", ["status", "next_attempt_at"])

    op.create_table(
        "recipients",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
        sa.UniqueConstraint("subject"),
    )
    op.create_table(
        "suppressions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("address_hash", "channel", "topic", name="uq_suppression"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("notification_id", BigId, nullable=True),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("recipient_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("address_ref", sa.JSON(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("attempt_base", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sending_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("held_for_digest", sa.Boolean(), nullable=False),
        sa.Column("digest_id", sa.String(length=36), nullable=True),
        sa.Column("sms_segments", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key", "recipient_key", "channel", name="uq_message_once"),
    )
    op.create_index("ix_messages_digest_id", "messages", ["digest_id"])
    op.create_index("ix_messages_due", "messages", ["status", "next_attempt_at"])
    op.create_index("ix_messages_event_id", "messages", ["event_id"])
    op.create_index("ix_messages_notification_id", "messages", ["notification_id"])

    op.create_table(
        "preferences",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("recipient_id", BigId, nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["recipient_id"], ["recipients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recipient_id", "topic", "channel", name="uq_preference"),
    )
    op.create_index("ix_preferences_recipient_id", "preferences", ["recipient_id"])

    op.create_table(
        "subscriptions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("recipient_id", BigId, nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["recipient_id"], ["recipients.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recipient_id", "beat_code", name="uq_subscription"),
    )
    op.create_index("ix_subscriptions_beat_code", "subscriptions", ["beat_code"])
    op.create_index("ix_subscriptions_recipient_id", "subscriptions", ["recipient_id"])

    op.create_table(
        "delivery_attempts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delivery_attempts_message_id", "delivery_attempts", ["message_id"])

    op.create_table(
        "inbox_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index("ix_inbox_subject", "inbox_items", ["subject", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_subject", table_name="inbox_items")

    op.drop_table("inbox_items")
    op.drop_index("ix_delivery_attempts_message_id", table_name="delivery_attempts")

    op.drop_table("delivery_attempts")
    op.drop_index("ix_subscriptions_recipient_id", table_name="subscriptions")
    op.drop_index("ix_subscriptions_beat_code", table_name="subscriptions")

    op.drop_table("subscriptions")
    op.drop_index("ix_preferences_recipient_id", table_name="preferences")

    op.drop_table("preferences")
    op.drop_index("ix_messages_notification_id", table_name="messages")
    op.drop_index("ix_messages_event_id", table_name="messages")
    op.drop_index("ix_messages_due", table_name="messages")
    op.drop_index("ix_messages_digest_id", table_name="messages")

    op.drop_table("messages")
    op.drop_table("suppressions")
    op.drop_table("recipients")
    op.drop_index("ix_notifications_due", table_name="notifications")

    op.drop_table("notifications")
    op.drop_table("endpoint_states")
    op.drop_index("ix_broadcasts_beat_code", table_name="broadcasts")

    op.drop_table("broadcasts")
