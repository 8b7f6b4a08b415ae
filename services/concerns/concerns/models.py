"""Tables of the concerns database (SQLAlchemy 2 typed mappings; SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from beat_shared.db import SerialKey, UtcDateTime, UuidKey, add_platform_tables
from beat_shared.idempotency import add_idempotency_table

# References to a concern (its history, supports, problem links go with it) and to a beat.
ConcernRef = Annotated[str, mapped_column(ForeignKey("concerns.id", ondelete="CASCADE"), index=True)]
BeatRef = Annotated[str, mapped_column(ForeignKey("beats.code"))]


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


add_platform_tables(Base.metadata)
IDEMPOTENCY_KEYS = add_idempotency_table(Base.metadata)  # submissions


class Category(Base):
    """A kind of concern; an Open311 "service" with its attribute definitions."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    group: Mapped[str] = mapped_column("group_name", String(100), default="")
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    attributes: Mapped[list[Any]] = mapped_column(default=list)
    acknowledge_hours: Mapped[int] = mapped_column(Integer, default=72)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
    # A city's translations, by language: {"es": {"name", "description", "group", "attributes":
    # {code: {"description", "datatype_description", "values": {key: name}}}}} (English is the source).
    translations: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Beat(Base):
    """A patrol beat (a neighbourhood's area); its boundary is a GeoJSON (Multi)Polygon."""

    __tablename__ = "beats"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    neighbourhood: Mapped[str] = mapped_column(String(200), default="")
    boundary: Mapped[dict[str, Any]]
    min_lat: Mapped[float] = mapped_column(Float)
    min_long: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    max_long: Mapped[float] = mapped_column(Float)
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime]


REFERENCE_VERSION_ROW = 1  # reference_versions' one row


class ReferenceVersion(Base):
    """One row counting the changes to categories and beats (`version`) and to problems
    (`problems_version`): processes cache those and re-read the counters to know when to reload
    (concerns/reference.py)."""

    __tablename__ = "reference_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    problems_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Officer(Base):
    """A community police officer or supervisor (a token subject) with the public profile."""

    __tablename__ = "officers"

    subject: Mapped[str] = mapped_column(String(120), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="officer")
    title: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    photo_url: Mapped[str | None] = mapped_column(String(1000))
    bio: Mapped[str] = mapped_column(Text, default="")


class BeatAssignment(Base):
    __tablename__ = "beat_assignments"
    __table_args__ = (UniqueConstraint("beat_code", "subject", name="uq_beat_assignment"),)

    id: Mapped[SerialKey]
    beat_code: Mapped[str] = mapped_column(ForeignKey("beats.code", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(ForeignKey("officers.subject", ondelete="CASCADE"), index=True)
    assigned_at: Mapped[datetime]


class Concern(Base):
    """What a resident voiced. Personal data lives only here and in referral requests."""

    __tablename__ = "concerns"
    __table_args__ = (
        Index("ix_concerns_status_submitted", "status", "submitted_at"),
        Index("ix_concerns_category_submitted", "category_code", "submitted_at"),
        Index("ix_concerns_category_place", "category_code", "lat", "long"),  # likely duplicates
        Index("ix_concerns_beat_status", "beat_code", "status"),
    )

    id: Mapped[UuidKey]
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    description: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(500))
    address_id: Mapped[str | None] = mapped_column(String(100))
    media_url: Mapped[str | None] = mapped_column(String(1000))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    language: Mapped[str] = mapped_column(String(8), default="en")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    reporter_subject: Mapped[str | None] = mapped_column(String(120), index=True)
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_email: Mapped[str | None] = mapped_column(String(320))
    reporter_phone: Mapped[str | None] = mapped_column(String(40))
    contact_preference: Mapped[str] = mapped_column(String(10), default="none")
    device_id: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[str | None] = mapped_column(String(200))
    receipt_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16), default="api")
    status: Mapped[str] = mapped_column(String(32))
    beat_code: Mapped[str | None] = mapped_column(String(64), index=True)
    outside_beats: Mapped[bool] = mapped_column(Boolean, default=False)
    supporters: Mapped[int] = mapped_column(Integer, default=0)
    merged_into: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    acknowledge_by: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    @property
    def has_contact(self) -> bool:
        return bool(self.reporter_email or self.reporter_phone)


