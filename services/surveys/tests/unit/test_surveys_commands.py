"""Surveys' use cases on SQLite with their events recorded: what each writes and announces, in
milliseconds, beside the integration tests over the broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from beat_shared.db import make_engine, unit_of_work
from beat_shared.testing import RecordedEvents
from surveys import catalogue, commands
from surveys.domain.item_bank import STANDARD_SURVEY_CODE
from surveys.domain.tokens import token_for
from surveys.models import Base, Invitation, MeetingActivity
from surveys.settings import SurveySettings

NOW = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
# The standard survey answered in full (as in the integration tests).
ANSWERS = {
    "safety_after_dark": "fairly_safe",
    "safety_by_day": "very_safe",
    "police_good_job": "good",
    "police_reliable": 4,
    "police_respect": 5,
    "police_unfair": 2,
    "police_listen": 3,
    "police_understand": 4,
    "problem_drugs": 2,
    "problem_vandalism": 3,
    "problem_groups": 1,
    "problem_noise": 2,
    "efficacy_help": 4,
    "efficacy_close_knit": 3,
    "efficacy_trusted": 4,
    "efficacy_not_get_along": 2,
    "efficacy_intervene": 5,
    "safety_change": 6,
    "problems_seen": ["graffiti"],
    "years_in_area": 7,
}
SETTINGS = SurveySettings(min_cell=10, public_url="https://surveys.test", token_secret=b"s" * 32, post_contact_days=14)


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/surveys.db", pool_size=1)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _wave(session) -> Any:
    catalogue.ensure_bank_survey(session, STANDARD_SURVEY_CODE, NOW)
    body = {
        "survey_code": STANDARD_SURVEY_CODE,
        "name": "Spring",
        "period": "2026-Q1",
        "beat_codes": ["RV-01", "RV-02"],
        "opens_at": NOW - timedelta(days=1),
        "closes_at": NOW + timedelta(days=20),
    }
    return catalogue.create_wave(session, body, NOW)


def test_a_wave_invites_each_new_subscriber_once_and_announces_each_invitation(engine):
    recorded = RecordedEvents()
    recipients = {"RV-01": ["sub-1", "sub-2"], "RV-02": ["sub-3"], "RV-09": ["not-in-the-wave"]}
    with unit_of_work(engine) as session:
        wave = _wave(session)
        created = commands.issue_wave_invitations(session, SETTINGS, NOW, recorded, wave, recipients)
        again = commands.issue_wave_invitations(session, SETTINGS, NOW, recorded, wave, recipients)
    assert len(created) == 3 and again == []
    assert recorded.types() == ["beat.survey.invitation_created"] * 3
    refs = sorted(data["recipient_ref"] for _, _, data in recorded.events)
    assert refs == ["sub-1", "sub-2", "sub-3"]
    for _, subject, data in recorded.events:
        assert data["invitation_id"] == subject and data["kind"] == "wave" and data["occurred_at"].startswith("2026")
        assert "token" not in data and "token_hash" not in data  # the link is asked for by RPC, never sent


def test_an_ended_concern_with_contact_invites_its_reporter_once(engine):
    recorded = RecordedEvents()
    ended = {
        "concern_id": "c-1",
        "beat_code": "RV-01",
        "category_code": "noise",
        "submitted_at": "2026-02-01T10:00:00+00:00",
        "occurred_at": "2026-02-09T10:00:00+00:00",
        "has_contact": True,
        "language": "es",
    }
    with unit_of_work(engine) as session:
        first = commands.concern_ended(session, SETTINGS, NOW, recorded, ended, "resolved_at")
        second = commands.concern_ended(session, SETTINGS, NOW, recorded, ended, "closed_at")
        silent = commands.concern_ended(
            session, SETTINGS, NOW, recorded, {**ended, "concern_id": "c-2", "has_contact": False}, "closed_at"
        )
    assert first is not None and second is None and silent is None
    assert recorded.types() == ["beat.survey.invitation_created"]
    assert recorded.events[0][2]["language"] == "es" and recorded.events[0][2]["kind"] == "post_contact"
    assert recorded.events[0][2]["expires_at"] == "2026-02-24T09:00:00Z"


def test_a_response_is_announced_once_per_period_by_the_timer(engine):
    recorded = RecordedEvents()
    with unit_of_work(engine) as session:
        wave = _wave(session)
        [invitation] = commands.issue_wave_invitations(session, SETTINGS, NOW, recorded, wave, {"RV-02": ["sub-1"]})
        token = token_for(SETTINGS.token_secret, invitation.id)
        submitted = commands.submit_with_token(session, token, ANSWERS, "en", NOW)
        assert (submitted.period, submitted.beat_code) == ("2026-Q1", "RV-02")
        assert commands.publish_results_updates(session, NOW, recorded) == 1
        assert commands.publish_results_updates(session, NOW, recorded) == 0
        assert session.scalar(select(func.count()).select_from(Invitation).where(Invitation.used)) == 1
    assert recorded.types() == ["beat.survey.invitation_created", "beat.survey.results_updated"]
    assert recorded.events[1][2]["beat_codes"] == ["RV-02"] and recorded.events[1][2]["period"] == "2026-Q1"


def test_a_meeting_counts_once_and_only_when_held(engine):
    held = {"meeting_id": "m-1", "beat_code": "RV-01", "kind": "beat_meeting"}
    with unit_of_work(engine) as session:
        commands.record_meeting(
            session, {**held, "starts_at": "2026-02-01T18:00:00Z", "occurred_at": "2026-02-01T20:00:00Z"}
        )
        commands.record_meeting(
            session, {**held, "starts_at": "2026-02-01T18:00:00Z", "occurred_at": "2026-02-01T21:00:00Z"}
        )
        early = {
            **held,
            "meeting_id": "m-2",
            "starts_at": "2026-02-05T18:00:00Z",
            "occurred_at": "2026-02-04T18:00:00Z",
        }
        commands.record_meeting(session, early)
        assert session.scalars(select(MeetingActivity.meeting_id)).all() == ["m-1"]
