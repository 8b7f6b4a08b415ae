"""marshmallow schemas of the native HTTP API (they also generate /openapi.json)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from beat_shared.contracts.catalogue import MEETING_KINDS, REFERRAL_REQUEST_FAILURES, URGENCIES
from beat_shared.fields import UtcDateTime
from beat_shared.roles import OFFICERS
from concerns.domain.attributes import DATATYPES
from concerns.domain.workflow import Status

LANGUAGES = ("en", "es")
UNPLACED_QUEUE = "unplaced"
CONTACT_PREFERENCES = ("email", "sms", "none")
MAX_DESCRIPTION = 4000


PERIOD = validate.Regexp(r"^\d{4}-(Q[1-4]|\d{2})$", error="e.g. 2026-Q1")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE  # a misspelt field is an error, not silently ignored


def _text(max_length: int, **kwargs: object) -> fields.String:
    return fields.String(validate=validate.Length(max=max_length), **kwargs)  # type: ignore[arg-type]


# --- categories -------------------------------------------------------------------------


class AttributeValue(StrictSchema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=100))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class AttributeDefinition(StrictSchema):
    """An Open311 service-definition attribute."""

    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$"))
    variable = fields.Boolean(load_default=True)
    datatype = fields.String(required=True, validate=validate.OneOf(DATATYPES))
    required = fields.Boolean(load_default=False)
    datatype_description = _text(500, load_default=None, allow_none=True)
    order = fields.Integer(required=True, validate=validate.Range(min=1))
    description = _text(500, required=True)
    values = fields.List(fields.Nested(AttributeValue), load_default=list)


LANGUAGE_CODE = validate.Regexp(r"^[a-z]{2}(-[A-Z]{2})?$", error="a language code like es or es-MX")


class AttributeTranslation(StrictSchema):
    description = _text(500, load_default=None, allow_none=True)
    datatype_description = _text(500, load_default=None, allow_none=True)
    values = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=100)),
        values=fields.String(validate=validate.Length(min=1, max=200)),
        load_default=dict,
        metadata={"description": "value key → its name in this language"},
    )


class CategoryTranslation(StrictSchema):
    """What a city translates of a category: any of its words, the rest stay in English."""

    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=200))
    description = _text(2000, load_default=None, allow_none=True)
    group = _text(100, load_default=None, allow_none=True)
    attributes = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$")),
        values=fields.Nested(AttributeTranslation),
        load_default=dict,
        metadata={"description": "attribute code → its words in this language"},
    )


class CategoryInput(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_-]{1,64}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = _text(2000, load_default="")
    group = _text(100, load_default="")
    keywords = fields.List(fields.String(validate=validate.Length(max=50)), load_default=list)
    attributes = fields.List(fields.Nested(AttributeDefinition), load_default=list)
    acknowledge_hours = fields.Integer(load_default=72, validate=validate.Range(min=1, max=24 * 30))
    active = fields.Boolean(load_default=True)
    translations = fields.Dict(
        keys=fields.String(validate=LANGUAGE_CODE),
        values=fields.Nested(CategoryTranslation),
        load_default=dict,
        metadata={"description": "language → the category's words in it (English is the source)"},
    )


class CategoryQuery(Schema):
    lang = fields.String(
        load_default=None,
        validate=LANGUAGE_CODE,
        metadata={"description": "the language to serve the words in (else Accept-Language, else English)"},
    )


class CategoryOutput(Schema):
    code = fields.String()
    name = fields.String()
    description = fields.String()
    group = fields.String()
    keywords = fields.List(fields.String())
    attributes = fields.List(fields.Nested(AttributeDefinition))
    acknowledge_hours = fields.Integer()
    active = fields.Boolean()
    language = fields.String(metadata={"description": "the language the words are in"})
    translations = fields.Dict(keys=fields.String(), values=fields.Nested(CategoryTranslation))


# --- concerns ---------------------------------------------------------------------------


class LocationInput(StrictSchema):
    lat = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90), load_default=None)
    long = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180), load_default=None)
    address = _text(500, allow_none=True, load_default=None)


class ContactInput(StrictSchema):
    name = _text(200, allow_none=True, load_default=None)
    email = fields.Email(allow_none=True, load_default=None, validate=validate.Length(max=320))
    phone = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(r"^\+?[0-9 ()./-]{6,30}$", error="not a phone number"),
    )
    preference = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(CONTACT_PREFERENCES))


class ConcernInput(StrictSchema):
    """A resident's concern. Without `contact` (and without a resident token) it is anonymous."""

    category = fields.String(required=True, validate=validate.Length(min=1, max=64))
    description = fields.String(required=True, validate=validate.Length(min=1, max=MAX_DESCRIPTION))
    location = fields.Nested(LocationInput, required=True)
    media_url = fields.Url(
        allow_none=True, load_default=None, schemes={"http", "https"}, validate=validate.Length(max=1000)
    )
    attributes = fields.Dict(keys=fields.String(), load_default=dict)
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    contact = fields.Nested(ContactInput, allow_none=True, load_default=None)


