"""marshmallow schemas of the notifications HTTP API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from beat_shared.fields import UtcDateTime
from beat_shared.http import PageFields
from notifications.models import CHANNELS, STATUSES

BEAT_CODE = validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$", error="a beat code like RV-01")
PERSONAL_CHANNELS = ("email", "sms", "inbox", "*")


def strings(*names: str, allow_none: bool = False) -> dict[str, fields.Field]:
    """Text fields of an answer, in this order (None allowed for those that may be missing)."""
    return {name: fields.String(allow_none=allow_none) for name in names}


def answer(name: str, declared: dict[str, fields.Field]) -> type[Schema]:
    """An answer's schema from its fields in order (mostly `strings`), named for the OpenAPI document."""
    return Schema.from_dict(declared, name=name)


class ContactInput(Schema):
    email = fields.String(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=validate.Length(max=32))
    language = fields.String(validate=validate.Length(min=2, max=8))
    timezone = fields.String(allow_none=True, validate=validate.Length(max=64))
    quiet_start = fields.String(allow_none=True, metadata={"description": "HH:MM local; non-urgent messages wait"})
    quiet_end = fields.String(allow_none=True)
    digest = fields.Boolean(metadata={"description": "gather non-urgent emails into one daily digest"})


ContactView = answer(
    "ContactView",
    {
        "ref": fields.String(allow_none=True, metadata={"description": "opaque directory reference"}),
        **strings("email", "phone", allow_none=True),
        **strings("language"),
        **strings("timezone", "quiet_start", "quiet_end", allow_none=True),
        "digest": fields.Boolean(),
        "opted_out": fields.Boolean(),
    },
)


class PreferenceInput(Schema):
    topic = fields.String(required=True, metadata={"description": "a topic, or * for all"})
    channel = fields.String(required=True, validate=validate.OneOf(PERSONAL_CHANNELS))
    enabled = fields.Boolean(required=True)


PreferenceView = answer("PreferenceView", {**strings("topic", "channel"), "enabled": fields.Boolean()})


class PreferencesView(Schema):
    opted_out = fields.Boolean()
    topics = fields.List(fields.String())
    preferences = fields.List(fields.Nested(PreferenceView))


class SubscriptionInput(Schema):
    beat_code = fields.String(required=True, validate=BEAT_CODE)
    watch = fields.Boolean(
        load_default=None,
        metadata={"description": "join (true) or leave (false) the beat's neighbourhood watch; absent: unchanged"},
    )


class SubscriptionsView(Schema):
    beat_codes = fields.List(fields.String())
    watch_beat_codes = fields.List(
        fields.String(), metadata={"description": "the beats whose neighbourhood watch I joined"}
    )


class BroadcastInput(Schema):
    kind = fields.String(
        required=True,
        validate=validate.OneOf(("alert", "meeting", "watch")),
        metadata={"description": "watch: a message to the beat's neighbourhood watch only"},
    )
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(load_default="", validate=validate.Length(max=2000))
    urgent = fields.Boolean(load_default=False, metadata={"description": "urgent alerts ignore quiet hours"})
    starts_at = UtcDateTime(allow_none=True)
    ends_at = UtcDateTime(allow_none=True)
    venue = fields.String(allow_none=True, validate=validate.Length(max=200))


BroadcastView = answer("BroadcastView", {**strings("id", "beat_code", "kind"), "subscribers": fields.Integer()})
BroadcastPreviewItem = answer(
    "BroadcastPreviewItem", {**strings("language", "subject", "text", "sms"), "sms_segments": fields.Integer()}
)


class BroadcastPreviewView(Schema):
    beat_code = fields.String()
    kind = fields.String()
    subscribers = fields.Integer(metadata={"description": "the beat's subscribers it would reach now"})
    previews = fields.List(fields.Nested(BroadcastPreviewItem), metadata={"description": "one per language"})


InboxItemView = answer(
    "InboxItemView", {**strings("id", "topic", "title", "body", "created_at"), **strings("read_at", allow_none=True)}
)


class InboxPage(PageFields):
    contents = fields.List(fields.Nested(InboxItemView))


class InboxQuery(Schema):
    unread = fields.Boolean(load_default=False)
    page = fields.Integer()
    per_page = fields.Integer()


class UnreadCount(Schema):
    unread = fields.Integer()


