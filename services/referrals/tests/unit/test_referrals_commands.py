"""Referrals' use cases on SQLite with their events recorded: what a draft, consent, sending and an
agency's answer write and announce, in milliseconds, beside the integration tests over the broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from beat_shared.db import make_engine, unit_of_work
from beat_shared.errors import Conflict, NotFound
from beat_shared.testing import RecordedEvents
from referrals import commands, demo, queries
from referrals.domain.actors import Actor
from referrals.domain.lifecycle import ACCEPTED, SENT, AgencyAnswer
from referrals.models import AuditEntry, Base, Service
from referrals.settings import ReferralSettings

NOW = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
SETTINGS = ReferralSettings(
    response_time=timedelta(hours=72),
    reminder_after=timedelta(hours=24),
    retention=timedelta(days=365),
    public_url="https://referrals.test",
    timezone="America/Chicago",
    secret_overlap=timedelta(days=1),
    webhooks_allow_http=False,
)
OFFICER = Actor("officer-1", "officer")


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/referrals.db", pool_size=1)
    Base.metadata.create_all(engine)
    with unit_of_work(engine) as session:
        demo.seed_directory(session)
    yield engine
    engine.dispose()


def _pantry(session) -> Service:
    return session.scalars(select(Service).where(Service.name == "Emergency food pantry")).one()


def test_a_draft_is_sent_only_with_consent_and_its_agency_alone_hears_of_it(engine):
    recorded = RecordedEvents()
    with unit_of_work(engine) as session:
        pantry = _pantry(session)
        draft = {"need_category": "food", "service_id": pantry.id, "client": {"name": "Ana Diaz", "phone": "555-0101"}}
        referral = commands.create_referral(session, NOW, recorded, OFFICER, draft)
        with pytest.raises(Conflict):
            commands.send(session, SETTINGS, NOW, recorded, OFFICER, referral)  # no consent yet
        consent = {"given_by": "Ana Diaz", "given_at": NOW - timedelta(minutes=5), "method": "verbal", "scope": "food"}
        commands.record_consent(session, NOW, OFFICER, referral, consent)
        commands.send(session, SETTINGS, NOW, recorded, OFFICER, referral)
        agency = pantry.organization.agency_id
        assert referral.status == SENT and referral.respond_by == NOW + timedelta(hours=72)

    assert recorded.types() == ["beat.referral.created", "beat.referral.sent"]
    assert recorded.headers == [{}, {"x-agency-id": agency}]  # a draft is the officer's: no agency route
    assert recorded.events[1][2]["details_url"] == f"https://referrals.test/referrals/{referral.id}"
    # No personal data (the whole number: a random id may hold "555")
    assert "Ana" not in repr(recorded.events) and "555-0101" not in repr(recorded.events)


def test_the_agency_accepts_and_its_read_of_the_client_is_audited(engine):
    recorded = RecordedEvents()
    with unit_of_work(engine) as session:
        pantry = _pantry(session)
        consent = {"given_by": "Ana", "given_at": NOW, "method": "verbal", "scope": "food"}
        draft = {"need_category": "food", "service_id": pantry.id, "client": {"name": "Ana"}, "consent": consent}
        referral = commands.create_referral(session, NOW, recorded, OFFICER, draft)
        commands.send(session, SETTINGS, NOW, recorded, OFFICER, referral)
        agency = Actor("intake-1", "agency", pantry.organization.agency_id)
        later = NOW + timedelta(hours=1)
        commands.change_status(session, later, recorded, agency, referral, AgencyAnswer(ACCEPTED))
        view = queries.referral_view(session, later, agency, queries.get_referral(session, agency, referral.id))
        stranger = Actor("x", "agency", "agency-elsewhere")
        with pytest.raises(NotFound):  # another agency's referral does not exist for it
            queries.get_referral(session, stranger, referral.id)
        audited = session.scalars(select(AuditEntry.actor).where(AuditEntry.referral_id == referral.id)).all()

    assert recorded.types() == ["beat.referral.created", "beat.referral.sent", "beat.referral.accepted"]
    assert view["status"] == ACCEPTED and view["client"]["name"] == "Ana"
    assert audited == ["intake-1"]


def _sent(session, recorded: RecordedEvents, at: datetime):
    consent = {"given_by": "Ana", "given_at": at, "method": "verbal", "scope": "food"}
    draft = {"need_category": "food", "service_id": _pantry(session).id, "client": {"name": "Ana"}, "consent": consent}
    referral = commands.create_referral(session, at, recorded, OFFICER, draft)
    return commands.send(session, SETTINGS, at, recorded, OFFICER, referral)


def test_deadlines_remind_once_then_expire_and_retention_erases_the_client(engine):
    recorded = RecordedEvents()
    with unit_of_work(engine) as session:
        referral = _sent(session, recorded, NOW)
        recorded.clear()
        day_later = NOW + timedelta(hours=25)
        assert commands.process_deadlines(session, SETTINGS, day_later, recorded) == {"reminded": 1, "expired": 0}
        assert commands.process_deadlines(session, SETTINGS, day_later, recorded) == {"reminded": 0, "expired": 0}
        too_late = NOW + timedelta(hours=72)
        assert commands.process_deadlines(session, SETTINGS, too_late, recorded) == {"reminded": 0, "expired": 1}
        assert commands.erase_personal_data(session, SETTINGS, too_late + timedelta(days=364)) == 0
        assert commands.erase_personal_data(session, SETTINGS, too_late + timedelta(days=365)) == 1
        assert referral.client_name is None and referral.consent.given_by is None and referral.status == "expired"
        assert [change.changed_by for change in referral.history][-1] == "beat-referrals"  # the service expired it

    assert recorded.types() == ["beat.referral.reminder_due", "beat.referral.expired"]


def test_a_request_without_its_details_fails_once_and_a_redelivery_is_answered_from_the_record(engine):
    recorded = RecordedEvents()
    request = {"request_id": "req-1", "concern_id": "c-1", "need_category": "food", "urgency": "routine"}
    with unit_of_work(engine) as session:
        assert commands.create_from_request(session, SETTINGS, NOW, recorded, request, None) is None
        assert commands.create_from_request(session, SETTINGS, NOW, recorded, request, None) is None

    assert recorded.types() == ["beat.referral.request_failed"]
    assert recorded.events[0][2] == {
        "request_id": "req-1",
        "concern_id": "c-1",
        "reason": "request_not_found",
        "occurred_at": "2026-02-10T09:00:00Z",
    }
