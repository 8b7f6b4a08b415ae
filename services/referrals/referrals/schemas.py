"""marshmallow schemas of the referrals HTTP API (bodies and query strings)."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from marshmallow import EXCLUDE, INCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

from beat_shared.fields import UtcDateTime
from referrals.domain.lifecycle import (
    ACCEPTED,
    CANCEL_REASONS,
    COMPLETED,
    CONSENT_METHODS,
    DECLINE_REASONS,
    DECLINED,
    IN_PROGRESS,
    OUTCOMES,
    STATUSES,
    URGENCY_LEVELS,
)
from referrals.reporting import GROUPINGS

HSDS_STATUSES = ("active", "inactive", "defunct", "temporarily closed")
LOCATION_TYPES = ("physical", "postal", "virtual")
PHONE_TYPES = ("text", "voice", "fax", "cell", "video", "pager", "textphone")
BYDAY = r"^(MO|TU|WE|TH|FR|SA|SU)(,(MO|TU|WE|TH|FR|SA|SU))*$"
CLOCK_TIME = r"^([01]\d|2[0-4]):[0-5]\d$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
# Any code concerns (the single source of beats) takes for a beat: up to 64 characters, not blank.
BEAT_CODE = r"^(?=.*\S).{1,64}$"


def _text(max_length: int, required: bool = False) -> fields.String:
    return fields.String(
        required=required, allow_none=not required, validate=validate.Length(min=1 if required else 0, max=max_length)
    )


def _id() -> fields.UUID:
    return fields.UUID(load_default=None, metadata={"description": "generated when left out"})


class Strict(Schema):
    """Unknown fields are an error that names them (RAISE is marshmallow's default)."""

    @post_load
    def _uuids_as_text(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # Ids are stored as text; marshmallow's UUID field gives uuid.UUID objects.
        return {key: str(value) if isinstance(value, uuid.UUID) else value for key, value in data.items()}


class Query(Schema):
    """Query strings: unknown parameters are ignored (HSDS clients send their own)."""

    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(validate=validate.Range(min=1))
    per_page = fields.Integer(validate=validate.Range(min=1, max=100))


# --- directory --------------------------------------------------------------------------------


class PhoneInput(Strict):
    id = _id()
    number = _text(40, required=True)
    extension = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=999_999_999))
    type = fields.String(allow_none=True, validate=validate.OneOf(PHONE_TYPES))
    description = _text(500)


class ScheduleInput(Strict):
    id = _id()
    freq = fields.String(load_default="WEEKLY", validate=validate.OneOf(("WEEKLY", "MONTHLY")))
    interval = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    byday = fields.String(allow_none=True, validate=validate.Regexp(BYDAY))
    opens_at = fields.String(allow_none=True, validate=validate.Regexp(CLOCK_TIME))
    closes_at = fields.String(allow_none=True, validate=validate.Regexp(CLOCK_TIME))
    valid_from = fields.String(allow_none=True, validate=validate.Regexp(DATE))
    valid_to = fields.String(allow_none=True, validate=validate.Regexp(DATE))
    description = _text(500)

    @validates_schema
    def _opens_before_closing(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("opens_at") and data.get("closes_at") and data["opens_at"] >= data["closes_at"]:
            raise ValidationError("must be after opens_at", "closes_at")


class LanguageInput(Strict):
    id = _id()
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"))
    name = _text(100)
    note = _text(500)


class ServiceAreaInput(Strict):
    id = _id()
    name = _text(200, required=True)
    description = _text(500)
    beat_code = fields.String(allow_none=True, validate=validate.Regexp(BEAT_CODE))


class OrganizationInput(Strict):
    id = _id()
    agency_id = fields.String(
        required=True,
        validate=validate.Regexp(r"^agency-[a-z0-9][a-z0-9-]{1,56}$", error="must look like agency-<slug>"),
    )
    name = _text(200, required=True)
    alternate_name = _text(200)
    description = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    email = fields.Email(allow_none=True)
    website = fields.Url(allow_none=True)
    language = fields.String(validate=validate.OneOf(("en", "es")))
    phones = fields.List(fields.Nested(PhoneInput))


class LocationInput(Strict):
    id = _id()
    organization_id = fields.UUID(allow_none=True)
    location_type = fields.String(load_default="physical", validate=validate.OneOf(LOCATION_TYPES))
    name = _text(200)
    description = _text(2000)
    transportation = _text(500)
    latitude = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))
    address_1 = _text(200)
    city = _text(100)
    state_province = _text(100)
    postal_code = _text(20)
    country = fields.String(allow_none=True, validate=validate.Regexp(r"^[A-Z]{2}$"))

    @validates_schema
    def _says_where(self, data: dict[str, Any], **_: Any) -> None:
        """Coordinates come in pairs; a new physical or postal location needs a name, an address or both
        coordinates (HSDS itself requires only the type, which would allow a location that is nowhere)."""
        if self.partial:  # an edit: the stored location fills what the body leaves out
            return
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise ValidationError("latitude and longitude are given together", "longitude")
        located = data.get("latitude") is not None or data.get("name") or data.get("address_1")
        if data.get("location_type", "physical") != "virtual" and not located:
            raise ValidationError("a location needs a name, an address or coordinates", "name")