AttemptView = answer(
    "AttemptView",
    {
        "number": fields.Integer(),
        **strings("started_at", "outcome"),
        "status_code": fields.Integer(allow_none=True),
        **strings("error", "next_attempt_at", allow_none=True),
    },
)
MessageView = answer(
    "MessageView",
    {
        **strings("id", "source_key"),
        **strings("event_id", allow_none=True),
        **strings("event_type"),
        "recipient_key": fields.String(metadata={"description": "a reference (user:, reporter:, agency:, endpoint:)"}),
        **strings("channel", "topic", "template", "language"),
        "urgent": fields.Boolean(),
        **strings("status"),
        "attempts": fields.Integer(),
        **strings("next_attempt_at"),
        **strings("last_error", allow_none=True),
        "held_for_digest": fields.Boolean(),
        **strings("digest_id", allow_none=True),
        "sms_segments": fields.Integer(allow_none=True),
        **strings("created_at"),
        **strings("delivered_at", allow_none=True),
        "delivery_attempts": fields.List(fields.Nested(AttemptView)),
    },
)


class MessagePage(PageFields):
    contents = fields.List(fields.Nested(MessageView))


class MessageQuery(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    event_id = fields.String()
    recipient_key = fields.String()
    topic = fields.String()
    page = fields.Integer()
    per_page = fields.Integer()


NotificationView = answer(
    "NotificationView",
    {
        "id": fields.Integer(),
        **strings("source_key", "event_type", "rule", "topic", "template", "status"),
        "attempts": fields.Integer(),
        **strings("last_error", allow_none=True),
        **strings("created_at"),
    },
)


class NotificationPage(PageFields):
    contents = fields.List(fields.Nested(NotificationView))


class NotificationQuery(Schema):
    status = fields.String(validate=validate.OneOf(("pending", "expanded", "failed")))
    page = fields.Integer()
    per_page = fields.Integer()


class PreviewInput(Schema):
    language = fields.String(load_default="en", validate=validate.Length(min=2, max=8))
    context = fields.Dict(load_default=None, allow_none=True, metadata={"description": "defaults to an example"})


PreviewView = answer(
    "PreviewView",
    {
        **strings("template"),
        "language": fields.String(metadata={"description": "the language actually used (fallback: en)"}),
        **strings("subject", "text", "html", "sms"),
        "sms_segments": fields.Integer(),
        **strings("sms_encoding"),
    },
)


class TemplatesView(Schema):
    templates = fields.List(fields.String())
    languages = fields.List(fields.String())


class WebhookUrlInput(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class WebhookUrlView(Schema):
    url = fields.String()
    allowed = fields.Boolean()


class SmsInboundInput(Schema):
    sender = fields.String(required=True, data_key="from", validate=validate.Length(min=1, max=32))
    text = fields.String(required=True, validate=validate.Length(max=1600))


class SmsInboundView(Schema):
    action = fields.String(metadata={"description": "stop, start or ignored"})


UnsubscribeView = answer("UnsubscribeView", strings("channel", "topic"))


# --- subscribers without an account ---------------------------------------------------------------
SUBSCRIBER_TOKEN_HEADER = "X-Subscriber-Token"
# These endpoints take no bearer token, but refuse a request without a valid manage token.
SUBSCRIBE_LIMIT_RESPONSES = {
    "429": {
        "description": "too many asks from this client address (NOTIFICATIONS_SUBSCRIBE_RATE_PER_ADDRESS); "
        "Retry-After says when to try again",
        "content": {"application/json": {"schema": "Error"}},
    }
}

MANAGE_TOKEN_RESPONSES = {
    "401": {
        "description": f"no manage token in {SUBSCRIBER_TOKEN_HEADER} (a forged or expired one is a 400)",
        "content": {"application/json": {"schema": "Error"}},
    }
}


class SubscriberInput(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    beat_code = fields.String(required=True, validate=BEAT_CODE)
    language = fields.String(load_default="en", validate=validate.Length(min=2, max=8))
    watch = fields.Boolean(load_default=False, metadata={"description": "also join the beat's neighbourhood watch"})


class SubscriberAsked(Schema):
    status = fields.String(
        metadata={"description": "always `confirmation_sent`: the answer does not tell whether the address follows"}
    )


class ConfirmationInput(Schema):
    token = fields.String(required=True, validate=validate.Length(min=10, max=600))


class ConfirmationView(Schema):
    beat_code = fields.String()
    manage_token = fields.String(
        metadata={"description": f"manages this address's alerts: send it back in {SUBSCRIBER_TOKEN_HEADER}"}
    )


class SubscriberView(Schema):
    language = fields.String()
    beat_codes = fields.List(fields.String(), metadata={"description": "the beats followed (confirmed)"})
    watch_beat_codes = fields.List(fields.String(), metadata={"description": "the beats whose watch they joined"})


class SubscriberLanguageInput(Schema):
    language = fields.String(required=True, validate=validate.Length(min=2, max=8))
