"""Open Referral HSDS 3.0: our directory rows as HSDS objects, and back.

The JSON schemas in `schema/` are copied unchanged from the HSDS 3.0 specification
(CC BY-SA 4.0, see LICENSE and NOTICE.md beside this file).
"""

from __future__ import annotations

import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from beat_shared.clock import utc_iso
from beat_shared.rows import fields_of
from referrals import models

HSDS_VERSION = "3.0"
HSDS_PROFILE = "https://docs.openreferral.org/en/3.0/"
SCHEMA_DIR = Path(__file__).parent / "schema"
SCHEMA_BASE = "https://openreferral.org/hsds/3.0/schema/"
AGENCY_IDENTIFIER_TYPE = "beat_agency_id"
# Ids HSDS needs but we derive (addresses, identifiers) are stable UUIDv5s of the owner's id.
DERIVED_IDS = uuid.UUID("8f0b5a52-3c1e-4c5e-9d55-6c1f2f1b0a11")


def derived_id(kind: str, owner_id: str) -> str:
    return str(uuid.uuid5(DERIVED_IDS, f"{kind}:{owner_id}"))


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    """HSDS fields are typed without null: leave out what we do not know."""
    return {key: value for key, value in values.items() if value is not None}


# --- schemas --------------------------------------------------------------------------------


@cache
def _registry() -> Registry:
    resources = []
    for path in SCHEMA_DIR.glob("*.json"):
        contents = json.loads(path.read_text())
        resources.append((SCHEMA_BASE + path.name, Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for one HSDS object ("service", "organization", ...), formats checked."""
    schema = {"$ref": SCHEMA_BASE + f"{name}.json"}
    return Draft202012Validator(schema, registry=_registry(), format_checker=FormatChecker())


def schema_errors(name: str, instance: Any, prefix: str = "") -> dict[str, list[str]]:
    """Validation errors keyed by the path of the field they concern (e.g. services[0].status)."""
    errors: dict[str, list[str]] = {}
    for error in validator(name).iter_errors(instance):
        path = prefix
        for part in error.absolute_path:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        errors.setdefault(path or name, []).append(error.message)
    return errors


# --- rows to HSDS ---------------------------------------------------------------------------


# The columns each HSDS object copies from its row as they are, besides its id (the others are
# derived below); the directory's edits set the same ones.
TAXONOMY_FIELDS = ("name", "description", "uri", "version")
TERM_FIELDS = ("code", "name", "description", "parent_id", "taxonomy_id", "language")
PHONE_FIELDS = ("id", "organization_id", "service_id", "number", "extension", "type", "description")
SCHEDULE_FIELDS = ("id", "service_id", "freq", "interval", "byday", "opens_at", "closes_at", "valid_from", "valid_to")
LANGUAGE_FIELDS = ("id", "service_id", "code", "name", "note")
LOCATION_FIELDS = ("location_type", "organization_id", "name", "description", "transportation", "latitude", "longitude")
ORGANIZATION_FIELDS = ("name", "alternate_name", "description", "email", "website")
SERVICE_FIELDS = (
    *("organization_id", "name", "alternate_name", "description", "url", "email", "status", "alert"),
    *("interpretation_services", "application_process", "fees_description", "wait_time"),
    *("eligibility_description", "minimum_age", "maximum_age"),
)


def taxonomy_dict(taxonomy: models.Taxonomy) -> dict[str, Any]:
    return _clean(fields_of(taxonomy, ("id", *TAXONOMY_FIELDS)))


def term_dict(term: models.TaxonomyTerm) -> dict[str, Any]:
    taxonomy = (
        {"taxonomy": term.taxonomy.name, "taxonomy_detail": taxonomy_dict(term.taxonomy)} if term.taxonomy else {}
    )
    return _clean({**fields_of(term, ("id", *TERM_FIELDS)), **taxonomy})


def phone_dict(phone: models.Phone) -> dict[str, Any]:
    return _clean(fields_of(phone, PHONE_FIELDS))


def schedule_dict(schedule: models.Schedule) -> dict[str, Any]:
    return _clean(fields_of(schedule, (*SCHEDULE_FIELDS, "description")))


def language_dict(language: models.Language) -> dict[str, Any]:
    return _clean(fields_of(language, LANGUAGE_FIELDS))


def service_area_dict(area: models.ServiceArea) -> dict[str, Any]:
    extent = {"extent_type": "beat", "extent": area.beat_code} if area.beat_code else {}
    return _clean({**fields_of(area, ("id", "service_id", "name", "description")), **extent})


def _address(location: models.Location) -> dict[str, Any]:
    return {
        "id": derived_id("address", location.id),
        "location_id": location.id,
        "address_1": location.address_1,
        "city": location.city,
        "state_province": location.state_province or "",
        "postal_code": location.postal_code or "",
        "country": location.country or "US",
        "address_type": location.location_type,
    }


def location_dict(location: models.Location) -> dict[str, Any]:
    addresses = [_clean(_address(location))] if location.address_1 and location.city else []
    return _clean({**fields_of(location, ("id", *LOCATION_FIELDS)), "addresses": addresses})


def organization_dict(organization: models.Organization, with_services: bool = False) -> dict[str, Any]:
    body = _clean(
        {
            **fields_of(organization, ("id", *ORGANIZATION_FIELDS)),
            "organization_identifiers": [
                {
                    "id": derived_id("agency", organization.id),
                    "organization_id": organization.id,
                    "identifier_scheme": "beat",
                    "identifier_type": AGENCY_IDENTIFIER_TYPE,
                    "identifier": organization.agency_id,
                }
            ],
            "phones": [phone_dict(phone) for phone in organization.phones],
            "locations": [location_dict(location) for location in organization.locations],
        }
    )
    if with_services:
        body["services"] = [service_dict(service, nested_organization=False) for service in organization.services]
    return body


def attribute_dict(service: models.Service, link_id: str, term: models.TaxonomyTerm) -> dict[str, Any]:
    return {
        "id": link_id,
        "link_id": service.id,
        "link_type": "need_category",
        "link_entity": "service",
        "taxonomy_term_id": term.id,
        "taxonomy_term": term_dict(term),
    }


def service_at_location_dict(link: models.ServiceAtLocation, with_service: bool = False) -> dict[str, Any]:
    link_fields = fields_of(link, ("id", "service_id", "location_id", "description"))
    body = _clean({**link_fields, "location": location_dict(link.location)})
    if with_service:
        body["service"] = service_dict(link.service, nested_organization=True, with_locations=False)
    return body


def service_dict(
    service: models.Service, nested_organization: bool = True, with_locations: bool = True, full: bool = True
) -> dict[str, Any]:
    """A service; `full` nests phones, schedules, languages, areas, terms and locations."""
    last_modified = utc_iso(service.last_modified) if service.last_modified else None
    body = _clean({**fields_of(service, ("id", *SERVICE_FIELDS)), "last_modified": last_modified})
    if nested_organization:
        body["organization"] = organization_dict(service.organization)
    body["attributes"] = [attribute_dict(service, link.id, link.term) for link in service.terms]
    if not full:
        return body
    body["phones"] = [phone_dict(phone) for phone in service.phones]
    body["schedules"] = [schedule_dict(schedule) for schedule in service.schedules]
    body["languages"] = [language_dict(language) for language in service.languages]
    body["service_areas"] = [service_area_dict(area) for area in service.service_areas]
    if with_locations:
        body["service_at_locations"] = [service_at_location_dict(link) for link in service.service_at_locations]
    return body
