"""The agency directory: create and edit HSDS objects, search them, match services to needs."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from beat_shared.db import existing
from beat_shared.errors import InvalidInput, NotFound
from beat_shared.geo import boundary, distance_metres, place
from beat_shared.rows import assign_fields
from referrals import hsds
from referrals.models import (
    BeatArea,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceTaxonomyTerm,
    Taxonomy,
    TaxonomyTerm,
)

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def new_id() -> str:
    return str(uuid.uuid4())


# --- loading ----------------------------------------------------------------------------------


def service_options() -> list[Any]:
    """Eager loads for a fully nested service (one query per collection, not per row)."""
    return [
        selectinload(Service.organization).selectinload(Organization.phones),
        selectinload(Service.organization).selectinload(Organization.locations),
        selectinload(Service.terms).selectinload(ServiceTaxonomyTerm.term).selectinload(TaxonomyTerm.taxonomy),
        selectinload(Service.phones),
        selectinload(Service.schedules),
        selectinload(Service.languages),
        selectinload(Service.service_areas),
        selectinload(Service.service_at_locations).selectinload(ServiceAtLocation.location),
    ]


def get_service(session: Session, service_id: str) -> Service:
    service = session.scalars(select(Service).where(Service.id == service_id).options(*service_options())).first()
    if service is None:
        raise NotFound(f"service {service_id} does not exist")
    return service


def get_organization(session: Session, organization_id: str) -> Organization:
    return existing(session, Organization, organization_id, "organization")


def organization_for_agency(session: Session, agency_id: str) -> Organization | None:
    return session.scalars(select(Organization).where(Organization.agency_id == agency_id)).first()


def term_by_code(session: Session, code: str) -> TaxonomyTerm | None:
    return session.scalars(select(TaxonomyTerm).where(TaxonomyTerm.code == code)).first()


# --- searching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceFilter:
    search: str | None = None
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    organization_id: str | None = None
    modified_after: datetime | None = None


def services_query(criteria: ServiceFilter) -> Select[tuple[Service]]:
    query = select(Service)
    if criteria.search:
        needle = f"%{criteria.search.lower()}%"
        matching_terms = (
            select(ServiceTaxonomyTerm.service_id)
            .join(TaxonomyTerm)
            .where(or_(func.lower(TaxonomyTerm.name).like(needle), func.lower(TaxonomyTerm.code).like(needle)))
        )
        query = query.join(Organization).where(
            or_(
                func.lower(Service.name).like(needle),
                func.lower(func.coalesce(Service.description, "")).like(needle),
                func.lower(Organization.name).like(needle),
                Service.id.in_(matching_terms),
            )
        )
    if criteria.taxonomy_term_id:
        query = query.where(
            Service.id.in_(
                select(ServiceTaxonomyTerm.service_id).where(
                    ServiceTaxonomyTerm.taxonomy_term_id == criteria.taxonomy_term_id
                )
            )
        )
    if criteria.taxonomy_id:
        query = query.where(
            Service.id.in_(
                select(ServiceTaxonomyTerm.service_id)
                .join(TaxonomyTerm)
                .where(TaxonomyTerm.taxonomy_id == criteria.taxonomy_id)
            )
        )
    if criteria.organization_id:
        query = query.where(Service.organization_id == criteria.organization_id)
    if criteria.modified_after:
        query = query.where(Service.last_modified >= criteria.modified_after)
    return query


# --- creating and editing ---------------------------------------------------------------------


def upsert_taxonomy(session: Session, data: dict[str, Any]) -> Taxonomy:
    taxonomy = session.get(Taxonomy, data.get("id") or "") or Taxonomy(id=data.get("id") or new_id())
    assign_fields(taxonomy, data, hsds.TAXONOMY_FIELDS)
    session.add(taxonomy)
    return taxonomy


def upsert_term(session: Session, data: dict[str, Any]) -> TaxonomyTerm:
    term = session.get(TaxonomyTerm, data.get("id") or "") or TaxonomyTerm(id=data.get("id") or new_id())
    code = data.get("code", term.code)
    clash = term_by_code(session, code) if code else None
    if clash is not None and clash.id != term.id:
        raise InvalidInput("a taxonomy term with this code exists", {"code": [f"{code!r} is taken by {clash.id}"]})
    for field, model in (("taxonomy_id", Taxonomy), ("parent_id", TaxonomyTerm)):
        if data.get(field) and session.get(model, data[field]) is None:
            raise InvalidInput(f"unknown {field}", {field: [f"{data[field]} does not exist"]})
    assign_fields(term, data, hsds.TERM_FIELDS)
    session.add(term)
    return term


def upsert_organization(session: Session, data: dict[str, Any], now: datetime) -> Organization:
    organization = session.get(Organization, data.get("id") or "")
    if organization is None:
        organization = Organization(id=data.get("id") or new_id(), language="en")
    agency_id = data.get("agency_id", organization.agency_id)
    clash = organization_for_agency(session, agency_id) if agency_id else None
    if clash is not None and clash.id != organization.id:
        raise InvalidInput("another organization has this agency_id", {"agency_id": [f"{agency_id!r} is taken"]})
    assign_fields(organization, data, (*hsds.ORGANIZATION_FIELDS, "agency_id", "language"))
    organization.last_modified = now
    session.add(organization)
    session.flush()
    if "phones" in data:
        for phone in session.scalars(
            select(Phone).where(Phone.organization_id == organization.id, Phone.service_id.is_(None))
        ):
            session.delete(phone)
        for phone in data["phones"]:
            session.add(Phone(id=phone.get("id") or new_id(), organization_id=organization.id, **_phone_fields(phone)))
    session.flush()
    session.expire(organization, ["phones"])
    return organization


def _phone_fields(phone: dict[str, Any]) -> dict[str, Any]:
    return {key: phone.get(key) for key in ("number", "extension", "type", "description")}


def upsert_location(session: Session, data: dict[str, Any]) -> Location:
    location = session.get(Location, data.get("id") or "") or Location(id=data.get("id") or new_id())
    if data.get("organization_id"):
        get_organization(session, data["organization_id"])
    address = ("address_1", "city", "state_province", "postal_code", "country")
    assign_fields(location, data, (*hsds.LOCATION_FIELDS, *address))
    session.add(location)
    return location


# What the API edits of a service: its HSDS columns, and whether it takes referrals now.
SERVICE_FIELDS = (*hsds.SERVICE_FIELDS, "accepting_referrals")


def upsert_service(session: Session, data: dict[str, Any], now: datetime, service: Service | None = None) -> Service:
    """Create or edit a service; nested lists given in `data` replace the stored ones."""
    if service is None:
        service = session.get(Service, data.get("id") or "")
    if service is None:
        service = Service(id=data.get("id") or new_id(), status="active", accepting_referrals=True)
        if not data.get("organization_id"):
            raise InvalidInput("a service needs its organization", {"organization_id": ["required"]})
    if data.get("organization_id"):
        get_organization(session, data["organization_id"])
    assign_fields(service, data, SERVICE_FIELDS)
    minimum, maximum = service.minimum_age, service.maximum_age
    if minimum is not None and maximum is not None and minimum > maximum:
        raise InvalidInput("minimum_age is above maximum_age", {"minimum_age": ["must not exceed maximum_age"]})
    service.last_modified = now
    session.add(service)
    if "taxonomy_term_ids" in data:
        service.terms = [
            ServiceTaxonomyTerm(id=_existing_link_id(service, term_id) or new_id(), taxonomy_term_id=term_id)
            for term_id in _known_terms(session, data["taxonomy_term_ids"])
        ]
    if "phones" in data:
        service.phones = [
            Phone(id=phone.get("id") or new_id(), organization_id=service.organization_id, **_phone_fields(phone))
            for phone in data["phones"]
        ]
    if "schedules" in data:
        service.schedules = [
            Schedule(
                id=item.get("id") or new_id(),
                **{key: item.get(key) for key in ("freq", "interval", "byday", "opens_at", "closes_at")},
                **{key: item.get(key) for key in ("valid_from", "valid_to", "description")},
            )
            for item in data["schedules"]
        ]
    if "languages" in data:
        service.languages = [
            Language(id=item.get("id") or new_id(), code=item["code"], name=item.get("name"), note=item.get("note"))
            for item in data["languages"]
        ]
    if "service_areas" in data:
        service.service_areas = [
            ServiceArea(
                id=item.get("id") or new_id(),
                name=item["name"],
                description=item.get("description"),
                beat_code=item.get("beat_code"),
            )
            for item in data["service_areas"]
        ]
    if "location_ids" in data:
        service.service_at_locations = [
            ServiceAtLocation(id=_existing_location_link(service, location_id) or new_id(), location_id=location_id)
            for location_id in _known_locations(session, data["location_ids"])
        ]
    session.flush()
    return service


def _existing_link_id(service: Service, term_id: str) -> str | None:
    return next((link.id for link in service.terms if link.taxonomy_term_id == term_id), None)


def _existing_location_link(service: Service, location_id: str) -> str | None:
    return next((link.id for link in service.service_at_locations if link.location_id == location_id), None)


def _known_terms(session: Session, term_ids: Sequence[str]) -> list[str]:
    unknown = [term_id for term_id in term_ids if session.get(TaxonomyTerm, term_id) is None]
    if unknown:
        raise InvalidInput("unknown taxonomy terms", {"taxonomy_term_ids": [f"{u} does not exist" for u in unknown]})
    return list(dict.fromkeys(term_ids))


def _known_locations(session: Session, location_ids: Sequence[str]) -> list[str]:
    unknown = [location_id for location_id in location_ids if session.get(Location, location_id) is None]
    if unknown:
        raise InvalidInput("unknown locations", {"location_ids": [f"{u} does not exist" for u in unknown]})
    return list(dict.fromkeys(location_ids))


# --- matching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MatchRequest:
    need_category: str
    latitude: float | None = None
    longitude: float | None = None
    beat_code: str | None = None
    language: str | None = None
    age: int | None = None
    limit: int = 10


@dataclass(frozen=True)
class Match:
    service: Service
    location: Location | None
    distance_km: float | None
    open_now: bool


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance, by the same rule concerns measures with (`beat_shared.geo`)."""
    return distance_metres(lat1, lon1, lat2, lon2) / 1000


