"""Which event notifies whom: every consumed event type against the rules."""

import pytest

from beat_shared.contracts import new_event
from notifications.domain.rules import CONSUMED, DEFAULT_CHANNELS, notifications_for
from notifications.rendering import Renderer

WHEN = "2026-01-05T09:00:00Z"
CONCERN = {"concern_id": "c-1", "category_code": "graffiti", "beat_code": "RV-01", "status": "x", "occurred_at": WHEN}
REFERRAL = {
    "referral_id": "r-1",
    "agency_id": "agency-a",
    "service_id": None,
    "need_category": "food",
    "urgency": "soon",
    "status": "sent",
    "beat_code": "RV-01",
    "concern_id": "c-1",
    "occurred_at": WHEN,
}
DATA = {
    "beat.concern.submitted": {
        **CONCERN,
        "anonymous": False,
        "has_contact": True,
        "outside_beats": False,
        "language": "en",
    },
    "beat.concern.acknowledged": {**CONCERN, "officer_id": "o", "submitted_at": WHEN},
    "beat.concern.status_changed": {**CONCERN, "previous_status": "y", "changed_by": "o", "has_public_note": False},
    "beat.concern.resolved": {
        **CONCERN,
        "submitted_at": WHEN,
        "acknowledged_at": None,
        "has_contact": True,
        "language": "es",
    },
    "beat.concern.merged": {**CONCERN, "merged_into": "c-0", "supporters_moved": 2},
    "beat.concern.overdue": {**CONCERN, "due_at": WHEN},
    "beat.meeting.scheduled": {
        "meeting_id": "m-1",
        "beat_code": "RV-01",
        "kind": "community_meeting",
        "title": "Meet",
        "starts_at": WHEN,
        "occurred_at": WHEN,
        "ends_at": WHEN,
        "venue": "Library",
    },
    "beat.referral.sent": {**REFERRAL, "respond_by": WHEN, "details_url": "http://localhost/r/1"},
    "beat.referral.reminder_due": {**REFERRAL, "respond_by": WHEN},
    "beat.referral.expired": REFERRAL,
    "beat.consent.withdrawn": {
        "consent_id": "k-1",
        "referral_ids": ["r-1", "r-2"],
        "agency_ids": ["agency-a", "agency-b", "agency-a"],
        "occurred_at": WHEN,
    },
    "beat.survey.invitation_created": {
        "invitation_id": "i-1",
        "survey_id": "s-1",
        "wave_id": None,
        "kind": "post_contact",
        "concern_id": "c-1",
        "recipient_ref": None,
        "beat_code": "RV-01",
        "language": "en",
        "expires_at": WHEN,
        "occurred_at": WHEN,
    },
}
DATA["beat.concern.closed"] = DATA["beat.concern.resolved"]
EXPECTED_AUDIENCES = {
    "beat.concern.submitted": ["staff"],
    "beat.concern.acknowledged": ["reporter"],
    "beat.concern.status_changed": ["reporter"],
    "beat.concern.resolved": ["reporter"],
    "beat.concern.closed": ["reporter"],
    "beat.concern.merged": ["reporter"],
    "beat.concern.overdue": ["staff"],
    "beat.meeting.scheduled": ["subscribers"],
    "beat.referral.sent": ["agency", "staff"],
    "beat.referral.reminder_due": ["agency", "staff"],
    "beat.referral.expired": ["agency", "staff"],
    "beat.consent.withdrawn": ["agency", "agency"],
    "beat.survey.invitation_created": ["reporter"],
}
ALL_TYPES = [event_type for types in CONSUMED.values() for event_type in types]


@pytest.mark.parametrize("event_type", ALL_TYPES)
def test_each_consumed_event_has_a_rule_and_templates(event_type):
    event = new_event(event_type, "subject-1", DATA[event_type])
    specs = notifications_for(event)
    assert [spec.audience["kind"] for spec in specs] == EXPECTED_AUDIENCES[event_type]
    renderer = Renderer()
    for spec in specs:
        assert renderer.exists(spec.template)
        assert spec.topic in DEFAULT_CHANNELS
        assert len({(s.source_key, s.rule) for s in specs}) == len(specs)  # the unique key holds


def test_overdue_and_consent_are_urgent_the_rest_not():
    urgent = {t for t in ALL_TYPES if any(s.urgent for s in notifications_for(new_event(t, "s", DATA[t])))}
    assert urgent == {"beat.concern.overdue", "beat.consent.withdrawn"}


def test_consent_withdrawal_is_keyed_by_consent_not_event():
    first = notifications_for(new_event("beat.consent.withdrawn", "k-1", DATA["beat.consent.withdrawn"]))
    second = notifications_for(new_event("beat.consent.withdrawn", "k-1", DATA["beat.consent.withdrawn"]))
    assert [(s.source_key, s.rule) for s in first] == [(s.source_key, s.rule) for s in second]


def test_no_beat_means_no_beat_team_and_wave_invitations_use_the_directory():
    outside = {**DATA["beat.concern.submitted"], "beat_code": None}
    assert notifications_for(new_event("beat.concern.submitted", "c", outside)) == []
    wave = {**DATA["beat.survey.invitation_created"], "kind": "wave", "concern_id": None, "recipient_ref": "ref-1"}
    [spec] = notifications_for(new_event("beat.survey.invitation_created", "i", wave))
    assert spec.audience == {"kind": "directory", "ref": "ref-1"}


def test_agency_webhook_payload_carries_no_personal_data():
    event = new_event("beat.referral.sent", "r-1", DATA["beat.referral.sent"])
    [agency, _] = notifications_for(event)
    assert agency.context["webhook"] == {
        "id": event.id,
        "type": event.type,
        "timestamp": event.time,
        "data": event.data,
    }
