"""Reading referrals and consent as the actor may see them (a read of client details is audit-logged)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from beat_shared.db import existing
from beat_shared.errors import NotFound
from beat_shared.rows import fields_of
from referrals import directory
from referrals.domain import lifecycle
from referrals.domain.actors import Actor
from referrals.domain.lifecycle import DRAFT, ConsentFacts, consent_problem
from referrals.models import (
    AuditEntry,
    ConsentRecord,
    Organization,
    Referral,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

CLIENT_FIELDS = ("name", "phone", "email", "language", "age", "notes")
CONSENT_FIELDS = ("id", "agency_id", "given_at", "method", "scope", "valid_until", "recorded_by", "withdrawn_at")
AUDIT_FIELDS = ("id", "at", "actor", "actor_role", "actor_agency_id", "action", "referral_id")


# --- referrals ----------------------------------------------------------------------------------


def visible_referrals(actor: Actor) -> Select[tuple[Referral]]:
    """Agencies see only referrals addressed to them, and never drafts."""
    query = select(Referral)
    if actor.is_agency:
        query = query.where(Referral.agency_id == actor.agency_id, Referral.status != DRAFT)
    return query


def get_referral(session: Session, actor: Actor, referral_id: str) -> Referral:
    """The referral if the actor may see it; NotFound otherwise (no hint that it exists)."""
    referral = session.scalars(visible_referrals(actor).where(Referral.id == referral_id)).first()
    if referral is None:
        raise NotFound(f"referral {referral_id} does not exist")
    return referral


def consent_facts(consent: ConsentRecord | None) -> ConsentFacts | None:
    if consent is None:
        return None
    return ConsentFacts(consent.agency_id, consent.given_at, consent.valid_until, consent.withdrawn_at)


def client_withheld_because(now: datetime, actor: Actor, referral: Referral) -> str | None:
    """Why the actor may not see the client's details now, or None when they may."""
    if referral.personal_data_erased_at is not None:
        return "the client's details were erased after the retention period"
    if not actor.is_agency:
        return None
    if referral.status not in lifecycle.AGENCY_MAY_SEE_CLIENT:
        return f"the referral is {referral.status}"
    return consent_problem(consent_facts(referral.consent), referral.agency_id, now)


def referral_summary(referral: Referral) -> dict[str, Any]:
    """What lists show of a referral: codes, statuses and times, no personal data."""
    return {
        **fields_of(
            referral,
            (
                "id",
                "status",
                "agency_id",
                "service_id",
                "need_category",
                "urgency",
                "beat_code",
                "concern_id",
                "request_id",
                "created_at",
                "sent_at",
                "respond_by",
                "decline_reason",
                "outcome",
            ),
        ),
    }


def referral_view(session: Session, now: datetime, actor: Actor, referral: Referral) -> dict[str, Any]:
    """The referral as the actor may see it; a read of client details is audit-logged."""
    withheld = client_withheld_because(now, actor, referral)
    body = {
        **referral_summary(referral),
        **fields_of(referral, ("created_by", "cancel_reason", "accepted_at", "closed_at")),
        "consent": consent_view(referral.consent, now, with_person=withheld is None) if referral.consent else None,
        "history": [
            {"from": change.from_status, "to": change.to_status, "at": change.changed_at, "by": change.changed_by}
            for change in referral.history
        ],
        "client": None,
        "client_withheld_reason": withheld,
        "note": None,
    }
    if withheld is None:
        body["client"] = {field: getattr(referral, f"client_{field}") for field in CLIENT_FIELDS}
        body["note"] = referral.note
        audit(session, now, actor, referral, "read_client_details", [*CLIENT_FIELDS, "note"])
    return body


def consent_view(consent: ConsentRecord, now: datetime, with_person: bool = True) -> dict[str, Any]:
    """The consent record; `given_by` names a person, so it shows only where client details may."""
    return {
        **fields_of(consent, CONSENT_FIELDS),
        "given_by": consent.given_by if with_person else None,
        "valid_now": consent_problem(consent_facts(consent), consent.agency_id, now) is None,
    }


def audit(session: Session, now: datetime, actor: Actor, referral: Referral, action: str, fields: list[str]) -> None:
    entry = AuditEntry(at=now, action=action, referral_id=referral.id, fields=",".join(fields))
    entry.actor, entry.actor_role, entry.actor_agency_id = actor.subject, actor.role, actor.agency_id
    session.add(entry)


def audit_view(entry: AuditEntry) -> dict[str, Any]:
    """One read of client details as the audit log lists it: who, their role and agency, what, when."""
    return {**fields_of(entry, AUDIT_FIELDS), "fields": entry.fields.split(",")}


