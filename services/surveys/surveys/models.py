"""Tables of the surveys database (SQLAlchemy 2 typed mappings).

Anonymity is a property of the schema: `responses` and `answers` hold no
invitation id, token, token hash, recipient, concern id or timestamp, and their
keys are random UUIDs, so neither a column nor the key order links a response back
to the invitation that allowed it (see docs/decisions/surveys-anonymity.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from beat_shared.db import TYPE_ANNOTATION_MAP, UuidKey, add_platform_tables

# Constructs stored as one column each on a response: "results for every beat and
# construct" is then one scan of one table (see docs/decisions/surveys-results.md).
CONSTRUCT_COLUMNS = (
    "safety",
    "trust",
    "respect",
    "voice",
    "disorder",
    "efficacy",
    "satisfaction",
    "procedural_justice",
)


class Base(DeclarativeBase):
    type_annotation_map = TYPE_ANNOTATION_MAP  # every moment aware UTC, on SQLite as on PostgreSQL


add_platform_tables(Base.metadata)


class Survey(Base):
    """One version of a survey definition; versions are immutable once created."""

    __tablename__ = "surveys"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_survey_code_version"),)

    id: Mapped[UuidKey]
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[dict[str, str]] = mapped_column(JSON)
    description: Mapped[dict[str, str]] = mapped_column(JSON)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(120))


class Wave(Base):
    """A survey run for a set of beats over a period."""

    __tablename__ = "waves"

    id: Mapped[UuidKey]
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id"))
    name: Mapped[str] = mapped_column(String(200))
    period: Mapped[str] = mapped_column(String(10))
    beat_codes: Mapped[list[str]] = mapped_column(JSON)
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    open_link_slug: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    open_link_daily_limit: Mapped[int] = mapped_column(Integer, default=3)
    open_link_max_per_beat: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime]


class Invitation(Base):
    """A one-time invitation. Only the SHA-256 of its token is stored.

    When the token is used the row forgets who it was for (recipient, concern, beat,
    category) and keeps only `used`, so the spent token cannot be linked to anyone.
    """

    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("wave_id", "recipient_key", name="uq_invitation_wave_recipient"),)

    id: Mapped[UuidKey]
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id"))
    wave_id: Mapped[str | None] = mapped_column(ForeignKey("waves.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    recipient_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    recipient_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    concern_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    beat_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    category_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class Response(Base):
    """An anonymous response: which survey, where, which period; never who or when exactly."""

    __tablename__ = "responses"
    __table_args__ = (Index("ix_responses_survey_period_beat", "survey_code", "period", "beat_code"),)

    id: Mapped[UuidKey]  # random, so order tells nothing
    survey_id: Mapped[str] = mapped_column(ForeignKey("surveys.id"))
    survey_code: Mapped[str] = mapped_column(String(64))
    wave_id: Mapped[str | None] = mapped_column(ForeignKey("waves.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))  # invited | open
    beat_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    category_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    period: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(8))
    safety: Mapped[float | None] = mapped_column(Float, nullable=True)
    trust: Mapped[float | None] = mapped_column(Float, nullable=True)
    respect: Mapped[float | None] = mapped_column(Float, nullable=True)
    voice: Mapped[float | None] = mapped_column(Float, nullable=True)
    disorder: Mapped[float | None] = mapped_column(Float, nullable=True)
    efficacy: Mapped[float | None] = mapped_column(Float, nullable=True)
    satisfaction: Mapped[float | None] = mapped_column(Float, nullable=True)
    procedural_justice: Mapped[float | None] = mapped_column(Float, nullable=True)


class Answer(Base):
    """One answer of a response, with the grouping columns copied for one-table aggregation."""

    __tablename__ = "answers"
    __table_args__ = (Index("ix_answers_survey_period_item", "survey_code", "period", "item_code"),)

    response_id: Mapped[str] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    survey_code: Mapped[str] = mapped_column(String(64))
    beat_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    category_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    period: Mapped[str] = mapped_column(String(10))
    value_num: Mapped[float | None] = mapped_column(Float, nullable=True)
    value_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)


class ResultTotal(Base):
    """Running sufficient statistics of one results cell, kept up to date as responses arrive.

    One row per survey, grouping (beat or category), group, period, channel, measure
    (construct or item) and code: how many answered, how many gave a value, Σy, Σy² and
    how many were favourable. Results read these few thousand rows instead of scanning
    every response (see docs/decisions/surveys-results.md); `responses` and `answers`
    stay the record the totals can be rebuilt from (`surveys.totals.rebuild_totals`).
    """

    __tablename__ = "result_totals"

    survey_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    grouping: Mapped[str] = mapped_column(String(10), primary_key=True)  # beat | category
    group_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    measure: Mapped[str] = mapped_column(String(10), primary_key=True)  # construct | item
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    n: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)
    squares: Mapped[float] = mapped_column(Float, default=0.0)
    favourable: Mapped[int] = mapped_column(Integer, default=0)


class OpenLinkUse(Base):
    """Open-link submissions per device per day (a keyed hash, rotated daily), to limit stuffing."""

    __tablename__ = "open_link_uses"

    wave_id: Mapped[str] = mapped_column(ForeignKey("waves.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    device_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)


class OpenLinkCount(Base):
    """Open-link responses per wave and beat (the cap is checked without touching responses)."""

    __tablename__ = "open_link_counts"

    wave_id: Mapped[str] = mapped_column(ForeignKey("waves.id"), primary_key=True)
    beat_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    responses: Mapped[int] = mapped_column(Integer, default=0)


class BeatPopulation(Base):
    """Residents per beat, for optional post-stratification weights."""

    __tablename__ = "beat_populations"

    beat_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    population: Mapped[int] = mapped_column(Integer)


class ResultsChange(Base):
    """A period whose results changed since `beat.survey.results_updated` was last published."""

    __tablename__ = "results_changes"

    survey_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(36))
    beat_codes: Mapped[list[str]] = mapped_column(JSON)
    pending: Mapped[bool] = mapped_column(Boolean, default=True)


# --- the report card's read model, built from other services' events -------------------


class ConcernActivity(Base):
    __tablename__ = "concern_activity"

    concern_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    beat_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    category_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    submitted_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    follow_up_invited: Mapped[bool] = mapped_column(Boolean, default=False)


class MeetingActivity(Base):
    __tablename__ = "meeting_activity"

    meeting_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    beat_code: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    held_at: Mapped[datetime]


class ReferralActivity(Base):
    __tablename__ = "referral_activity"

    referral_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    beat_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    need_category: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime]


class ProblemActivity(Base):
    """A beat's problem (SARA) as the report card counts it: worked from its first event until
    it was assessed; solved if assessed solved or reduced."""

    __tablename__ = "problem_activity"

    problem_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    beat_code: Mapped[str] = mapped_column(String(64), index=True)
    opened_at: Mapped[datetime]
    assessed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