class ServiceInput(Strict):
    id = _id()
    organization_id = fields.UUID(required=True)
    name = _text(200, required=True)
    alternate_name = _text(200)
    description = _text(5000)
    url = fields.Url(allow_none=True)
    email = fields.Email(allow_none=True)
    status = fields.String(load_default="active", validate=validate.OneOf(HSDS_STATUSES))
    interpretation_services = _text(1000)
    application_process = _text(2000)
    fees_description = _text(1000)
    wait_time = _text(200)
    eligibility_description = _text(2000)
    minimum_age = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=130))
    maximum_age = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=130))
    alert = _text(1000)
    accepting_referrals = fields.Boolean()
    taxonomy_term_ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)))
    location_ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)))
    phones = fields.List(fields.Nested(PhoneInput))
    schedules = fields.List(fields.Nested(ScheduleInput))
    languages = fields.List(fields.Nested(LanguageInput))
    service_areas = fields.List(fields.Nested(ServiceAreaInput))


class TaxonomyInput(Strict):
    id = _id()
    name = _text(200, required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    uri = fields.Url(allow_none=True)
    version = _text(40)


class TaxonomyTermInput(Strict):
    id = _id()
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$"))
    name = _text(200, required=True)
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    taxonomy_id = fields.UUID(allow_none=True)
    parent_id = fields.UUID(allow_none=True)
    language = fields.String(allow_none=True, validate=validate.Length(max=8))


class HsdsDocument(Schema):
    """The envelope of an import; each entry is checked against the HSDS 3.0 JSON schemas."""

    class Meta:
        unknown = INCLUDE

    version = fields.String(validate=validate.Equal("3.0"))
    taxonomies = fields.List(fields.Dict())
    taxonomy_terms = fields.List(fields.Dict())
    organizations = fields.List(fields.Dict())
    services = fields.List(fields.Dict())


class ListQuery(Query):
    """What every HSDS list takes: `format=ndjson` streams every result, one JSON object a line, unpaged."""

    search = fields.String(validate=validate.Length(max=200))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "ndjson")))


class ServicesQuery(ListQuery):
    taxonomy_term_id = fields.String()
    taxonomy_id = fields.String()
    organization_id = fields.String()
    modified_after = UtcDateTime(default_timezone=UTC)
    minimal = fields.Boolean(load_default=False)  # just id and last_modified, for syncing a copy
    full = fields.Boolean(load_default=False)  # fully nested services


class OrganizationsQuery(ListQuery):
    full_service = fields.Boolean(load_default=False)  # each organization with its services, fully nested
    full = fields.Boolean(load_default=False)


class TaxonomyTermsQuery(ListQuery):
    taxonomy_id = fields.String()
    parent_id = fields.String()
    top_only = fields.Boolean(load_default=False)  # terms without a parent


class ServiceAtLocationsQuery(ListQuery):
    service_id = fields.String()
    location_id = fields.String()
    organization_id = fields.String(metadata={"description": "the services of this organization, where they are"})
    taxonomy_term_id = fields.String(metadata={"description": "services for this need category"})


class MatchQuery(Query):
    need_category = fields.String(required=True, validate=validate.Length(min=1, max=64))
    latitude = fields.Float(validate=validate.Range(min=-90, max=90))
    longitude = fields.Float(validate=validate.Range(min=-180, max=180))
    beat_code = fields.String(validate=validate.Regexp(BEAT_CODE))
    language = fields.String(validate=validate.Length(min=2, max=8))
    age = fields.Integer(validate=validate.Range(min=0, max=130))
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))

    @validates_schema
    def _both_coordinates(self, data: dict[str, Any], **_: Any) -> None:
        if ("latitude" in data) != ("longitude" in data):
            raise ValidationError(
                "give latitude and longitude together", "longitude" if "latitude" in data else "latitude"
            )