class PublicLocation(Schema):
    lat = fields.Float(allow_none=True)
    long = fields.Float(allow_none=True)
    precision_metres = fields.Integer(allow_none=True)


class UpdateOutput(Schema):
    status = fields.String()
    previous_status = fields.String(allow_none=True)
    at = fields.String()
    public_note = fields.String(allow_none=True)
    by = fields.String(metadata={"description": "staff view only"})
    by_role = fields.String(metadata={"description": "staff view only"})
    internal_note = fields.String(allow_none=True, metadata={"description": "staff view only"})


class ReporterOutput(Schema):
    subject = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    contact_preference = fields.String(allow_none=True)
    device_id = fields.String(allow_none=True)
    account_id = fields.String(allow_none=True)


STAFF_OR_REPORTER = {"description": "staff and reporter views only"}
STAFF_ONLY = {"description": "staff view only"}


class ReferralRequestFields(Schema):
    """What every answer about a referral request names."""

    request_id = fields.String()
    need_category = fields.String()
    urgency = fields.String()


class ReferralRequestStateOutput(ReferralRequestFields):
    requested_by = fields.String()
    requested_at = fields.String()
    state = fields.String(metadata={"enum": ["requested", "failed"]})
    failure_reason = fields.String(
        allow_none=True, metadata={"enum": list(REFERRAL_REQUEST_FAILURES), "description": "when failed"}
    )
    failed_at = fields.String(allow_none=True)


class ConcernOutput(Schema):
    """A concern as its audience sees it: staff and the reporter see more than the public."""

    id = fields.String()
    category = fields.String()
    category_name = fields.String()
    status = fields.String(metadata={"enum": [s.value for s in Status]})
    status_label = fields.String()
    open311_status = fields.String()
    beat_code = fields.String(allow_none=True)
    outside_beats = fields.Boolean()
    supporters = fields.Integer()
    merged_into = fields.String(allow_none=True)
    submitted_at = fields.String()
    updated_at = fields.String()
    acknowledged_at = fields.String(allow_none=True)
    ended_at = fields.String(allow_none=True)
    media_url = fields.String(allow_none=True)
    description = fields.String()
    location = fields.Dict()
    attributes = fields.Dict(metadata=STAFF_OR_REPORTER)
    language = fields.String(metadata=STAFF_OR_REPORTER)
    anonymous = fields.Boolean(metadata=STAFF_OR_REPORTER)
    reporter = fields.Nested(ReporterOutput, metadata=STAFF_OR_REPORTER)
    acknowledge_by = fields.String(allow_none=True, metadata=STAFF_OR_REPORTER)
    address_id = fields.String(allow_none=True, metadata=STAFF_ONLY)
    source = fields.String(metadata=STAFF_ONLY)
    overdue = fields.Boolean(metadata=STAFF_ONLY)
    overdue_at = fields.String(allow_none=True, metadata=STAFF_ONLY)
    version = fields.Integer(metadata={"description": "send it back (If-Match or version) to change the concern"})
    updates = fields.List(fields.Nested(UpdateOutput))
    referral_requests = fields.List(fields.Nested(ReferralRequestStateOutput), metadata=STAFF_ONLY)
    service_notice = fields.String()