class PublicConcern(Protocol):
    """What the public view reads: a `Concern`, or a row of PUBLIC_CONCERN_COLUMNS (no personal data)."""

    id: str
    category_code: str
    status: str
    beat_code: str | None
    outside_beats: bool
    supporters: int
    merged_into: str | None
    submitted_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    ended_at: datetime | None
    media_url: str | None
    description: str
    lat: float | None
    long: float | None


# The columns PublicConcern names, for queries that show only the public view.
PUBLIC_CONCERN_COLUMNS = tuple(Concern.__table__.c[name] for name in PublicConcern.__annotations__)


class ConcernUpdate(Base):
    """One step of a concern's history: who moved it, when, and the notes they left."""

    __tablename__ = "concern_updates"

    id: Mapped[SerialKey]
    concern_id: Mapped[ConcernRef]
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    actor_subject: Mapped[str] = mapped_column(String(120))
    actor_role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(index=True)
    public_note: Mapped[str | None] = mapped_column(Text)
    internal_note: Mapped[str | None] = mapped_column(Text)


class Support(Base):
    """A resident's "me too", counted once per resident subject or token."""

    __tablename__ = "concern_supports"
    __table_args__ = (UniqueConstraint("concern_id", "supporter_key", name="uq_support_once"),)

    id: Mapped[SerialKey]
    concern_id: Mapped[ConcernRef]
    supporter_key: Mapped[str] = mapped_column(String(130), index=True)
    created_at: Mapped[datetime]


class ReferralRequest(Base):
    """An officer's request that referrals finds help for a resident, with the consent recorded."""

    __tablename__ = "referral_requests"

    id: Mapped[UuidKey]
    concern_id: Mapped[str | None] = mapped_column(ForeignKey("concerns.id"), index=True)
    beat_code: Mapped[str | None] = mapped_column(String(64))
    need_category: Mapped[str] = mapped_column(String(64))
    urgency: Mapped[str] = mapped_column(String(10))
    client_name: Mapped[str] = mapped_column(String(200))
    client_phone: Mapped[str | None] = mapped_column(String(40))
    client_email: Mapped[str | None] = mapped_column(String(320))
    client_language: Mapped[str] = mapped_column(String(8), default="en")
    notes: Mapped[str] = mapped_column(Text, default="")
    consent_given_by: Mapped[str] = mapped_column(String(200))
    consent_given_at: Mapped[datetime]
    consent_method: Mapped[str] = mapped_column(String(20))
    consent_scope: Mapped[str] = mapped_column(String(500))
    consent_valid_until: Mapped[datetime | None]
    requested_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    # "requested" until referrals says otherwise; "failed" with the reason it gave (beat.referral.request_failed).
    state: Mapped[str] = mapped_column(String(20), default="requested", server_default="requested")
    failure_reason: Mapped[str | None] = mapped_column(String(40))
    failed_at: Mapped[datetime | None]
    # Made for a problem (issue 26): the referral drafted from it joins the problem's plan.
    problem_id: Mapped[str | None] = mapped_column(ForeignKey("problems.id", ondelete="SET NULL"), index=True)


