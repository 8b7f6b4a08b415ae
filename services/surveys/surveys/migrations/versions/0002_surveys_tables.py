"""Surveys: definitions, waves, invitations, anonymous responses, the report card's read model.

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
        "beat_populations",
        sa.Column("beat_code", sa.String(length=64), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("beat_code"),
    )
    op.create_table(
        "concern_activity",
        sa.Column("concern_id", sa.String(length=64), nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=True),
        sa.Column("category_code", sa.String(length=64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("follow_up_invited", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("concern_id"),
    )
    op.create_index("ix_concern_activity_beat_code", "concern_activity", ["beat_code"])
    op.create_table(
        "meeting_activity",
        sa.Column("meeting_id", sa.String(length=64), nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id"),
    )
    op.create_index("ix_meeting_activity_beat_code", "meeting_activity", ["beat_code"])
    op.create_table(
        "referral_activity",
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=True),
        sa.Column("need_category", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index("ix_referral_activity_beat_code", "referral_activity", ["beat_code"])
    op.create_table(
        "results_changes",
        sa.Column("survey_code", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("survey_id", sa.String(length=36), nullable=False),
        sa.Column("beat_codes", sa.JSON(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("survey_code", "period"),
    )
    op.create_table(
        "surveys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", "version", name="uq_survey_code_version"),
    )
    op.create_table(
        "waves",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("survey_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("beat_codes", sa.JSON(), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("open_link_slug", sa.String(length=64), nullable=True),
        sa.Column("open_link_daily_limit", sa.Integer(), nullable=False),
        sa.Column("open_link_max_per_beat", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_link_slug"),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("survey_id", sa.String(length=36), nullable=False),
        sa.Column("wave_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("recipient_ref", sa.String(length=200), nullable=True),
        sa.Column("recipient_key", sa.String(length=64), nullable=True),
        sa.Column("concern_id", sa.String(length=64), nullable=True),
        sa.Column("beat_code", sa.String(length=64), nullable=True),
        sa.Column("category_code", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["waves.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sa.UniqueConstraint("wave_id", "recipient_key", name="uq_invitation_wave_recipient"),
    )
    op.create_table(
        "open_link_counts",
        sa.Column("wave_id", sa.String(length=36), nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["waves.id"],
        ),
        sa.PrimaryKeyConstraint("wave_id", "beat_code"),
    )
    op.create_table(
        "open_link_uses",
        sa.Column("wave_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["waves.id"],
        ),
        sa.PrimaryKeyConstraint("wave_id", "day", "device_hash"),
    )
    op.create_table(
        "responses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("survey_id", sa.String(length=36), nullable=False),
        sa.Column("survey_code", sa.String(length=64), nullable=False),
        sa.Column("wave_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=True),
        sa.Column("category_code", sa.String(length=64), nullable=True),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("safety", sa.Float(), nullable=True),
        sa.Column("trust", sa.Float(), nullable=True),
        sa.Column("respect", sa.Float(), nullable=True),
        sa.Column("voice", sa.Float(), nullable=True),
        sa.Column("disorder", sa.Float(), nullable=True),
        sa.Column("efficacy", sa.Float(), nullable=True),
        sa.Column("satisfaction", sa.Float(), nullable=True),
        sa.Column("procedural_justice", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["waves.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_responses_survey_period_beat", "responses", ["survey_code", "period", "beat_code"])
    op.create_table(
        "answers",
        sa.Column("response_id", sa.String(length=36), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("survey_code", sa.String(length=64), nullable=False),
        sa.Column("beat_code", sa.String(length=64), nullable=True),
        sa.Column("category_code", sa.String(length=64), nullable=True),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["response_id"], ["responses.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("response_id", "item_code"),
    )
    op.create_index("ix_answers_survey_period_item", "answers", ["survey_code", "period", "item_code"])


def downgrade() -> None:
    op.drop_index("ix_answers_survey_period_item", table_name="answers")
    op.drop_table("answers")
    op.drop_index("ix_responses_survey_period_beat", table_name="responses")
    op.drop_table("responses")
    op.drop_table("open_link_uses")
    op.drop_table("open_link_counts")
    op.drop_table("invitations")
    op.drop_table("waves")
    op.drop_table("surveys")
    op.drop_table("results_changes")
    op.drop_index("ix_referral_activity_beat_code", table_name="referral_activity")
    op.drop_table("referral_activity")
    op.drop_index("ix_meeting_activity_beat_code", table_name="meeting_activity")
    op.drop_table("meeting_activity")
    op.drop_index("ix_concern_activity_beat_code", table_name="concern_activity")
    op.drop_table("concern_activity")
    op.drop_table("beat_populations")
