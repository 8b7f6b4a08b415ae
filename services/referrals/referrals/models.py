"""Tables of the referrals database (SQLAlchemy 2 typed mappings).

Two parts: the agency directory, shaped after Open Referral HSDS 3.0 (organizations,
services, locations, taxonomy terms, ...), and the closed-loop referrals with their
consent records, audit log and agency webhook registrations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from beat_shared.db import TYPE_ANNOTATION_MAP, SerialKey, UuidKey, add_platform_tables
from beat_shared.idempotency import add_idempotency_table

UUID_LENGTH = 36

# The columns most tables have, declared once (SQLAlchemy's annotated declarative types).
ServiceKey = Annotated[str, mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)]


class Base(DeclarativeBase):
    type_annotation_map = TYPE_ANNOTATION_MAP  # every moment aware UTC, on SQLite as on PostgreSQL


add_platform_tables(Base.metadata)
IDEMPOTENCY_KEYS = add_idempotency_table(Base.metadata)  # new referrals


# --- directory (HSDS 3.0) -----------------------------------------------------------------


class Organization(Base):
    """An agency. `agency_id` ("agency-<slug>") is how tokens, events and queues name it."""

    __tablename__ = "organizations"
    id: Mapped[UuidKey]
    agency_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    alternate_name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(8), default="en")
    last_modified: Mapped[datetime]

    services: Mapped[list[Service]] = relationship(back_populates="organization", order_by="Service.name")
    locations: Mapped[list[Location]] = relationship(back_populates="organization", order_by="Location.name")
    phones: Mapped[list[Phone]] = relationship(
        primaryjoin="and_(Phone.organization_id == Organization.id, Phone.service_id.is_(None))",
        viewonly=True,
        order_by="Phone.id",
    )


class Taxonomy(Base):
    __tablename__ = "taxonomies"
    id: Mapped[UuidKey]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    uri: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[str | None] = mapped_column(String(40))


class TaxonomyTerm(Base):
    """A need category; `code` (e.g. "housing") is what referral events carry."""

    __tablename__ = "taxonomy_terms"
    id: Mapped[UuidKey]
    taxonomy_id: Mapped[str | None] = mapped_column(ForeignKey("taxonomies.id"))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("taxonomy_terms.id"))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))

    taxonomy: Mapped[Taxonomy | None] = relationship()


class ServiceTaxonomyTerm(Base):
    """HSDS 3 links a service to a term through an `attribute` row."""

    __tablename__ = "service_taxonomy_terms"
    __table_args__ = (UniqueConstraint("service_id", "taxonomy_term_id", name="uq_service_term"),)
    id: Mapped[UuidKey]
    service_id: Mapped[ServiceKey]
    taxonomy_term_id: Mapped[str] = mapped_column(ForeignKey("taxonomy_terms.id"), index=True)

    term: Mapped[TaxonomyTerm] = relationship()


class Service(Base):
    __tablename__ = "services"
    id: Mapped[UuidKey]
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    alternate_name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(24), default="active")
    interpretation_services: Mapped[str | None] = mapped_column(Text)
    application_process: Mapped[str | None] = mapped_column(Text)
    fees_description: Mapped[str | None] = mapped_column(Text)
    wait_time: Mapped[str | None] = mapped_column(String(200))
    eligibility_description: Mapped[str | None] = mapped_column(Text)
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    alert: Mapped[str | None] = mapped_column(Text)
    # Beat's availability signal for matching: does the service take new referrals now?
    accepting_referrals: Mapped[bool] = mapped_column(Boolean, default=True)
    last_modified: Mapped[datetime] = mapped_column(index=True)

    organization: Mapped[Organization] = relationship(back_populates="services")
    terms: Mapped[list[ServiceTaxonomyTerm]] = relationship(
        cascade="all, delete-orphan", order_by="ServiceTaxonomyTerm.id"
    )
    phones: Mapped[list[Phone]] = relationship(cascade="all, delete-orphan", order_by="Phone.id")
    schedules: Mapped[list[Schedule]] = relationship(cascade="all, delete-orphan", order_by="Schedule.id")
    languages: Mapped[list[Language]] = relationship(cascade="all, delete-orphan", order_by="Language.code")
    service_areas: Mapped[list[ServiceArea]] = relationship(cascade="all, delete-orphan", order_by="ServiceArea.name")
    service_at_locations: Mapped[list[ServiceAtLocation]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="ServiceAtLocation.id"
    )


class Location(Base):
    __tablename__ = "locations"
    id: Mapped[UuidKey]
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    location_type: Mapped[str] = mapped_column(String(16), default="physical")
    name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    transportation: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # One address per location is all a city's directory needs; HSDS's addresses list is built from it.
    address_1: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state_province: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))

    organization: Mapped[Organization | None] = relationship(back_populates="locations")


class ServiceAtLocation(Base):
    __tablename__ = "service_at_locations"
    __table_args__ = (UniqueConstraint("service_id", "location_id", name="uq_service_location"),)
    id: Mapped[UuidKey]
    service_id: Mapped[ServiceKey]
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)

    service: Mapped[Service] = relationship(back_populates="service_at_locations")
    location: Mapped[Location] = relationship()


class Phone(Base):
    __tablename__ = "phones"
    id: Mapped[UuidKey]
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    service_id: Mapped[ServiceKey | None]
    number: Mapped[str] = mapped_column(String(40))
    extension: Mapped[int | None] = mapped_column(Integer)
    type: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)


class Schedule(Base):
    """A weekly opening (RFC 5545 style: freq WEEKLY, byday "MO,TU", opens_at "09:00")."""

    __tablename__ = "schedules"
    id: Mapped[UuidKey]
    service_id: Mapped[ServiceKey]
    freq: Mapped[str] = mapped_column(String(10), default="WEEKLY")
    interval: Mapped[int | None] = mapped_column(Integer)
    byday: Mapped[str | None] = mapped_column(String(40))
    opens_at: Mapped[str | None] = mapped_column(String(8))
    closes_at: Mapped[str | None] = mapped_column(String(8))
    valid_from: Mapped[str | None] = mapped_column(String(10))
    valid_to: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)


class Language(Base):
    __tablename__ = "languages"
    id: Mapped[UuidKey]
    service_id: Mapped[ServiceKey]
    code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)


class ServiceArea(Base):
    """Where a service works; `beat_code` (RV-01 ...) when the area is a police beat."""

    __tablename__ = "service_areas"
    id: Mapped[UuidKey]
    service_id: Mapped[ServiceKey]
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    beat_code: Mapped[str | None] = mapped_column(String(64), index=True)


# --- referrals ----------------------------------------------------------------------------


class ConsentRecord(Base):
    """Who consented, when, how, to which agency, for what and until when."""

    __tablename__ = "consent_records"
    id: Mapped[UuidKey]
    agency_id: Mapped[str | None] = mapped_column(String(64), index=True)
    given_by: Mapped[str | None] = mapped_column(String(200))  # personal data: erased by retention
    given_at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(500))
    valid_until: Mapped[datetime | None]  # None: until the referral closes
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by: Mapped[str | None] = mapped_column(String(120))
    withdrawal_method: Mapped[str | None] = mapped_column(String(40))


class Referral(Base):
    __tablename__ = "referrals"
    id: Mapped[UuidKey]
    request_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # from beat.referral.requested
    agency_id: Mapped[str | None] = mapped_column(String(64), index=True)
    service_id: Mapped[str | None] = mapped_column(String(UUID_LENGTH))
    need_category: Mapped[str] = mapped_column(String(64), index=True)
    urgency: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    beat_code: Mapped[str | None] = mapped_column(String(64))
    concern_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(120))
    consent_id: Mapped[str | None] = mapped_column(ForeignKey("consent_records.id"))
    # The client's personal data: shown only under valid consent, erased after retention.
    client_name: Mapped[str | None] = mapped_column(String(200))
    client_phone: Mapped[str | None] = mapped_column(String(40))
    client_email: Mapped[str | None] = mapped_column(String(200))
    client_language: Mapped[str | None] = mapped_column(String(8))
    client_age: Mapped[int | None] = mapped_column(Integer)
    client_notes: Mapped[str | None] = mapped_column(Text)
    decline_reason: Mapped[str | None] = mapped_column(String(40))
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)  # the agency's free-text note: personal data
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    respond_by: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    personal_data_erased_at: Mapped[datetime | None]

    consent: Mapped[ConsentRecord | None] = relationship()
    history: Mapped[list[ReferralStatusChange]] = relationship(
        cascade="all, delete-orphan", order_by="ReferralStatusChange.id"
    )

    __table_args__ = (Index("ix_referrals_status_respond_by", "status", "respond_by"),)


class ReferralStatusChange(Base):
    __tablename__ = "referral_status_changes"
    id: Mapped[SerialKey]
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime]


class AuditEntry(Base):
    """One read of a client's personal data: who, what, when."""

    __tablename__ = "audit_log"
    id: Mapped[SerialKey]
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(120), index=True)
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_agency_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    referral_id: Mapped[str] = mapped_column(String(UUID_LENGTH), index=True)
    fields: Mapped[str] = mapped_column(String(300))