class SuggestionOutput(Schema):
    """A likely duplicate: an open concern of the same category nearby, which the resident may
    support instead of submitting; its public view says what it is about."""

    concern_id = fields.String()
    distance_metres = fields.Integer()
    concern = fields.Nested(
        ConcernOutput, metadata={"description": "the public view: no personal data, location rounded to ~100 m"}
    )


class SimilarOutput(Schema):
    possible_duplicates = fields.List(fields.Nested(SuggestionOutput))
    service_notice = fields.String()


class SubmittedOutput(Schema):
    concern = fields.Nested(ConcernOutput)
    receipt_token = fields.String(metadata={"description": "shown once; reads and withdraws this concern only"})
    possible_duplicates = fields.List(fields.Nested(SuggestionOutput))
    problems = fields.List(
        fields.Dict(),
        metadata={
            "description": "problems of its beat the concern joined: officers are working on them (id, title, stage)"
        },
    )
    service_notice = fields.String()


class TransitionInput(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    version = fields.Integer(load_default=None, allow_none=True, metadata={"description": "or the If-Match header"})
    public_note = _text(2000, load_default=None, allow_none=True)
    internal_note = _text(4000, load_default=None, allow_none=True)
    merged_into = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36))


class NoteInput(StrictSchema):
    version = fields.Integer(load_default=None, allow_none=True, metadata={"description": "or the If-Match header"})
    public_note = _text(2000, load_default=None, allow_none=True, metadata={"description": "the reporter sees it"})
    internal_note = _text(4000, load_default=None, allow_none=True, metadata={"description": "staff only"})


class WithdrawInput(StrictSchema):
    version = fields.Integer(load_default=None, allow_none=True)
    public_note = _text(2000, load_default=None, allow_none=True)


class SupportOutput(Schema):
    concern_id = fields.String()
    supporters = fields.Integer()
    counted = fields.Boolean(metadata={"description": "false when this resident or token had already counted"})
    supporter_token = fields.String(
        allow_none=True, metadata={"description": "for anonymous supporters: send it as X-Receipt-Token next time"}
    )
    service_notice = fields.String()


class ConcernListQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    category = fields.String()
    beat = fields.String()
    overdue = fields.Boolean()
    outside_beats = fields.Boolean()
    queue = fields.String(
        validate=validate.OneOf([UNPLACED_QUEUE]),
        metadata={"description": "unplaced: concerns in no beat (address only, or outside every beat), supervisors"},
    )
    page = fields.Integer(validate=validate.Range(min=1))
    per_page = fields.Integer(validate=validate.Range(min=1, max=100))


class PublicListQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf(["open", "closed", *[s.value for s in Status]]))
    category = fields.String()
    beat = fields.String()
    bbox = fields.String(metadata={"description": "min_long,min_lat,max_long,max_lat"})
    page = fields.Integer(validate=validate.Range(min=1))
    per_page = fields.Integer(validate=validate.Range(min=1, max=100))


class SimilarQuery(StrictSchema):
    category = fields.String(required=True)
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    long = fields.Float(required=True, validate=validate.Range(min=-180, max=180))


# --- referral requests ------------------------------------------------------------------


class ClientInput(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    phone = fields.String(allow_none=True, load_default=None, validate=validate.Regexp(r"^\+?[0-9 ()./-]{6,30}$"))
    email = fields.Email(allow_none=True, load_default=None)
    language = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    notes = _text(2000, load_default="")

    @validates_schema
    def reachable(self, data: dict, **kwargs: object) -> None:
        if not (data.get("phone") or data.get("email")):
            raise ValidationError("give a phone number or an email address", "phone")


class ConsentInput(StrictSchema):
    given_by = fields.String(required=True, validate=validate.Length(min=1, max=200))
    given_at = UtcDateTime(required=True)
    method = fields.String(required=True, validate=validate.OneOf(("verbal", "written", "electronic")))
    scope = fields.String(required=True, validate=validate.Length(min=1, max=500))
    valid_until = UtcDateTime(load_default=None, allow_none=True)


class ReferralRequestInput(StrictSchema):
    concern_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=36))
    beat_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    need_category = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_-]{1,64}$"))
    urgency = fields.String(load_default="routine", validate=validate.OneOf(URGENCIES))
    client = fields.Nested(ClientInput, required=True)
    consent = fields.Nested(ConsentInput, required=True)


