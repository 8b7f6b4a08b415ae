"""Concerns: problems (SARA) with their linked concerns and analysis notes, problem actions on the
agreed actions, and tips with their read log.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from beat_shared.db import BigId

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "problems",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("beat_code", sa.String(64), sa.ForeignKey("beats.code"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("centre_lat", sa.Float(), nullable=True),
        sa.Column("centre_long", sa.Float(), nullable=True),
        sa.Column("radius_metres", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(12), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("referral_ids", sa.JSON(), nullable=False),
        sa.Column("opened_by", sa.String(120), nullable=False),
        sa.Column("opened_at", WHEN, nullable=False),
        sa.Column("stage_changed_at", WHEN, nullable=False),
        sa.Column("response_started_at", WHEN, nullable=True),
        sa.Column("response_ended_at", WHEN, nullable=True),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("assessment", sa.JSON(), nullable=True),
    )
    op.create_index("ix_problems_beat_stage", "problems", ["beat_code", "stage"])
    op.create_table(
        "problem_concerns",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("problem_id", sa.String(36), sa.ForeignKey("problems.id", ondelete="CASCADE"), nullable=False),
        sa.Column("concern_id", sa.String(36), sa.ForeignKey("concerns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("linked_by", sa.String(120), nullable=False),
        sa.Column("linked_at", WHEN, nullable=False),
        sa.UniqueConstraint("problem_id", "concern_id", name="uq_problem_concern"),
    )
    op.create_index("ix_problem_concerns_problem_id", "problem_concerns", ["problem_id"])
    op.create_index("ix_problem_concerns_concern_id", "problem_concerns", ["concern_id"])
    op.create_table(
        "problem_notes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("problem_id", sa.String(36), sa.ForeignKey("problems.id", ondelete="CASCADE"), nullable=False),
        sa.Column("side", sa.String(12), nullable=False),
        sa.Column("party", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(120), nullable=False),
        sa.Column("at", WHEN, nullable=False),
    )
    op.create_index("ix_problem_notes_problem_id", "problem_notes", ["problem_id"])
    op.create_table(
        "tips",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("beat_code", sa.String(64), sa.ForeignKey("beats.code"), nullable=False),
        sa.Column("category_code", sa.String(64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(320), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("problem_id", sa.String(36), sa.ForeignKey("problems.id", ondelete="SET NULL"), nullable=True),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("erase_after", WHEN, nullable=False),
    )
    op.create_index("ix_tips_beat_received", "tips", ["beat_code", "received_at"])
    op.create_index("ix_tips_problem_id", "tips", ["problem_id"])
    op.create_index("ix_tips_erase_after", "tips", ["erase_after"])
    op.create_table(
        "tip_reads",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("tip_id", sa.String(36), nullable=False),
        sa.Column("reader", sa.String(120), nullable=False),
        sa.Column("reader_role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("at", WHEN, nullable=False),
    )
    op.create_index("ix_tip_reads_tip_id", "tip_reads", ["tip_id"])
    op.create_index("ix_tip_reads_reader", "tip_reads", ["reader"])
    op.create_index("ix_tip_reads_at", "tip_reads", ["at"])
    with op.batch_alter_table("agreed_actions") as batch:
        batch.add_column(sa.Column("problem_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("owner_kind", sa.String(12), nullable=True))
        batch.create_foreign_key(
            "fk_agreed_actions_problem_id", "problems", ["problem_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_agreed_actions_problem_id", ["problem_id"])


def downgrade() -> None:
    with op.batch_alter_table("agreed_actions") as batch:
        batch.drop_index("ix_agreed_actions_problem_id")
        batch.drop_constraint("fk_agreed_actions_problem_id", type_="foreignkey")
        batch.drop_column("owner_kind")
        batch.drop_column("problem_id")
    op.drop_table("tip_reads")
    op.drop_table("tips")
    op.drop_table("problem_notes")
    op.drop_table("problem_concerns")
    op.drop_table("problems")