class BeatArea(Base):
    """A police beat as concerns (the single source of beats) draws it, copied by `sync_beats`:
    matching places points and measures distances by the same polygons concerns places concerns by."""

    __tablename__ = "beat_areas"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    boundary: Mapped[str] = mapped_column(Text)  # the GeoJSON (Multi)Polygon, as JSON text
    min_lat: Mapped[float] = mapped_column(Float)
    min_long: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    max_long: Mapped[float] = mapped_column(Float)
    centre_lat: Mapped[float] = mapped_column(Float)
    centre_long: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer)  # concerns' reference version this copy was taken at
    synced_at: Mapped[datetime]


class FailedRequest(Base):
    """A `beat.referral.requested` that could not become a referral: kept (ids and reason only),
    so a redelivered request is answered the same way instead of retried."""

    __tablename__ = "failed_requests"
    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    concern_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(40))
    failed_at: Mapped[datetime]


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    id: Mapped[UuidKey]
    agency_id: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]

    secrets: Mapped[list[WebhookSecret]] = relationship(
        cascade="all, delete-orphan", order_by="WebhookSecret.created_at.desc()"
    )


class WebhookSecret(Base):
    """A Standard Webhooks signing secret; rotated-out secrets keep signing until expires_at."""

    __tablename__ = "webhook_secrets"
    id: Mapped[UuidKey]
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    secret: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