# --- referrals --------------------------------------------------------------------------------


class ClientInput(Strict):
    name = _text(200, required=True)
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 ()-]{7,20}$"))
    email = fields.Email(allow_none=True)
    language = fields.String(load_default="en", validate=validate.Length(min=2, max=8))
    age = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=130))
    notes = _text(2000)


class ClientPatch(ClientInput):
    """Corrections to the client's details: every field optional."""

    name = _text(200)
    language = fields.String(validate=validate.Length(min=2, max=8))


class ConsentInput(Strict):
    given_by = _text(200, required=True)
    given_at = UtcDateTime(required=True)
    method = fields.String(required=True, validate=validate.OneOf(CONSENT_METHODS))
    scope = _text(500, required=True)
    valid_until = UtcDateTime(load_default=None, allow_none=True)  # None: until the referral closes


class ReferralInput(Strict):
    service_id = fields.UUID(required=True)
    need_category = fields.String(required=True, validate=validate.Length(min=1, max=64))
    urgency = fields.String(load_default="routine", validate=validate.OneOf(URGENCY_LEVELS))
    beat_code = fields.String(allow_none=True, validate=validate.Regexp(BEAT_CODE))
    concern_id = fields.String(allow_none=True, validate=validate.Length(max=64))
    client = fields.Nested(ClientInput, required=True)
    consent = fields.Nested(ConsentInput)


class ReferralPatch(Strict):
    service_id = fields.UUID()
    need_category = fields.String(validate=validate.Length(min=1, max=64))
    urgency = fields.String(validate=validate.OneOf(URGENCY_LEVELS))
    beat_code = fields.String(allow_none=True, validate=validate.Regexp(BEAT_CODE))
    client = fields.Nested(ClientPatch)


class StatusInput(Strict):
    status = fields.String(required=True, validate=validate.OneOf((ACCEPTED, DECLINED, IN_PROGRESS, COMPLETED)))
    reason = fields.String(validate=validate.OneOf(DECLINE_REASONS))
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))
    note = _text(2000)


class DeclineInput(Strict):
    reason = fields.String(required=True, validate=validate.OneOf(DECLINE_REASONS))
    note = _text(2000)


class OutcomeInput(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    note = _text(2000)


class NoteInput(Strict):
    note = _text(2000)


class CancelInput(Strict):
    reason = fields.String(required=True, validate=validate.OneOf(CANCEL_REASONS))


class WithdrawInput(Strict):
    method = fields.String(required=True, validate=validate.OneOf(CONSENT_METHODS))


class WebhookInput(Strict):
    url = fields.String(required=True, validate=validate.Length(min=8, max=500))
    description = _text(200)


class ReferralsQuery(Query):
    status = fields.String(validate=validate.OneOf(STATUSES))
    agency_id = fields.String()
    need_category = fields.String()
    concern_id = fields.String(metadata={"description": "the referrals made for one concern (the officer's page)"})
    request_id = fields.String(metadata={"description": "the referral drafted from one referral request (a problem's)"})


class AuditQuery(Query):
    referral_id = fields.String()
    actor = fields.String()
    since = UtcDateTime()


class ReportQuery(Query):
    group_by = fields.String(load_default="agency", validate=validate.OneOf(GROUPINGS))
    since = UtcDateTime()
    until = UtcDateTime()


# --- responses (for the OpenAPI document) -----------------------------------------------------


class ClientOutput(Schema):
    name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    age = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)


class ReferralOutput(Schema):
    id = fields.String()
    status = fields.String()
    agency_id = fields.String(allow_none=True)
    service_id = fields.String(allow_none=True)
    need_category = fields.String()
    urgency = fields.String()
    beat_code = fields.String(allow_none=True)
    concern_id = fields.String(allow_none=True, metadata={"description": "the concern the referral was made for"})
    request_id = fields.String(allow_none=True, metadata={"description": "the officer's referral request"})
    respond_by = fields.DateTime(allow_none=True)
    outcome = fields.String(allow_none=True)
    client = fields.Nested(ClientOutput, allow_none=True, metadata={"description": "only under valid consent"})
    client_withheld_reason = fields.String(allow_none=True)


class WebhookOutput(Schema):
    endpoint_id = fields.String()
    url = fields.String()
    active = fields.Boolean()
    secret = fields.String(metadata={"description": "whsec_...; shown once, when created or rotated"})
