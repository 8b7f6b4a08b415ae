"""The report card's read model and the post-contact survey, fed by real CloudEvents
published on the concerns and referrals exchanges of a real RabbitMQ."""

import json

from kombu import Connection, Producer
from nameko.testing.services import entrypoint_hook

from beat_shared.amqp import event_exchange
from beat_shared.contracts import new_event
from beat_shared.testing import wait_for

BEAT = "RV-03"


def concern(concern_id, status, occurred_at, **extra):
    return {
        "concern_id": concern_id,
        "category_code": "noise",
        "beat_code": BEAT,
        "status": status,
        "occurred_at": occurred_at,
        **extra,
    }


def ended(concern_id, status, occurred_at, has_contact, language="es"):
    return concern(
        concern_id,
        status,
        occurred_at,
        submitted_at="2026-01-12T08:00:00Z",
        acknowledged_at="2026-01-12T14:00:00Z",
        has_contact=has_contact,
        language=language,
    )


def card(web_session):
    return web_session.get(f"/report-cards/{BEAT}?period=2026-Q1").json()


def test_a_resolved_concern_invites_its_reporter_and_counts_on_the_report_card(surveys, web_session, helpers):
    submitted = {"anonymous": False, "has_contact": True, "outside_beats": False, "language": "es"}
    helpers.publish("beat.concern.submitted", "c-1", concern("c-1", "submitted", "2026-01-12T08:00:00Z", **submitted))
    helpers.publish(
        "beat.concern.acknowledged",
        "c-1",
        concern(
            "c-1",
            "acknowledged",
            "2026-01-12T14:00:00Z",
            officer_id="officer-rv03",
            submitted_at="2026-01-12T08:00:00Z",
        ),
    )
    helpers.publish("beat.concern.resolved", "c-1", ended("c-1", "resolved", "2026-01-20T10:00:00Z", True))
    # Closed later too: still one invitation for the concern.
    helpers.publish("beat.concern.closed", "c-1", ended("c-1", "closed", "2026-01-25T10:00:00Z", True))
    # A reporter without contact details gets no invitation.
    helpers.publish("beat.concern.resolved", "c-2", ended("c-2", "resolved", "2026-01-21T10:00:00Z", False))
    helpers.publish(
        "beat.meeting.concluded",
        "m-1",
        {
            "meeting_id": "m-1",
            "beat_code": BEAT,
            "kind": "community_meeting",
            "title": "Beat meeting",
            "starts_at": "2026-02-01T18:00:00Z",
            "occurred_at": "2026-02-01T20:00:00Z",
            "actions_agreed": 2,
            "concern_ids": ["c-1"],
            "attendees": 14,
        },
    )
    # Concluded before it started: not held, so not counted.
    not_held = helpers.publish(
        "beat.meeting.concluded",
        "m-2",
        {
            "meeting_id": "m-2",
            "beat_code": BEAT,
            "kind": "community_meeting",
            "title": "Next beat meeting",
            "starts_at": "2026-03-01T18:00:00-06:00",
            "occurred_at": "2026-02-02T09:00:00Z",
            "actions_agreed": 0,
            "concern_ids": [],
            "attendees": None,
        },
    )
    helpers.publish(
        "beat.referral.sent",
        "r-1",
        {
            "referral_id": "r-1",
            "agency_id": "agency-riverton-food-bank",
            "service_id": None,
            "need_category": "food",
            "urgency": "soon",
            "status": "sent",
            "beat_code": BEAT,
            "concern_id": "c-1",
            "occurred_at": "2026-01-15T09:00:00Z",
            "respond_by": "2026-01-17T09:00:00Z",
            "details_url": "http://localhost:8002/referrals/r-1",
        },
        source="referrals",
    )

    expected = {
        "concerns_received": 2,  # c-1 from its submitted event, c-2 from its resolved event's submitted_at
        "concerns_resolved": 2,
        "concerns_closed": 1,
        "median_hours_to_acknowledge": 6.0,
        "meetings_held": 1,
        "referrals_made": 1,
        "problems_worked": 0,
        "problems_solved": 0,
    }

    def counted():
        # The events travel on different queues, so they arrive in any order: wait for all of them.
        return card(web_session)["actions"] == expected

    wait_for(counted, timeout=30, message="all events reach the report card")
    wait_for(lambda: helpers.rows(f"SELECT * FROM processed_events WHERE event_id = '{not_held}'"), timeout=30)
    assert card(web_session)["actions"] == expected
    assert card(web_session)["actions"] == expected
    assert card(web_session)["scores"]["safety"]["suppressed"] is True
    assert web_session.get(f"/report-cards/{BEAT}?period=2025-Q4").json()["actions"]["concerns_received"] == 0

    invitations = helpers.rows("SELECT * FROM invitations WHERE kind = 'post_contact'")
    assert [row["concern_id"] for row in invitations] == ["c-1"]
    [event] = helpers.outbox("beat.survey.invitation_created")
    assert event["data"]["kind"] == "post_contact" and event["data"]["concern_id"] == "c-1"
    assert event["data"]["recipient_ref"] is None and event["data"]["language"] == "es"
    assert event["data"]["beat_code"] == BEAT

    # The reporter answers; the follow-up is reported by category, anonymously and suppressed (n=1).
    with entrypoint_hook(surveys, "invitation_link") as invitation_link:
        token = invitation_link(event["data"]["invitation_id"])["url"].split("#")[1]
    form = web_session.post("/invitations/survey", json={"token": token}).json()
    assert form["language"] == "es" and form["code"] == "post-contact"
    answers = {"pc_satisfied": 4, "pc_fixed": "yes", "pc_respect": 5, "pc_listened": 4, "pc_explained": 3}
    assert web_session.post("/responses", json={"token": token, "answers": answers}).status_code == 201
    [response] = helpers.rows("SELECT * FROM responses WHERE survey_code = 'post-contact'")
    assert response["category_code"] == "noise" and response["beat_code"] == BEAT and response["period"] == "2026-Q1"
    assert response["satisfaction"] == 87.5  # (75 + 100) / 2
    [spent] = helpers.rows("SELECT concern_id, beat_code, used FROM invitations WHERE kind = 'post_contact'")
    assert spent == {"concern_id": None, "beat_code": None, "used": True}
    by_category = web_session.get("/results?survey=post-contact&by=category").json()["contents"]
    noise = [c for c in by_category if c["group"] == "noise"]
    assert noise and all(c["suppressed"] and c["n"] is None for c in noise)


