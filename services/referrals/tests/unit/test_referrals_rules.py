"""Plain-Python rules: lifecycle, consent, opening hours, distance, reporting, secrets, HSDS schemas."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from referrals.directory import distance_km, is_open
from referrals.domain.lifecycle import (
    STATUSES,
    TRANSITIONS,
    ConsentFacts,
    IllegalTransition,
    check_transition,
    consent_problem,
)
from referrals.hsds import schema_errors
from referrals.reporting import outcome_report
from referrals.webhooks import check_url, new_secret

NOW = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("draft", "sent"),
        ("sent", "accepted"),
        ("sent", "declined"),
        ("sent", "expired"),
        ("accepted", "in_progress"),
        ("accepted", "completed"),
        ("in_progress", "completed"),
        ("in_progress", "cancelled"),
    ],
)
def test_legal_transitions(current, target):
    check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("draft", "accepted"),
        ("sent", "completed"),
        ("declined", "accepted"),
        ("completed", "cancelled"),
        ("expired", "accepted"),
        ("in_progress", "accepted"),
        ("cancelled", "sent"),
    ],
)
def test_illegal_transitions_are_conflicts_that_say_what_is_allowed(current, target):
    with pytest.raises(IllegalTransition) as raised:
        check_transition(current, target)
    assert current in raised.value.message and target in raised.value.message


def test_closed_statuses_lead_nowhere():
    closed = set(STATUSES) - set(TRANSITIONS)
    assert closed == {"declined", "completed", "cancelled", "expired"}


def consent(**overrides):
    values = {
        "agency_id": "agency-a",
        "given_at": NOW - timedelta(days=1),
        "valid_until": NOW + timedelta(days=1),
        "withdrawn_at": None,
    }
    return ConsentFacts(**{**values, **overrides})


def test_consent_validity():
    assert consent_problem(consent(), "agency-a", NOW) is None
    assert consent_problem(consent(agency_id=None), "agency-b", NOW) is None  # any agency for the need
    assert consent_problem(None, "agency-a", NOW) == "no consent is recorded for this referral"
    assert consent_problem(consent(withdrawn_at=NOW), "agency-a", NOW) == "the client withdrew consent"
    assert consent_problem(consent(valid_until=NOW), "agency-a", NOW) == "consent has expired"
    # No end date: valid while the referral is open (closed referrals show no client details anyway).
    assert consent_problem(consent(valid_until=None), "agency-a", NOW + timedelta(days=3650)) is None
    assert consent_problem(consent(), "agency-b", NOW) == "consent covers a different agency"
    assert consent_problem(consent(given_at=NOW + timedelta(hours=1)), "agency-a", NOW) is not None


def schedule(byday, opens, closes, valid_from=None, valid_to=None):
    return SimpleNamespace(byday=byday, opens_at=opens, closes_at=closes, valid_from=valid_from, valid_to=valid_to)


def test_opening_hours():
    monday_nine = datetime(2026, 1, 5, 9, 0)
    assert is_open([schedule("MO,TU", "09:00", "17:00")], monday_nine)
    assert not is_open([schedule("MO,TU", "09:30", "17:00")], monday_nine)
    assert not is_open([schedule("TU,WE", "00:00", "24:00")], monday_nine)
    assert is_open([schedule(None, None, None)], monday_nine)
    assert not is_open([schedule("MO", "08:00", "18:00", valid_from="2026-02-01")], monday_nine)
    assert not is_open([], monday_nine)


def test_distance():
    assert distance_km(41.5868, -90.5210, 41.5868, -90.5210) == 0
    assert 1.85 < distance_km(41.5868, -90.5210, 41.5712, -90.5301) < 1.95


def referral(agency, need, status, sent_hours=0, accepted_after=None, outcome=None):
    sent_at = NOW + timedelta(hours=sent_hours)
    return SimpleNamespace(
        agency_id=agency,
        need_category=need,
        status=status,
        sent_at=sent_at,
        outcome=outcome,
        accepted_at=sent_at + timedelta(hours=accepted_after) if accepted_after is not None else None,
    )


def test_outcome_report():
    rows = [
        referral("agency-a", "food", "completed", accepted_after=2, outcome="got_help"),
        referral("agency-a", "food", "completed", accepted_after=4, outcome="could_not_contact"),
        referral("agency-a", "housing", "declined"),
        referral("agency-a", "housing", "expired"),
        referral("agency-b", "food", "in_progress", accepted_after=10),
        SimpleNamespace(agency_id="agency-b", need_category="food", status="draft", sent_at=None, accepted_at=None),
    ]
    by_agency = {row["agency"]: row for row in outcome_report(rows, "agency")}
    a = by_agency["agency-a"]
    assert (a["sent"], a["accepted"], a["declined"], a["expired"], a["completed"]) == (4, 2, 1, 1, 2)
    assert a["acceptance_rate"] == 0.5 and a["response_rate"] == 0.75 and a["median_hours_to_accept"] == 3.0
    assert a["completion_rate"] == 1.0 and a["outcomes"]["got_help"] == 1 and a["outcomes"]["no_capacity"] == 0
    assert by_agency["agency-b"]["sent"] == 1 and by_agency["agency-b"]["open"] == 1
    by_need = {row["need_category"]: row for row in outcome_report(rows, "need_category")}
    assert by_need["food"]["sent"] == 3 and by_need["housing"]["acceptance_rate"] == 0.0


def test_webhook_secrets_and_urls():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert new_secret() != secret
    check_url("https://hooks.example.org/beat", allow_http=False)
    check_url("http://127.0.0.1:9000/hook", allow_http=True)
    for url in ("http://hooks.example.org", "https://192.168.1.4/x", "ftp://x.org", "https://"):
        with pytest.raises(Exception, match="webhook"):
            check_url(url, allow_http=False)


def test_hsds_schemas_check_nested_objects_and_formats():
    service = {
        "id": "6c2d8e3a-0f5a-4c44-9d0c-6a3b9f6a1c11",
        "name": "X",
        "status": "active",
        "phones": [{"id": "6c2d8e3a-0f5a-4c44-9d0c-6a3b9f6a1c12", "number": "555"}],
    }
    assert schema_errors("service", service) == {}
    broken = {**service, "status": "open", "phones": [{"id": "x"}]}
    errors = schema_errors("service", broken)
    assert set(errors) == {"status", "phones[0].id", "phones[0]"}