class ReferralRequestOutput(ReferralRequestFields):
    concern_id = fields.String(allow_none=True)
    beat_code = fields.String(allow_none=True)
    created_at = fields.String()


# --- beats and officers -----------------------------------------------------------------


class OfficerInput(StrictSchema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=120))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(load_default="officer", validate=validate.OneOf(OFFICERS))
    title = _text(100, load_default="")
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    photo_url = fields.Url(load_default=None, allow_none=True, schemes={"http", "https"})
    bio = _text(2000, load_default="")


class AssignmentInput(StrictSchema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=120))


class OfficerOutput(Schema):
    subject = fields.String()
    name = fields.String()
    title = fields.String()
    role = fields.String()
    photo_url = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    bio = fields.String()


class BeatOutput(Schema):
    code = fields.String()
    name = fields.String()
    neighbourhood = fields.String()
    contact_email = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    bbox = fields.List(fields.Float())


class BeatPageOutput(Schema):
    beat = fields.Nested(BeatOutput)
    officers = fields.List(fields.Nested(OfficerOutput))
    upcoming_meetings = fields.List(fields.Dict())
    top_open_concerns = fields.List(fields.Nested(ConcernOutput))
    recently_resolved = fields.List(fields.Nested(ConcernOutput))
    priorities = fields.Dict()
    open_actions = fields.List(fields.Dict())
    problems = fields.List(fields.Dict(), metadata={"description": "problems worked, and those closed recently"})
    problem_counts = fields.Dict(
        metadata={"description": "how many problems are being worked, and closed (solved among them) since `since`"}
    )
    service_notice = fields.String()


# --- meetings ---------------------------------------------------------------------------


class MeetingInput(StrictSchema):
    kind = fields.String(required=True, validate=validate.OneOf(MEETING_KINDS))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = _text(4000, load_default="")
    venue = fields.String(required=True, validate=validate.Length(min=1, max=200))
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)
    # The concerns the officer chose from the suggested agenda (`GET /beats/{code}/agenda`);
    # absent: the whole ranked suggestion becomes the agenda.
    agenda_concern_ids = fields.List(
        fields.String(validate=validate.Length(max=36)), load_default=None, validate=validate.Length(max=20)
    )


class ActionInput(StrictSchema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    owner = fields.String(required=True, validate=validate.Length(min=1, max=200))
    due_date = fields.Date(required=True)
    concern_ids = fields.List(fields.String(validate=validate.Length(max=36)), load_default=list)
    # An action for one of the beat's open problems joins its response plan.
    problem_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=36))


class PriorityItem(StrictSchema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = _text(2000, load_default="")
    concern_ids = fields.List(fields.String(validate=validate.Length(max=36)), load_default=list)


class PrioritiesInput(StrictSchema):
    period = fields.String(required=True, validate=PERIOD)
    items = fields.List(fields.Nested(PriorityItem), required=True, validate=validate.Length(max=20))


class ConclusionInput(StrictSchema):
    attendees = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100_000))
    summary = _text(8000, load_default="")
    actions = fields.List(fields.Nested(ActionInput), load_default=list)
    priorities = fields.Nested(PrioritiesInput, load_default=None, allow_none=True)


class ActionUpdateInput(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(("open", "done")))


class MeetingsQuery(Schema):
    when = fields.String(load_default="upcoming", validate=validate.OneOf(["upcoming", "past", "all"]))


class ActionsQuery(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(["open", "done"]))


class PrioritiesQuery(Schema):
    # Not checked against PERIOD: a period no priorities were agreed for has none, and the web's
    # meeting page asks again with the period a rejected conclusion named.
    period = fields.String(load_default=None, metadata={"description": "e.g. 2026-Q1 (else this quarter)"})


class MeetingOutput(Schema):
    id = fields.String()
    beat_code = fields.String()
    kind = fields.String()
    title = fields.String()
    description = fields.String()
    venue = fields.String()
    starts_at = fields.String()
    ends_at = fields.String()
    status = fields.String()
    agenda = fields.List(fields.Dict())
    attendees = fields.Integer(allow_none=True)
    summary = fields.String()
    concluded_at = fields.String(allow_none=True)
    actions = fields.List(fields.Dict())