def problem(problem_id, stage, occurred_at, beat=BEAT):
    return {
        "problem_id": problem_id,
        "beat_code": beat,
        "categories": ["noise"],
        "stage": stage,
        "occurred_at": occurred_at,
    }


def opened(problem_id, occurred_at, beat=BEAT):
    facts = {"origin": "manual", "concern_ids": [], "opened_by": "officer-rv03"}
    return {**problem(problem_id, "scanning", occurred_at, beat), **facts}


def assessed(problem_id, occurred_at, outcome):
    figures = {
        "window_weeks": 4.0,
        "area_before_per_week": 3.0,
        "area_after_per_week": 1.0,
        "control_before_per_week": 2.0,
        "control_after_per_week": 2.0,
        "p_value": 0.03,
    }
    return {**problem(problem_id, "closed", occurred_at), "outcome": outcome, **figures}


def publish_twice(helpers, event_type, subject, data):
    """One CloudEvent delivered twice, as a broker may redeliver it: the inbox handles it once."""
    event = new_event(event_type, subject, data)
    with Connection(helpers.amqp_uri, transport_options={"confirm_publish": True}) as connection:
        for _ in range(2):
            Producer(connection).publish(
                json.dumps(event.to_dict()),
                exchange=event_exchange("concerns"),
                routing_key=event_type,
                content_type="application/cloudevents+json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=event.id,
            )


def test_the_report_card_counts_problems_worked_and_solved_from_concerns_events(surveys, web_session, helpers):
    # p-1: opened last quarter and still being worked on in this one.
    helpers.publish("beat.problem.opened", "p-1", opened("p-1", "2025-12-10T09:00:00Z"))
    stage = {**problem("p-1", "analysis", "2026-01-05T09:00:00Z"), "previous_stage": "scanning", "changed_by": "o-1"}
    helpers.publish("beat.problem.stage_changed", "p-1", stage)
    # p-2: opened and solved this quarter; its assessment delivered twice counts once.
    helpers.publish("beat.problem.opened", "p-2", opened("p-2", "2026-01-10T09:00:00Z"))
    publish_twice(helpers, "beat.problem.assessed", "p-2", assessed("p-2", "2026-03-01T09:00:00Z", "solved"))
    # p-3: its assessment arrives before its opening; worked, but not solved.
    helpers.publish("beat.problem.assessed", "p-3", assessed("p-3", "2026-03-10T09:00:00Z", "not_solved"))
    helpers.publish("beat.problem.opened", "p-3", opened("p-3", "2026-02-01T09:00:00Z"))
    # p-4: reduced last quarter, so not worked in this one.
    helpers.publish("beat.problem.opened", "p-4", opened("p-4", "2025-10-01T09:00:00Z"))
    helpers.publish("beat.problem.assessed", "p-4", assessed("p-4", "2025-12-01T09:00:00Z", "reduced"))
    # p-5 opens next quarter; p-6 is another beat's.
    helpers.publish("beat.problem.opened", "p-5", opened("p-5", "2026-04-05T09:00:00Z"))
    helpers.publish("beat.problem.opened", "p-6", opened("p-6", "2026-01-10T09:00:00Z", beat="RV-01"))

    def problems(period, beat=BEAT):
        actions = web_session.get(f"/report-cards/{beat}?period={period}").json()["actions"]
        return actions["problems_worked"], actions["problems_solved"]

    wait_for(lambda: helpers.scalar("SELECT count(*) FROM problem_activity WHERE outcome IS NOT NULL") == 3, timeout=30)
    wait_for(lambda: problems("2026-Q1") == (3, 1), timeout=30, message="every problem event reaches the report card")
    assert problems("2025-Q4") == (2, 1)  # p-1 opened, p-4 reduced
    assert problems("2026-02") == (3, 0)  # the month p-3 opened: p-1, p-2 and p-3 open in it
    assert problems("2026-Q2") == (2, 0)  # p-1 still open, p-5 opened
    assert problems("2026-Q1", beat="RV-01") == (1, 0)
    [p3] = helpers.rows("SELECT opened_at, outcome FROM problem_activity WHERE problem_id = 'p-3'")
    assert p3["outcome"] == "not_solved" and str(p3["opened_at"]).startswith("2026-02-01")
    assert helpers.scalar("SELECT count(*) FROM processed_events WHERE event_type = 'beat.problem.assessed'") == 3