def get_consent(session: Session, consent_id: str) -> ConsentRecord:
    return existing(session, ConsentRecord, consent_id, "consent record")


def referrals(actor: Actor, criteria: Mapping[str, Any]) -> Select[tuple[Referral]]:
    """The referrals the actor may see, filtered by status, agency, need category or concern; newest first."""
    query = visible_referrals(actor)
    for field in ("status", "agency_id", "need_category", "concern_id", "request_id"):
        if criteria.get(field):
            query = query.where(getattr(Referral, field) == criteria[field])
    return query.order_by(Referral.created_at.desc(), Referral.id)


def sent_referrals(actor: Actor, since: datetime | None, until: datetime | None) -> Select[tuple[Referral]]:
    """The sent referrals the actor may see, sent in [since, until) (what outcome reports count)."""
    query = visible_referrals(actor).where(Referral.sent_at.is_not(None))
    if since:
        query = query.where(Referral.sent_at >= since)
    if until:
        query = query.where(Referral.sent_at < until)
    return query


def audit_entries(criteria: Mapping[str, Any]) -> Select[tuple[AuditEntry]]:
    query = select(AuditEntry)
    if criteria.get("referral_id"):
        query = query.where(AuditEntry.referral_id == criteria["referral_id"])
    if criteria.get("actor"):
        query = query.where(AuditEntry.actor == criteria["actor"])
    if criteria.get("since"):
        query = query.where(AuditEntry.at >= criteria["since"])
    return query.order_by(AuditEntry.id.desc())


# --- the HSDS directory's lists ----------------------------------------------------------------


def organizations(criteria: Mapping[str, Any]) -> Select[tuple[Organization]]:
    search = criteria.get("search")
    query = select(Organization).options(selectinload(Organization.phones), selectinload(Organization.locations))
    if search:
        query = query.where(Organization.name.ilike(f"%{search}%"))
    return query.order_by(Organization.name, Organization.id)


def taxonomies(criteria: Mapping[str, Any]) -> Select[tuple[Taxonomy]]:
    search = criteria.get("search")
    query = select(Taxonomy)
    if search:
        query = query.where(Taxonomy.name.ilike(f"%{search}%"))
    return query.order_by(Taxonomy.name, Taxonomy.id)


def taxonomy_terms(criteria: Mapping[str, Any]) -> Select[tuple[TaxonomyTerm]]:
    """Filtered by `taxonomy_id`, `parent_id`, `search`; `top_only` for terms without a parent."""
    query = select(TaxonomyTerm).options(selectinload(TaxonomyTerm.taxonomy))
    for field in ("taxonomy_id", "parent_id"):
        if criteria.get(field):
            query = query.where(getattr(TaxonomyTerm, field) == criteria[field])
    if criteria.get("top_only"):
        query = query.where(TaxonomyTerm.parent_id.is_(None))
    if criteria.get("search"):
        query = query.where(TaxonomyTerm.name.ilike(f"%{criteria['search']}%"))
    return query.order_by(TaxonomyTerm.code, TaxonomyTerm.id)


def service_at_locations(criteria: Mapping[str, Any]) -> Select[tuple[ServiceAtLocation]]:
    """Filtered by `service_id`, `location_id`, `organization_id`, `taxonomy_term_id` or `search`."""
    query = select(ServiceAtLocation).join(Service)
    for field in ("service_id", "location_id"):
        if criteria.get(field):
            query = query.where(getattr(ServiceAtLocation, field) == criteria[field])
    if criteria.get("organization_id"):
        query = query.where(Service.organization_id == criteria["organization_id"])
    if criteria.get("taxonomy_term_id") or criteria.get("search"):
        wanted = {key: criteria.get(key) for key in ("search", "taxonomy_term_id")}
        services = directory.services_query(directory.ServiceFilter(**wanted))
        query = query.where(Service.id.in_(services.with_only_columns(Service.id)))
    return query.order_by(ServiceAtLocation.id).options(
        selectinload(ServiceAtLocation.location),
        selectinload(ServiceAtLocation.service).options(*directory.service_options()),
    )


def taxonomy(session: Session, taxonomy_id: str) -> Taxonomy:
    return existing(session, Taxonomy, taxonomy_id, "taxonomy")


def taxonomy_term(session: Session, term_id: str) -> TaxonomyTerm:
    return existing(session, TaxonomyTerm, term_id, "taxonomy term")


def service_at_location(session: Session, link_id: str) -> ServiceAtLocation:
    return existing(session, ServiceAtLocation, link_id, "service_at_location")