def is_open(schedules: Sequence[Schedule], moment: datetime) -> bool:
    """Whether any weekly schedule covers `moment` (already in local time)."""
    day = WEEKDAYS[moment.weekday()]
    clock = moment.strftime("%H:%M")
    today = moment.date().isoformat()
    for schedule in schedules:
        days = [part.strip() for part in (schedule.byday or ",".join(WEEKDAYS)).split(",")]
        if day not in days:
            continue
        if (schedule.valid_from and today < schedule.valid_from) or (schedule.valid_to and today > schedule.valid_to):
            continue
        if (schedule.opens_at or "00:00") <= clock < (schedule.closes_at or "24:00"):
            return True
    return False


def match_services(session: Session, request: MatchRequest, now: datetime, timezone: str) -> list[Match]:
    """Active services for a need, near a point or in a beat, that speak the language and take the age.

    Ordering: services that take new referrals first; then distance in whole kilometres
    (so a slightly nearer closed service does not beat an open one next door); then open
    now before closed; then exact distance and name.
    """
    term = term_by_code(session, request.need_category)
    if term is None:
        raise InvalidInput("unknown need category", {"need_category": [f"{request.need_category!r} is not a term"]})
    query = services_query(ServiceFilter(taxonomy_term_id=term.id)).where(Service.status == "active")
    # A point is in the beat concerns' polygons put it in: services of other beats do not serve it.
    beat_code = request.beat_code
    if beat_code is None and request.latitude is not None and request.longitude is not None:
        beat_code = beat_at(session, request.latitude, request.longitude)
    if beat_code:
        query = query.where(
            or_(
                Service.id.in_(select(ServiceArea.service_id).where(ServiceArea.beat_code == beat_code)),
                ~Service.id.in_(select(ServiceArea.service_id).where(ServiceArea.beat_code.is_not(None))),
            )
        )
    services = session.scalars(query.options(*service_options())).unique().all()
    origin = _origin(session, request)
    local_now = now.astimezone(ZoneInfo(timezone))
    matches = []
    for service in services:
        if not _speaks(service, request.language) or not _takes_age(service, request.age):
            continue
        location, distance = _nearest_location(service, origin)
        matches.append(Match(service, location, distance, is_open(service.schedules, local_now)))
    matches.sort(
        key=lambda m: (
            not m.service.accepting_referrals,
            math.inf if m.distance_km is None else round(m.distance_km),
            not m.open_now,
            math.inf if m.distance_km is None else m.distance_km,
            m.service.name,
        )
    )
    return matches[: request.limit]


