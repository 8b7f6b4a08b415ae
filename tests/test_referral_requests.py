"""An officer's referral request between the real concerns and referrals services, on SQLite and
PostgreSQL: what referrals will need is checked at concerns' edge, consent without an end date
becomes a referral, and a request that cannot become one is shown failed, with why, on the concern.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from kombu import Connection, Producer, Queue

from beat_shared.amqp import event_exchange
from beat_shared.auth import mint_token
from beat_shared.clock import FrozenClock, utc_iso
from beat_shared.config import env
from beat_shared.contracts import new_event
from beat_shared.db import make_engine
from beat_shared.testing import wait_for
from concerns import demo as concerns_demo
from concerns.service import ConcernsService
from referrals import demo as referrals_demo
from referrals.service import ReferralsService

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
# Referrals reads the request two days after it was made (a backlog, an outage): by then a consent
# valid for one day has ended.
REFERRALS_LATE_BY = timedelta(days=2)
OFFICER = {"Authorization": f"Bearer {mint_token('officer', 'officer-rv01', env('BEAT_JWT_SECRET'))}"}


class Pair:
    def __init__(self, urls: dict[str, str], databases: dict[str, str]) -> None:
        self.urls = urls
        self.databases = databases

    def post_request(self, **overrides: Any) -> requests.Response:
        consent = {
            "given_by": "Sam Client",
            "given_at": utc_iso(START - timedelta(minutes=10)),
            "method": "verbal",
            "scope": "share contact details with a food provider",
            **overrides.pop("consent", {}),
        }
        body = {
            "beat_code": "RV-01",
            "need_category": "food",
            "client": {"name": "Sam Client", "phone": "+1 555 0100 777"},
            "consent": {key: value for key, value in consent.items() if value is not None},
            **overrides,
        }
        return requests.post(self.urls["concerns"] + "/referral-requests", json=body, headers=OFFICER, timeout=10)

    def count(self, service: str, table: str) -> int:
        from sqlalchemy import text

        engine = make_engine(self.databases[service], pool_size=1)
        try:
            with engine.connect() as connection:
                return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        finally:
            engine.dispose()


@pytest.fixture
def pair(running_services) -> Pair:
    started = running_services(
        {
            "concerns": (ConcernsService, concerns_demo.seed, FrozenClock(START)),
            "referrals": (ReferralsService, referrals_demo.seed_directory, FrozenClock(START + REFERRALS_LATE_BY)),
        }
    )
    return Pair(
        {name: service.url for name, service in started.items()},
        {name: service.database_url for name, service in started.items()},
    )


@pytest.mark.parametrize(
    ("consent", "field", "problem"),
    [
        ({"given_at": utc_iso(START + timedelta(hours=1))}, "given_at", "is in the future"),
        ({"valid_until": utc_iso(START - timedelta(hours=1))}, "valid_until", "must be after given_at"),
        ({"given_at": "2026-03-01T10:00:00Z", "valid_until": "2026-03-01T12:00:00Z"}, "valid_until", "in the future"),
    ],
)
def test_consent_referrals_could_not_use_is_refused_at_the_edge(pair, consent, field, problem):
    refused = pair.post_request(consent=consent)
    assert refused.status_code == 400, refused.text
    details = refused.json()["error"]["details"]
    assert any(problem in message for message in details["consent"][field]), details
    assert pair.count("concerns", "referral_requests") == 0


def test_an_unknown_beat_is_a_field_error_not_a_missing_page(pair):
    refused = pair.post_request(beat_code="ZZ-99")
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["details"] == {"beat_code": ["unknown beat"]}
    assert pair.count("concerns", "referral_requests") == 0


def referral_for(pair: Pair, request_id: str) -> dict[str, Any] | None:
    listed = requests.get(pair.urls["referrals"] + "/referrals?size=100", headers=OFFICER, timeout=10).json()
    for summary in listed["contents"]:
        found = requests.get(f"{pair.urls['referrals']}/referrals/{summary['id']}", headers=OFFICER, timeout=10)
        if found.json()["request_id"] == request_id:
            return found.json()
    return None


def test_consent_without_an_end_date_becomes_a_referral(pair):
    made = pair.post_request(consent={"valid_until": None})
    assert made.status_code == 201, made.text
    request_id = made.json()["request_id"]
    referral = wait_for(lambda: referral_for(pair, request_id), timeout=20, message="the drafted referral")
    assert referral["status"] == "draft" and referral["client"]["name"] == "Sam Client"
    assert referral["consent"]["valid_until"] is None and referral["consent"]["valid_now"] is True
    assert pair.count("referrals", "failed_requests") == 0


def test_a_request_that_cannot_become_a_referral_shows_failed_on_the_concern(pair):
    submitted = requests.post(
        pair.urls["concerns"] + "/concerns",
        json={
            "category": "noise",
            "description": "Loud music from the old mill car park every night after midnight.",
            "location": {"lat": 43.045, "long": -108.405},
        },
        timeout=10,
    )
    assert submitted.status_code == 201, submitted.text
    concern_id = submitted.json()["concern"]["id"]
    # Valid for a day when the officer records it; ended when referrals reads it two days later.
    made = pair.post_request(concern_id=concern_id, consent={"valid_until": utc_iso(START + timedelta(days=1))})
    assert made.status_code == 201, made.text
    request_id = made.json()["request_id"]

    def failed() -> dict[str, Any] | None:
        concern = requests.get(f"{pair.urls['concerns']}/concerns/{concern_id}", headers=OFFICER, timeout=10).json()
        shown = [r for r in concern["referral_requests"] if r["request_id"] == request_id]
        return shown[0] if shown and shown[0]["state"] == "failed" else None

    shown = wait_for(failed, timeout=20, message="the failed request on the concern")
    assert shown["failure_reason"] == "consent_invalid" and shown["failed_at"] == utc_iso(START)
    assert shown["need_category"] == "food" and "Sam" not in str(shown)
    assert referral_for(pair, request_id) is None
    assert pair.count("referrals", "failed_requests") == 1
    public = requests.get(f"{pair.urls['concerns']}/concerns/{concern_id}", timeout=10)
    assert "referral_requests" not in public.text


def test_a_request_concerns_no_longer_has_is_recorded_failed_once_not_retried(pair, rabbit_config):
    # A request id concerns does not know (as after its details were erased): concerns answers None.
    request_id = "request-gone-0001"
    event = new_event(
        "beat.referral.requested",
        request_id,
        {
            "request_id": request_id,
            "concern_id": None,
            "need_category": "food",
            "urgency": "routine",
            "beat_code": "RV-01",
            "requested_by": "officer-rv01",
            "consent_recorded": True,
            "occurred_at": utc_iso(START),
        },
    )
    spy = Queue("request-failed-spy", exchange=event_exchange("referrals"), routing_key="beat.referral.#")
    with Connection(rabbit_config["AMQP_URI"]) as connection:
        spy(connection.default_channel).declare()
        for redelivered in (event, new_event(event.type, request_id, event.data)):
            Producer(connection).publish(
                redelivered.to_json(),
                exchange=event_exchange("concerns"),
                routing_key=event.type,
                content_type="application/cloudevents+json",
                declare=[event_exchange("concerns")],
            )
        wait_for(lambda: pair.count("referrals", "failed_requests") == 1, message="the recorded failure")
        bound = spy(connection.default_channel)
        first = wait_for(lambda: bound.get(no_ack=True), message="beat.referral.request_failed")
        told = json.loads(first.body)
        assert told["type"] == "beat.referral.request_failed"
        assert told["data"]["reason"] == "request_not_found" and told["data"]["request_id"] == request_id
        assert "x-agency-id" not in (first.headers or {})  # never routed to an agency's feed
        wait_for(lambda: pair.count("referrals", "processed_events") >= 2, message="the second request handled")
        assert bound.get(no_ack=True) is None  # the same request again: told once, not retried
    assert pair.count("referrals", "referrals") == 0 and pair.count("referrals", "failed_requests") == 1
