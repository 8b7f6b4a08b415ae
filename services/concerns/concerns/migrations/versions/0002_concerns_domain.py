"""The concerns domain: categories, beats, officers, concerns and their history, support,
referral requests, meetings, agreed actions and priorities.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "beats",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("neighbourhood", sa.String(length=200), nullable=False),
        sa.Column("boundary", sa.JSON(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("min_long", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("max_long", sa.Float(), nullable=False),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "categories",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("group_name", sa.String(length=100), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("acknowledge_hours", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "officers",
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("photo_url", sa.String(length=1000), nullable=True),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.create_table(
        "beat_assignments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["beat_code"], ["beats.code"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subject"], ["officers.subject"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("beat_code", "subject", name="uq_beat_assignment"),
    )
    with op.batch_alter_table("beat_assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_beat_assignments_beat_code"), ["beat_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_beat_assignments_subject"), ["subject"], unique=False)

    op.create_table(
        "concerns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("category_code", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("long", sa.Float(), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("address_id", sa.String(length=100), nullable=True),
        sa.Column("media_url", sa.String(length=1000), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("reporter_subject", sa.String(length=120), nullable=True),
        sa.Column("reporter_name", sa.String(length=200), nullable=True),
        sa.Column("reporter_email", sa.String(length=320), nullable=True),
        sa.Column("reporter_phone", sa.String(length=40), nullable=True),
        sa.Column("contact_preference", sa.String(length=10), nullable=False),
        sa.Column("device_id", sa.String(length=200), nullable=True),
        sa.Column("account_id", sa.String(length=200), nullable=True),
        sa.Column("receipt_token_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=True),
        sa.Column("outside_beats", sa.Boolean(), nullable=False),
        sa.Column("supporters", sa.Integer(), nullable=False),
        sa.Column("merged_into", sa.String(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledge_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["categories.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("receipt_token_hash"),
    )
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concerns_beat_code"), ["beat_code"], unique=False)
        batch_op.create_index("ix_concerns_beat_status", ["beat_code", "status"], unique=False)
        batch_op.create_index("ix_concerns_category_submitted", ["category_code", "submitted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_concerns_reporter_subject"), ["reporter_subject"], unique=False)
        batch_op.create_index("ix_concerns_status_submitted", ["status", "submitted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_concerns_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("venue", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("agenda", sa.JSON(), nullable=False),
        sa.Column("organiser", sa.String(length=120), nullable=False),
        sa.Column("attendees", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("concluded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["beat_code"],
            ["beats.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index("ix_meetings_beat_starts", ["beat_code", "starts_at"], unique=False)

    op.create_table(
        "agreed_actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=True),
        sa.Column("beat_code", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("concern_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["beat_code"],
            ["beats.code"],
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("agreed_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreed_actions_beat_code"), ["beat_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreed_actions_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "beat_priorities",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("concern_ids", sa.JSON(), nullable=False),
        sa.Column("meeting_id", sa.String(length=36), nullable=True),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["beat_code"],
            ["beats.code"],
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("beat_priorities", schema=None) as batch_op:
        batch_op.create_index("ix_priorities_beat_period", ["beat_code", "period"], unique=False)

    op.create_table(
        "concern_supports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("concern_id", sa.String(length=36), nullable=False),
        sa.Column("supporter_key", sa.String(length=130), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["concern_id"], ["concerns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("concern_id", "supporter_key", name="uq_support_once"),
    )
    with op.batch_alter_table("concern_supports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concern_supports_concern_id"), ["concern_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concern_supports_supporter_key"), ["supporter_key"], unique=False)

    op.create_table(
        "concern_updates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("concern_id", sa.String(length=36), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("actor_subject", sa.String(length=120), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_note", sa.Text(), nullable=True),
        sa.Column("internal_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["concern_id"], ["concerns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("concern_updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concern_updates_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_concern_updates_concern_id"), ["concern_id"], unique=False)

    op.create_table(
        "referral_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("concern_id", sa.String(length=36), nullable=True),
        sa.Column("beat_code", sa.String(length=64), nullable=True),
        sa.Column("need_category", sa.String(length=64), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("client_name", sa.String(length=200), nullable=False),
        sa.Column("client_phone", sa.String(length=40), nullable=True),
        sa.Column("client_email", sa.String(length=320), nullable=True),
        sa.Column("client_language", sa.String(length=8), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("consent_given_by", sa.String(length=200), nullable=False),
        sa.Column("consent_given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_method", sa.String(length=20), nullable=False),
        sa.Column("consent_scope", sa.String(length=500), nullable=False),
        sa.Column("consent_valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["concerns.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("referral_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_requests_concern_id"), ["concern_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referral_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_requests_concern_id"))

    op.drop_table("referral_requests")
    with op.batch_alter_table("concern_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_updates_concern_id"))
        batch_op.drop_index(batch_op.f("ix_concern_updates_at"))

    op.drop_table("concern_updates")
    with op.batch_alter_table("concern_supports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_supports_supporter_key"))
        batch_op.drop_index(batch_op.f("ix_concern_supports_concern_id"))

    op.drop_table("concern_supports")
    with op.batch_alter_table("beat_priorities", schema=None) as batch_op:
        batch_op.drop_index("ix_priorities_beat_period")

    op.drop_table("beat_priorities")
    with op.batch_alter_table("agreed_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreed_actions_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_agreed_actions_beat_code"))

    op.drop_table("agreed_actions")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_meetings_beat_starts")

    op.drop_table("meetings")
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concerns_updated_at"))
        batch_op.drop_index("ix_concerns_status_submitted")
        batch_op.drop_index(batch_op.f("ix_concerns_reporter_subject"))
        batch_op.drop_index("ix_concerns_category_submitted")
        batch_op.drop_index("ix_concerns_beat_status")
        batch_op.drop_index(batch_op.f("ix_concerns_beat_code"))

    op.drop_table("concerns")
    with op.batch_alter_table("beat_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_beat_assignments_subject"))
        batch_op.drop_index(batch_op.f("ix_beat_assignments_beat_code"))

    op.drop_table("beat_assignments")
    op.drop_table("officers")
    op.drop_table("categories")
    op.drop_table("beats")