class Meeting(Base):
    """A community meeting or activity in a beat."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_beat_starts", "beat_code", "starts_at"),)

    id: Mapped[UuidKey]
    beat_code: Mapped[BeatRef]
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    agenda: Mapped[list[Any]] = mapped_column(default=list)
    organiser: Mapped[str] = mapped_column(String(120))
    attendees: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    concluded_at: Mapped[datetime | None]


class AgreedAction(Base):
    """What residents and officers agreed to do, who owns it and by when."""

    __tablename__ = "agreed_actions"

    id: Mapped[UuidKey]
    meeting_id: Mapped[str | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    beat_code: Mapped[str] = mapped_column(ForeignKey("beats.code"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    concern_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    # A problem's response plan is its actions, agreed at a meeting or added to the plan directly.
    problem_id: Mapped[str | None] = mapped_column(ForeignKey("problems.id", ondelete="SET NULL"), index=True)
    owner_kind: Mapped[str | None] = mapped_column(String(12))  # officer | residents | agency | city


class BeatPriority(Base):
    """One of a beat's agreed priorities for a period (e.g. 2026-Q1)."""

    __tablename__ = "beat_priorities"
    __table_args__ = (Index("ix_priorities_beat_period", "beat_code", "period"),)

    id: Mapped[SerialKey]
    beat_code: Mapped[BeatRef]
    period: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    concern_ids: Mapped[list[Any]] = mapped_column(default=list)
    meeting_id: Mapped[str | None] = mapped_column(ForeignKey("meetings.id"))
    agreed_at: Mapped[datetime]


class Problem(Base):
    """A problem worked with SARA: repeated concerns of some categories around one place in a beat."""

    __tablename__ = "problems"
    __table_args__ = (Index("ix_problems_beat_stage", "beat_code", "stage"),)

    id: Mapped[UuidKey]
    beat_code: Mapped[BeatRef]
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")  # public: no personal data
    categories: Mapped[list[Any]] = mapped_column(default=list)
    centre_lat: Mapped[float | None] = mapped_column(Float)
    centre_long: Mapped[float | None] = mapped_column(Float)
    radius_metres: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(12))  # candidate | manual
    stage: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(20))
    referral_ids: Mapped[list[Any]] = mapped_column(default=list)
    opened_by: Mapped[str] = mapped_column(String(120))
    opened_at: Mapped[datetime]
    stage_changed_at: Mapped[datetime]
    response_started_at: Mapped[datetime | None]
    response_ended_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    assessment: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the evidence the closing kept


class ProblemConcern(Base):
    """A concern linked to a problem, by an officer or automatically as it arrived."""

    __tablename__ = "problem_concerns"
    __table_args__ = (UniqueConstraint("problem_id", "concern_id", name="uq_problem_concern"),)

    id: Mapped[SerialKey]
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"), index=True)
    concern_id: Mapped[ConcernRef]
    linked_by: Mapped[str] = mapped_column(String(120))  # a subject, or "arrival"
    linked_at: Mapped[datetime]


class ProblemNote(Base):
    """Analysis along the problem-analysis triangle (place, offender, victim) or of others involved."""

    __tablename__ = "problem_notes"

    id: Mapped[SerialKey]
    problem_id: Mapped[str] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(12))
    party: Mapped[str] = mapped_column(String(200), default="")  # e.g. landlord, business, agency
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime]


class Tip(Base):
    """Information a resident passed to a beat's officers: never public, no client address or device
    kept; erased at `erase_after`."""

    __tablename__ = "tips"
    __table_args__ = (Index("ix_tips_beat_received", "beat_code", "received_at"),)

    id: Mapped[UuidKey]
    beat_code: Mapped[BeatRef]
    category_code: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(320))  # only for a call-back, if they want one
    language: Mapped[str] = mapped_column(String(8), default="en")
    problem_id: Mapped[str | None] = mapped_column(ForeignKey("problems.id", ondelete="SET NULL"), index=True)
    received_at: Mapped[datetime]
    erase_after: Mapped[datetime] = mapped_column(index=True)


class TipRead(Base):
    """Who read a tip and when (kept after the tip is erased)."""

    __tablename__ = "tip_reads"

    id: Mapped[SerialKey]
    tip_id: Mapped[str] = mapped_column(String(36), index=True)
    reader: Mapped[str] = mapped_column(String(120), index=True)
    reader_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))  # list | read | link
    at: Mapped[datetime] = mapped_column(index=True)
