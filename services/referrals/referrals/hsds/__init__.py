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
from referrals.models import (
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)

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


def taxonomy_dict(taxonomy: Taxonomy) -> dict[str, Any]:
    return _clean(
        {
            "id": taxonomy.id,
            "name": taxonomy.name,
            "description": taxonomy.description,
            "uri": taxonomy.uri,
            "version": taxonomy.version,
        }
    )


def term_dict(term: TaxonomyTerm) -> dict[str, Any]:
    return _clean(
        {
            "id": term.id,
            "code": term.code,
            "name": term.name,
            "description": term.description,
            "parent_id": term.parent_id,
            "taxonomy": term.taxonomy.name if term.taxonomy else None,
            "taxonomy_id": term.taxonomy_id,
            "language": term.language,
            "taxonomy_detail": taxonomy_dict(term.taxonomy) if term.taxonomy else None,
        }
    )


def phone_dict(phone: Phone) -> dict[str, Any]:
    return _clean(
        {
            "id": phone.id,
            "organization_id": phone.organization_id,
            "service_id": phone.service_id,
            "number": phone.number,
            "extension": phone.extension,
            "type": phone.type,
            "description": phone.description,
        }
    )


def schedule_dict(schedule: Schedule) -> dict[str, Any]:
    return _clean(
        {
            "id": schedule.id,
            "service_id": schedule.service_id,
            "freq": schedule.freq,
            "interval": schedule.interval,
            "byday": schedule.byday,
            "opens_at": schedule.opens_at,
            "closes_at": schedule.closes_at,
            "valid_from": schedule.valid_from,
            "valid_to": schedule.valid_to,
            "description": schedule.description,
        }
    )


def language_dict(language: Language) -> dict[str, Any]:
    return _clean(
        {
            "id": language.id,
            "service_id": language.service_id,
            "code": language.code,
            "name": language.name,
            "note": language.note,
        }
    )


def service_area_dict(area: ServiceArea) -> dict[str, Any]:
    return _clean(
        {
            "id": area.id,
            "service_id": area.service_id,
            "name": area.name,
            "description": area.description,
            "extent_type": "beat" if area.beat_code else None,
            "extent": area.beat_code,
        }
    )


def location_dict(location: Location) -> dict[str, Any]:
    addresses = []
    if location.address_1 and location.city:
        addresses.append(
            _clean(
                {
                    "id": derived_id("address", location.id),
                    "location_id": location.id,
                    "address_1": location.address_1,
                    "city": location.city,
                    "state_province": location.state_province or "",
                    "postal_code": location.postal_code or "",
                    "country": location.country or "US",
                    "address_type": location.location_type,
                }
            )
        )
    return _clean(
        {
            "id": location.id,
            "location_type": location.location_type,
            "organization_id": location.organization_id,
            "name": location.name,
            "description": location.description,
            "transportation": location.transportation,
            "latitude": location.latitude,
            "longitude": location.longitude,
            "addresses": addresses,
        }
    )


def organization_dict(organization: Organization, with_services: bool = False) -> dict[str, Any]:
    body = _clean(
        {
            "id": organization.id,
            "name": organization.name,
            "alternate_name": organization.alternate_name,
            "description": organization.description,
            "email": organization.email,
            "website": organization.website,
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


def attribute_dict(service: Service, link_id: str, term: TaxonomyTerm) -> dict[str, Any]:
    return {
        "id": link_id,
        "link_id": service.id,
        "link_type": "need_category",
        "link_entity": "service",
        "taxonomy_term_id": term.id,
        "taxonomy_term": term_dict(term),
    }


def service_at_location_dict(link: ServiceAtLocation, with_service: bool = False) -> dict[str, Any]:
    body = _clean(
        {
            "id": link.id,
            "service_id": link.service_id,
            "location_id": link.location_id,
            "description": link.description,
            "location": location_dict(link.location),
        }
    )
    if with_service:
        body["service"] = service_dict(link.service, nested_organization=True, with_locations=False)
    return body


def service_dict(
    service: Service, nested_organization: bool = True, with_locations: bool = True, full: bool = True
) -> dict[str, Any]:
    """A service; `full` nests phones, schedules, languages, areas, terms and locations."""
    body = _clean(
        {
            "id": service.id,
            "organization_id": service.organization_id,
            "name": service.name,
            "alternate_name": service.alternate_name,
            "description": service.description,
            "url": service.url,
            "email": service.email,
            "status": service.status,
            "interpretation_services": service.interpretation_services,
            "application_process": service.application_process,
            "fees_description": service.fees_description,
            "wait_time": service.wait_time,
            "eligibility_description": service.eligibility_description,
            "minimum_age": service.minimum_age,
            "maximum_age": service.maximum_age,
            "alert": service.alert,
            "last_modified": utc_iso(service.last_modified) if service.last_modified else None,
        }
    )
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
