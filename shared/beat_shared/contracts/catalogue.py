"""Every event type Beat publishes, with the schema of its data.

These are contracts between services and with outside subscribers (agencies,
dashboards). Events carry no personal data: ids, categories, statuses, beat codes
and timestamps only. A consumer that needs more asks the owning service (claim
check). A change that could break a consumer is a new version of the type (see
docs/decisions/0004-event-versioning.md), never an edit of a published schema.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from beat_shared.contracts.registry import EventContract, register

MEETING_KINDS = ("community_meeting", "crime_prevention_training", "neighbourhood_watch", "youth_activity")
URGENCIES = ("routine", "soon", "urgent")
REFERRAL_OUTCOMES = (
    "got_help",
    "could_not_contact",
    "not_eligible",
    "no_capacity",
    "no_longer_interested",
    "referred_elsewhere",
)
# Why an agency declines a referral (a code: no free text travels in events or reports).
REFERRAL_DECLINE_REASONS = ("no_capacity", "not_eligible", "out_of_area", "service_unavailable", "duplicate", "other")
# Why referrals could not turn an officer's request into a referral (retrying would not help).
PROBLEM_STAGES = ("scanning", "analysis", "response", "assessment", "closed")
PROBLEM_OUTCOMES = ("solved", "reduced", "displaced", "not_solved")
REFERRAL_REQUEST_FAILURES = (
    "request_not_found",  # concerns no longer has the request (nor the client's details)
    "consent_invalid",  # the recorded consent cannot cover the referral (dates)
)


def _id() -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=64))


def _code(required: bool = True) -> fields.String:
    return fields.String(required=required, allow_none=not required, validate=validate.Length(max=64))


# --- concerns ---------------------------------------------------------------------------


class ConcernFacts(Schema):
    """What every concern event says about its concern."""

    concern_id = _id()
    category_code = _code()
    beat_code = _code(required=False)
    status = fields.String(required=True)
    occurred_at = fields.AwareDateTime(required=True)


class ConcernSubmitted(ConcernFacts):
    anonymous = fields.Boolean(required=True)
    has_contact = fields.Boolean(required=True, metadata={"description": "the reporter left contact details"})
    outside_beats = fields.Boolean(required=True)
    language = fields.String(required=True)


class ConcernAcknowledged(ConcernFacts):
    officer_id = _id()
    submitted_at = fields.AwareDateTime(required=True)


class ConcernStatusChanged(ConcernFacts):
    previous_status = fields.String(required=True)
    changed_by = _id()
    has_public_note = fields.Boolean(required=True)


class ConcernEnded(ConcernFacts):
    """Resolved or closed: the facts a follow-up survey and a report card need."""

    submitted_at = fields.AwareDateTime(required=True)
    acknowledged_at = fields.AwareDateTime(required=True, allow_none=True)
    has_contact = fields.Boolean(required=True)
    language = fields.String(required=True)


class ConcernMerged(ConcernFacts):
    merged_into = _id()
    supporters_moved = fields.Integer(required=True, validate=validate.Range(min=0))


class ConcernOverdue(ConcernFacts):
    due_at = fields.AwareDateTime(required=True)


class ConcernSupported(ConcernFacts):
    supporters = fields.Integer(required=True, validate=validate.Range(min=1))


class ReferralRequested(Schema):
    request_id = _id()
    concern_id = fields.String(required=True, allow_none=True)
    need_category = _code()
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    beat_code = _code(required=False)
    requested_by = _id()
    consent_recorded = fields.Boolean(required=True, validate=validate.Equal(True))
    occurred_at = fields.AwareDateTime(required=True)


class MeetingFacts(Schema):
    meeting_id = _id()
    beat_code = _code()
    kind = fields.String(required=True, validate=validate.OneOf(MEETING_KINDS))
    title = fields.String(required=True, validate=validate.Length(max=200))
    starts_at = fields.AwareDateTime(required=True)
    occurred_at = fields.AwareDateTime(required=True)


class MeetingScheduled(MeetingFacts):
    ends_at = fields.AwareDateTime(required=True)
    venue = fields.String(required=True, validate=validate.Length(max=200))


class MeetingConcluded(MeetingFacts):
    actions_agreed = fields.Integer(required=True, validate=validate.Range(min=0))
    concern_ids = fields.List(fields.String(), required=True)
    attendees = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=0))


class ProblemFacts(Schema):
    """What every problem event says about its problem (SARA problem solving)."""

    problem_id = _id()
    beat_code = _code()
    categories = fields.List(fields.String(validate=validate.Length(max=64)), required=True)
    stage = fields.String(required=True, validate=validate.OneOf(PROBLEM_STAGES))
    occurred_at = fields.AwareDateTime(required=True)


class ProblemOpened(ProblemFacts):
    origin = fields.String(
        required=True,
        validate=validate.OneOf(("candidate", "manual")),
        metadata={"description": "suggested by scanning, or opened by hand"},
    )
    concern_ids = fields.List(fields.String(), required=True)
    opened_by = _id()


class ProblemStageChanged(ProblemFacts):
    previous_stage = fields.String(required=True, validate=validate.OneOf(PROBLEM_STAGES))
    changed_by = _id()


class ProblemAssessed(ProblemFacts):
    """The problem closed with its outcome and the figures it was judged by (concerns per week)."""

    outcome = fields.String(required=True, validate=validate.OneOf(PROBLEM_OUTCOMES))
    window_weeks = fields.Float(required=True)
    area_before_per_week = fields.Float(required=True)
    area_after_per_week = fields.Float(required=True)
    control_before_per_week = fields.Float(required=True)
    control_after_per_week = fields.Float(required=True)
    p_value = fields.Float(required=True, validate=validate.Range(min=0, max=1))


# --- referrals --------------------------------------------------------------------------


class ReferralFacts(Schema):
    referral_id = _id()
    agency_id = _id()
    service_id = fields.String(required=True, allow_none=True)
    need_category = _code()
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    status = fields.String(required=True)
    beat_code = _code(required=False)
    concern_id = fields.String(required=True, allow_none=True)
    occurred_at = fields.AwareDateTime(required=True)


class ReferralCreated(ReferralFacts):
    request_id = fields.String(
        allow_none=True,
        validate=validate.Length(max=64),
        metadata={
            "description": "the officer's referral request (concerns) it was drafted from; none for a direct draft"
        },
    )


class ReferralSent(ReferralFacts):
    respond_by = fields.AwareDateTime(required=True)
    details_url = fields.Url(required=True, require_tld=False, metadata={"description": "fetch with the agency token"})


class ReferralDeclined(ReferralFacts):
    reason = fields.String(required=True, validate=validate.Length(max=500))


class ReferralStatusChanged(ReferralFacts):
    previous_status = fields.String(required=True)


class ReferralCompleted(ReferralFacts):
    outcome = fields.String(required=True, validate=validate.OneOf(REFERRAL_OUTCOMES))


class ReferralReminderDue(ReferralFacts):
    respond_by = fields.AwareDateTime(required=True)


class ReferralRequestFailed(Schema):
    """No referral was made from a request; the officer sees why on the concern."""

    request_id = _id()
    concern_id = fields.String(required=True, allow_none=True)
    reason = fields.String(required=True, validate=validate.OneOf(REFERRAL_REQUEST_FAILURES))
    occurred_at = fields.AwareDateTime(required=True)


class ConsentWithdrawn(Schema):
    consent_id = _id()
    referral_ids = fields.List(fields.String(), required=True)
    agency_ids = fields.List(fields.String(), required=True)
    occurred_at = fields.AwareDateTime(required=True)


# --- surveys ----------------------------------------------------------------------------


class SurveyInvitationCreated(Schema):
    invitation_id = _id()
    survey_id = _id()
    wave_id = fields.String(required=True, allow_none=True)
    kind = fields.String(required=True, validate=validate.OneOf(("wave", "post_contact")))
    concern_id = fields.String(required=True, allow_none=True)
    recipient_ref = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "opaque notifications-directory reference for wave invitations"},
    )
    beat_code = _code(required=False)
    language = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)
    occurred_at = fields.AwareDateTime(required=True)


class SurveyResultsUpdated(Schema):
    survey_id = _id()
    period = fields.String(required=True, metadata={"description": "e.g. 2026-Q1 or 2026-03"})
    beat_codes = fields.List(fields.String(), required=True)
    occurred_at = fields.AwareDateTime(required=True)


# --- notifications ----------------------------------------------------------------------


class NotificationStatusChanged(Schema):
    notification_id = _id()
    channel = fields.String(required=True, validate=validate.OneOf(("email", "sms", "webhook", "inbox")))
    status = fields.String(
        required=True,
        validate=validate.OneOf(("queued", "sending", "delivered", "temporary_failure", "permanent_failure")),
    )
    source_event_id = fields.String(required=True, allow_none=True)
    attempts = fields.Integer(required=True, validate=validate.Range(min=0))
    occurred_at = fields.AwareDateTime(required=True)


def _register(event_type: str, source: str, schema: type[Schema], description: str) -> EventContract:
    return register(EventContract(event_type, source, schema, description=description))


_register("beat.concern.submitted", "concerns", ConcernSubmitted, "A resident voiced a concern.")
_register("beat.concern.acknowledged", "concerns", ConcernAcknowledged, "An officer acknowledged a concern.")
_register("beat.concern.status_changed", "concerns", ConcernStatusChanged, "A concern moved in its workflow.")
_register("beat.concern.resolved", "concerns", ConcernEnded, "A concern was resolved.")
_register("beat.concern.closed", "concerns", ConcernEnded, "A concern was closed without resolution or withdrawn.")
_register("beat.concern.merged", "concerns", ConcernMerged, "A duplicate concern was merged into another.")
_register("beat.concern.overdue", "concerns", ConcernOverdue, "A concern was not acknowledged in time.")
_register("beat.concern.supported", "concerns", ConcernSupported, "A resident added 'me too' to a concern.")
_register("beat.referral.requested", "concerns", ReferralRequested, "An officer asked for a referral, with consent.")
_register("beat.meeting.scheduled", "concerns", MeetingScheduled, "A community meeting or activity was scheduled.")
_register("beat.meeting.concluded", "concerns", MeetingConcluded, "A meeting ended with agreed actions.")
_register("beat.problem.opened", "concerns", ProblemOpened, "A problem was opened for problem solving (SARA).")
_register("beat.problem.stage_changed", "concerns", ProblemStageChanged, "A problem moved to another SARA stage.")
_register("beat.problem.assessed", "concerns", ProblemAssessed, "A problem was assessed and closed with an outcome.")

_register("beat.referral.created", "referrals", ReferralCreated, "A referral was drafted.")
_register("beat.referral.sent", "referrals", ReferralSent, "A referral was sent to an agency.")
_register("beat.referral.accepted", "referrals", ReferralFacts, "The agency accepted a referral.")
_register("beat.referral.declined", "referrals", ReferralDeclined, "The agency declined a referral.")
_register("beat.referral.status_changed", "referrals", ReferralStatusChanged, "A referral moved in its lifecycle.")
_register("beat.referral.completed", "referrals", ReferralCompleted, "A referral ended with an outcome.")
_register("beat.referral.reminder_due", "referrals", ReferralReminderDue, "An agency has not answered yet.")
_register("beat.referral.expired", "referrals", ReferralFacts, "The agency did not answer in time.")
_register("beat.referral.cancelled", "referrals", ReferralFacts, "A referral was cancelled.")
_register(
    "beat.referral.request_failed",
    "referrals",
    ReferralRequestFailed,
    "An officer's referral request could not become a referral.",
)
_register("beat.consent.withdrawn", "referrals", ConsentWithdrawn, "A client withdrew consent to share.")

_register("beat.survey.invitation_created", "surveys", SurveyInvitationCreated, "A survey invitation was issued.")
_register("beat.survey.results_updated", "surveys", SurveyResultsUpdated, "A period's survey results changed.")

_register(
    "beat.notification.status_changed", "notifications", NotificationStatusChanged, "A message's delivery status."
)
