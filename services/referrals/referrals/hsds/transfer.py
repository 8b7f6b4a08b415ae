"""Import and export of the whole directory as one HSDS 3.0 JSON document.

The document is ``{"version": "3.0", "taxonomies": [...], "taxonomy_terms": [...],
"organizations": [...], "services": [...]}``: each entry a fully nested HSDS object
that validates against its published schema. Import validates everything first and
then upserts by id, so importing an export changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from beat_shared.errors import InvalidInput
from beat_shared.isotime import parse_iso
from referrals.directory import (
    service_options,
    upsert_location,
    upsert_organization,
    upsert_service,
    upsert_taxonomy,
    upsert_term,
)
from referrals.hsds import (
    AGENCY_IDENTIFIER_TYPE,
    HSDS_VERSION,
    SERVICE_FIELDS,
    organization_dict,
    schema_errors,
    service_dict,
    taxonomy_dict,
    term_dict,
)
from referrals.models import Organization, Service, Taxonomy, TaxonomyTerm

SECTIONS = {
    "taxonomies": "taxonomy",
    "taxonomy_terms": "taxonomy_term",
    "organizations": "organization",
    "services": "service",
}


def export_directory(session: Session) -> dict[str, Any]:
    organizations = session.scalars(
        select(Organization)
        .options(selectinload(Organization.phones), selectinload(Organization.locations))
        .order_by(Organization.name)
    ).all()
    services = session.scalars(select(Service).options(*service_options()).order_by(Service.name)).all()
    return {
        "version": HSDS_VERSION,
        "taxonomies": [taxonomy_dict(t) for t in session.scalars(select(Taxonomy).order_by(Taxonomy.name))],
        "taxonomy_terms": [
            term_dict(t)
            for t in session.scalars(
                select(TaxonomyTerm).options(selectinload(TaxonomyTerm.taxonomy)).order_by(TaxonomyTerm.code)
            )
        ],
        "organizations": [organization_dict(organization) for organization in organizations],
        "services": [service_dict(service, nested_organization=False) for service in services],
    }


def document_errors(document: Any) -> dict[str, list[str]]:
    """Every schema violation in the document, keyed by where it is."""
    if not isinstance(document, dict):
        return {"document": ["must be a JSON object"]}
    errors: dict[str, list[str]] = {}
    for section, schema in SECTIONS.items():
        items = document.get(section, [])
        if not isinstance(items, list):
            errors[section] = ["must be a list"]
            continue
        for index, item in enumerate(items):
            errors.update(schema_errors(schema, item, prefix=f"{section}[{index}]"))
    return errors


def import_directory(session: Session, document: Any, now: datetime) -> dict[str, int]:
    """Upsert a directory document; raises InvalidInput naming each bad field (nothing stored)."""
    errors = document_errors(document)
    if errors:
        raise InvalidInput("the document is not valid HSDS 3.0", errors)
    for taxonomy in document.get("taxonomies", []):
        upsert_taxonomy(session, taxonomy)
    session.flush()
    terms = document.get("taxonomy_terms", [])
    # Parents before children, so parent_id always points at a stored term.
    for term in sorted(terms, key=lambda t: t.get("parent_id") is not None):
        upsert_term(session, _term_input(term))
    session.flush()
    for organization in document.get("organizations", []):
        upsert_organization(session, _organization_input(organization), now)
        for location in organization.get("locations", []):
            upsert_location(session, _location_input(location, organization["id"]))
    session.flush()
    for index, service in enumerate(document.get("services", [])):
        for link in service.get("service_at_locations", []):
            if link.get("location"):
                upsert_location(session, _location_input(link["location"], service.get("organization_id")))
        session.flush()
        try:
            upsert_service(session, _service_input(service), _modified(service, now))
        except InvalidInput as error:
            raise InvalidInput(error.message, {f"services[{index}]": error.details}) from error
    return {section: len(document.get(section, [])) for section in SECTIONS}


def _modified(service: dict[str, Any], now: datetime) -> datetime:
    stamp = service.get("last_modified")
    return parse_iso(stamp) if stamp else now


def _term_input(term: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": term["id"],
        "code": term.get("code") or term["id"],
        "name": term["name"],
        "description": term["description"],
        "taxonomy_id": term.get("taxonomy_id"),
        "parent_id": term.get("parent_id"),
        "language": term.get("language"),
    }


def _organization_input(organization: dict[str, Any]) -> dict[str, Any]:
    agency_id = next(
        (
            identifier["identifier"]
            for identifier in organization.get("organization_identifiers", [])
            if identifier.get("identifier_type") == AGENCY_IDENTIFIER_TYPE
        ),
        f"agency-{organization['id']}",
    )
    return {
        "id": organization["id"],
        "agency_id": agency_id,
        "name": organization["name"],
        "alternate_name": organization.get("alternate_name"),
        "description": organization["description"],
        "email": organization.get("email"),
        "website": organization.get("website"),
        "phones": organization.get("phones", []),
    }


def _location_input(location: dict[str, Any], organization_id: str | None) -> dict[str, Any]:
    address = (location.get("addresses") or [{}])[0]
    return {
        "id": location["id"],
        "organization_id": location.get("organization_id") or organization_id,
        "location_type": location["location_type"],
        "name": location.get("name"),
        "description": location.get("description"),
        "transportation": location.get("transportation"),
        "latitude": location.get("latitude"),
        "longitude": location.get("longitude"),
        "address_1": address.get("address_1"),
        "city": address.get("city"),
        "state_province": address.get("state_province"),
        "postal_code": address.get("postal_code"),
        "country": address.get("country"),
    }


def _service_input(service: dict[str, Any]) -> dict[str, Any]:
    data = {key: service.get(key) for key in ("id", *SERVICE_FIELDS)}
    for age in ("minimum_age", "maximum_age"):
        if data[age] is not None:
            data[age] = int(data[age])
    data["taxonomy_term_ids"] = [
        a["taxonomy_term_id"] for a in service.get("attributes", []) if "taxonomy_term_id" in a
    ]
    data["phones"] = service.get("phones", [])
    data["schedules"] = service.get("schedules", [])
    data["languages"] = [
        {"id": item["id"], "code": item.get("code") or "en", "name": item.get("name"), "note": item.get("note")}
        for item in service.get("languages", [])
    ]
    data["service_areas"] = [
        {
            "id": area["id"],
            "name": area.get("name") or area.get("extent") or "service area",
            "description": area.get("description"),
            "beat_code": area.get("extent") if area.get("extent_type") == "beat" else None,
        }
        for area in service.get("service_areas", [])
    ]
    data["location_ids"] = [
        link["location_id"] for link in service.get("service_at_locations", []) if link.get("location_id")
    ]
    return data