def _origin(session: Session, request: MatchRequest) -> tuple[float, float] | None:
    if request.latitude is not None and request.longitude is not None:
        return request.latitude, request.longitude
    if request.beat_code:
        return beat_centre(session, request.beat_code)
    return None


# --- beats: a copy of concerns' map ------------------------------------------------------------


def beat_map_version(session: Session) -> int | None:
    """The version of concerns' beats this copy was taken at (None: no copy yet)."""
    return session.scalar(select(func.max(BeatArea.version)))


def replace_beat_map(session: Session, beat_map: dict[str, Any], now: datetime) -> int:
    """Make the copy what concerns answered (`concerns.beat_map`): beats added, redrawn or gone."""
    kept = {area.code: area for area in session.scalars(select(BeatArea))}
    received = set()
    for item in beat_map["beats"]:
        shape = boundary(item["code"], item["boundary"])
        area = kept.get(shape.code) or BeatArea(code=shape.code)
        area.name = item.get("name") or shape.code
        area.boundary = json.dumps(item["boundary"], separators=(",", ":"))
        area.min_long, area.min_lat, area.max_long, area.max_lat = shape.bbox
        area.centre_lat, area.centre_long = shape.centre()
        area.version = beat_map.get("version") or 0
        area.synced_at = now
        session.add(area)
        received.add(shape.code)
    for code, area in kept.items():
        if code not in received:
            session.delete(area)
    session.flush()
    return len(received)


