"""Referrals requested by concerns (event + RPC), agency webhooks and the RPCs notifications uses."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

from kombu import Connection, Producer
from nameko.standalone.rpc import ServiceRpcProxy
from referrals_testkit import (
    ADMIN,
    FOOD_BANK,
    FOOD_BANK_USER,
    OFFICER,
    SAFE_HAVEN,
    SAFE_HAVEN_USER,
    START,
    ConcernsStandIn,
)

from beat_shared.amqp import event_exchange
from beat_shared.clock import utc_iso
from beat_shared.contracts import new_event
from beat_shared.testing import wait_for


def publish_request(amqp_uri: str, request_id: str, need: str = "food", beat: str = "RV-05"):
    event = new_event(
        "beat.referral.requested",
        request_id,
        {
            "request_id": request_id,
            "concern_id": "concern-42",
            "need_category": need,
            "urgency": "urgent",
            "beat_code": beat,
            "requested_by": "officer-rv05",
            "consent_recorded": True,
            "occurred_at": utc_iso(START),
        },
    )
    with Connection(amqp_uri) as connection:
        Producer(connection).publish(
            event.to_json(),
            exchange=event_exchange("concerns"),
            routing_key=event.type,
            content_type="application/cloudevents+json",
            declare=[event_exchange("concerns")],
        )
    return event


def test_requested_event_creates_a_draft_with_the_clients_details(
    referrals, container_factory, referrals_config, rabbit_config, web_session, db_session, spy
):
    request_id = f"req-{uuid.uuid4().hex[:8]}"
    ConcernsStandIn.clients = {
        request_id: {
            "request_id": request_id,
            "concern_id": "concern-42",
            "name": "Ana Ruiz",
            "phone": "+1 555 0100 321",
            "email": None,
            "language": "es",
            "notes": "Prefers calls after 5 pm",
            "consent": {
                "given_by": "Ana Ruiz",
                "given_at": utc_iso(START - timedelta(hours=1)),
                "method": "verbal",
                "scope": "referral for food support",
                "valid_until": utc_iso(START + timedelta(days=30)),
            },
        }
    }
    concerns = container_factory(ConcernsStandIn, referrals_config)
    concerns.start()
    event = publish_request(rabbit_config["AMQP_URI"], request_id)
    publish_request(rabbit_config["AMQP_URI"], request_id)  # a second request with the same id changes nothing
    rows = wait_for(lambda: db_session("SELECT * FROM referrals"), message="the drafted referral")
    [row] = rows
    # The best match for food in RV-05 that speaks Spanish: the mobile pantry covers Southside.
    assert (row.status, row.need_category, row.urgency, row.beat_code) == ("draft", "food", "urgent", "RV-05")
    assert row.agency_id == FOOD_BANK and row.client_name == "Ana Ruiz" and row.request_id == request_id
    created = spy.wait("beat.referral.created")[0]
    assert created["data"]["concern_id"] == "concern-42" and "Ana" not in str(created)
    # Consent came with the request, so the officer can send it straight away.
    sent = web_session.post(f"/referrals/{row.id}/send", headers=OFFICER)
    assert sent.status_code == 200, sent.text
    assert web_session.get(f"/referrals/{row.id}", headers=FOOD_BANK_USER).json()["client"]["language"] == "es"
    processed = db_session("SELECT count(*) AS n FROM processed_events WHERE event_id = :id", id=event.id)
    assert processed[0].n == 1


def test_request_without_a_matching_service_waits_for_the_officer(
    referrals, container_factory, referrals_config, rabbit_config, web_session, db_session, spy
):
    request_id = f"req-{uuid.uuid4().hex[:8]}"
    # Client details without consent: the officer records consent once a service is chosen.
    ConcernsStandIn.clients = {request_id: {"request_id": request_id, "name": "Jo", "phone": "+1 555 0100 999"}}
    container_factory(ConcernsStandIn, referrals_config).start()
    publish_request(rabbit_config["AMQP_URI"], request_id, need="youth_programmes", beat="RV-02")
    [row] = wait_for(lambda: db_session("SELECT * FROM referrals"), message="the draft")
    assert row.agency_id is None and row.client_name == "Jo" and row.consent_id is None
    response = web_session.post(f"/referrals/{row.id}/send", headers=OFFICER)
    assert response.status_code == 409 and "choose a service" in response.json()["error"]["message"]
    mentoring = web_session.get("/services?search=Youth mentoring").json()["contents"][0]["id"]
    chosen = web_session.patch(
        f"/referrals/{row.id}", json={"service_id": mentoring, "client": {"name": "J. Doe"}}, headers=OFFICER
    )
    assert chosen.status_code == 200 and chosen.json()["agency_id"] == "agency-eastgate-youth-alliance"
    created = spy.wait("beat.referral.created")[0]
    assert created["data"]["agency_id"] == "agency-eastgate-youth-alliance"
    assert "x-agency-id" not in spy.headers_of(created["id"])  # a draft: not routed to the agency's feed


def test_agency_registers_and_rotates_webhook_secrets(referrals, referrals_config, web_session, clock):
    registered = web_session.post(
        f"/agencies/{FOOD_BANK}/webhooks",
        json={"url": "https://hooks.rivertonfoodbank.org/beat", "description": "case system"},
        headers=FOOD_BANK_USER,
    )
    assert registered.status_code == 201, registered.text
    endpoint = registered.json()
    secret = endpoint["secret"]
    assert secret.startswith("whsec_") and 24 <= len(base64.b64decode(secret[6:])) <= 64
    # Another agency cannot touch it; plain HTTP and private addresses are refused.
    assert web_session.get(f"/agencies/{FOOD_BANK}/webhooks", headers=SAFE_HAVEN_USER).status_code == 403
    for url in ("http://hooks.example.org/x", "https://10.0.0.5/hook", "https://127.0.0.1/hook", "not a url"):
        refused = web_session.post(f"/agencies/{SAFE_HAVEN}/webhooks", json={"url": url}, headers=SAFE_HAVEN_USER)
        assert refused.status_code == 400 and "url" in refused.json()["error"]["details"], url
    unknown = web_session.post("/agencies/agency-nobody/webhooks", json={"url": "https://x.org/h"}, headers=ADMIN)
    assert unknown.status_code == 404

    rotated = web_session.post(
        f"/agencies/{FOOD_BANK}/webhooks/{endpoint['endpoint_id']}/rotate", headers=FOOD_BANK_USER
    ).json()
    assert rotated["secret"] != secret and rotated["live_secrets"] == 2
    with ServiceRpcProxy("referrals", referrals_config) as rpc:
        [listed] = rpc.webhook_endpoints(FOOD_BANK)
        assert listed["secrets"] == [rotated["secret"], secret] and listed["active"] is True
        assert listed["url"] == "https://hooks.rivertonfoodbank.org/beat"
        clock.advance(hours=25)  # past the overlap: only the new secret signs
        assert rpc.webhook_endpoints(FOOD_BANK)[0]["secrets"] == [rotated["secret"]]
        assert rpc.webhook_endpoints(SAFE_HAVEN) == []
        assert rpc.disable_webhook(listed["endpoint_id"], "HTTP 410 Gone") is None
        assert rpc.webhook_endpoints(FOOD_BANK)[0]["active"] is False
        contact = rpc.agency_contact(FOOD_BANK)
        assert contact == {
            "agency_id": FOOD_BANK,
            "name": "Riverton Food Bank",
            "email": "help@rivertonfoodbank.org",
            "phone": "+1 555 0100 200",
            "language": "en",
        }
        assert rpc.agency_contact("agency-centro-familiar-latino")["language"] == "es"
        assert rpc.agency_contact("agency-nobody") is None
    listing = web_session.get(f"/agencies/{FOOD_BANK}/webhooks", headers=ADMIN).json()["contents"]
    assert listing[0]["active"] is False and "secret" not in listing[0]
    removed = web_session.delete(f"/agencies/{FOOD_BANK}/webhooks/{endpoint['endpoint_id']}", headers=FOOD_BANK_USER)
    assert removed.status_code == 200


def test_an_agency_reads_its_own_integration_settings(referrals, referrals_config, web_session):
    hook = {"url": "https://hooks.rivertonfoodbank.org/beat", "description": "case system"}
    assert web_session.post(f"/agencies/{FOOD_BANK}/webhooks", json=hook, headers=FOOD_BANK_USER).status_code == 201
    mine = web_session.get("/agencies/me/integration", headers=FOOD_BANK_USER)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["agency_id"] == FOOD_BANK
    [endpoint] = body["webhooks"]
    assert endpoint["url"] == hook["url"] and endpoint["live_secrets"] == 1 and "secret" not in endpoint
    vhost = referrals_config["AMQP_URI"].rsplit("/", 1)[1]  # the test's throw-away vhost
    assert body["amqp"] == {"vhost": vhost, "username": f"{vhost}.{FOOD_BANK}", "queue": f"agency.{FOOD_BANK}"}
    assert "password" not in str(body) and "whsec_" not in str(body)
    other = web_session.get("/agencies/me/integration", headers=SAFE_HAVEN_USER).json()
    assert other["agency_id"] == SAFE_HAVEN and other["webhooks"] == []  # only its own
    for someone in (OFFICER, ADMIN):
        assert web_session.get("/agencies/me/integration", headers=someone).status_code == 403
    assert web_session.get("/agencies/me/integration").status_code == 401