def beat_at(session: Session, latitude: float, longitude: float) -> str | None:
    """The beat containing the point, by concerns' polygons (bounding boxes first, in SQL)."""
    candidates = session.scalars(
        select(BeatArea).where(
            BeatArea.min_lat <= latitude,
            BeatArea.max_lat >= latitude,
            BeatArea.min_long <= longitude,
            BeatArea.max_long >= longitude,
        )
    )
    return place(latitude, longitude, [boundary(area.code, json.loads(area.boundary)) for area in candidates])


def beat_centre(session: Session, beat_code: str) -> tuple[float, float] | None:
    area = session.get(BeatArea, beat_code)
    return None if area is None else (area.centre_lat, area.centre_long)


def _speaks(service: Service, language: str | None) -> bool:
    if not language:
        return True
    # A service that lists no languages is taken to work in English only.
    codes = {item.code.lower() for item in service.languages} or {"en"}
    return language.lower() in codes


def _takes_age(service: Service, age: int | None) -> bool:
    if age is None:
        return True
    if service.minimum_age is not None and age < service.minimum_age:
        return False
    return service.maximum_age is None or age <= service.maximum_age


def _nearest_location(service: Service, origin: tuple[float, float] | None) -> tuple[Location | None, float | None]:
    located = [
        link.location
        for link in service.service_at_locations
        if link.location.latitude is not None and link.location.longitude is not None
    ]
    if not located:
        return (service.service_at_locations[0].location if service.service_at_locations else None), None
    if origin is None:
        return located[0], None
    distances = [
        (distance_km(origin[0], origin[1], loc.latitude, loc.longitude), loc)  # type: ignore[arg-type]
        for loc in located
    ]
    distance, location = min(distances, key=lambda pair: pair[0])
    return location, round(distance, 2)
