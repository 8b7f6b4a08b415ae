"""Agency webhooks per Standard Webhooks, verified with the `standardwebhooks` package."""

import base64
import itertools
import os
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from beat_shared.contracts import new_event
from notifications.models import DeliveryAttempt, Message, Notification

AGENCY = "agency-riverton-food-bank"


PORTAL = "http://localhost:8000"  # NOTIFICATIONS_PORTAL_URL's default: Beat's pages


def secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def referral_sent(referral_id="r-1"):
    return new_event(
        "beat.referral.sent",
        referral_id,
        {
            "referral_id": referral_id,
            "agency_id": AGENCY,
            "service_id": "svc-pantry",
            "need_category": "food",
            "urgency": "soon",
            "status": "sent",
            "beat_code": None,
            "concern_id": None,
            "occurred_at": "2026-01-05T09:00:00Z",
            "respond_by": "2026-01-07T17:00:00Z",
            "details_url": "http://localhost:8002/referrals/r-1",
        },
    )


def register(stand_ins, receiver, secrets, endpoint_id="ep-1", email=None):
    stand_ins.referrals.endpoints[AGENCY] = [
        {"endpoint_id": endpoint_id, "url": receiver.url(), "secrets": secrets, "active": True}
    ]
    if email:
        stand_ins.referrals.agencies[AGENCY] = {
            "agency_id": AGENCY,
            "name": "Riverton Food Bank",
            "email": email,
            "phone": None,
            "language": "en",
        }


def deliver_event(service, rabbit_config, url, kit, event, count=1):
    kit.publish(rabbit_config["AMQP_URI"], event)
    kit.wait_for(lambda: len(kit.rows(url, Notification)) >= count, message="notification recorded")
    kit.dispatch(service)


def webhook_messages(kit, url):
    return kit.rows(url, Message, Message.channel == "webhook")


def test_referral_sent_reaches_the_agency_by_signed_webhook_and_email(
    service, stand_ins, http_receiver, smtp_sink, rabbit_config, notifications_db, kit
):
    new, old = secret(), secret()
    register(stand_ins, http_receiver, [new, old], email="intake@foodbank.example")
    event = referral_sent()
    deliver_event(service, rabbit_config, notifications_db, kit, event)

    [request] = http_receiver.requests
    payload = Webhook(new).verify(request.body, request.headers)  # the newest secret verifies…
    Webhook(old).verify(request.body, request.headers)  # …and so does the one being rotated out
    with pytest.raises(WebhookVerificationError):
        Webhook(secret()).verify(request.body, request.headers)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert payload == {"id": event.id, "type": "beat.referral.sent", "timestamp": event.time, "data": event.data}
    assert request.headers["webhook-id"].startswith("msg_")

    [email] = smtp_sink.mailbox()
    assert email["To"] == "intake@foodbank.example"
    assert "food" in email["Subject"]
    # The agency acts in its inbox on Beat's site; the API address stays for its own systems.
    text = email.get_body(("plain",)).get_content()
    assert f"{PORTAL}/agency/referrals/{event.data['referral_id']}" in text and event.data["details_url"] in text
    statuses = {m.channel: m.status for m in kit.rows(notifications_db, Message)}
    assert statuses == {"webhook": "delivered", "email": "delivered"}


def test_failing_endpoint_is_retried_with_backoff_over_about_a_day(
    service, stand_ins, http_receiver, rabbit_config, notifications_db, clock, kit
):
    key = secret()
    register(stand_ins, http_receiver, [key])
    http_receiver.default = (500, {})
    started = clock.now()
    deliver_event(service, rabbit_config, notifications_db, kit, referral_sent())
    for _ in range(12):
        [message] = webhook_messages(kit, notifications_db)
        if message.status == "permanent_failure":
            break
        clock._now = message.next_attempt_at
        kit.dispatch(service)
    assert message.status == "permanent_failure" and message.attempts == 9
    requests = http_receiver.requests
    assert len(requests) == 9
    assert {r.headers["webhook-id"] for r in requests} == {requests[0].headers["webhook-id"]}
    stamps = [int(r.headers["webhook-timestamp"]) for r in requests]
    for request, stamp in zip(requests, stamps, strict=True):  # each attempt signed afresh
        expected = Webhook(key).sign(
            request.headers["webhook-id"], datetime.fromtimestamp(stamp, UTC), request.body.decode()
        )
        assert request.headers["webhook-signature"] == expected
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    for number, gap in enumerate(gaps, start=1):
        base = min(60 * 3 ** (number - 1), 28800)
        assert base <= gap <= base * 1.25 + 1, (number, gap)
    assert len(set(gaps)) == len(gaps)  # jitter: no two waits alike
    assert 20 * 3600 <= stamps[-1] - started.timestamp() <= 28 * 3600


def test_429_honours_retry_after_and_throttles_the_endpoint(
    service, stand_ins, http_receiver, rabbit_config, notifications_db, clock, kit
):
    register(stand_ins, http_receiver, [secret()])
    http_receiver.answer((429, {"Retry-After": "3600"}))
    deliver_event(service, rabbit_config, notifications_db, kit, referral_sent())
    [message] = webhook_messages(kit, notifications_db)
    assert message.status == "temporary_failure"
    assert (message.next_attempt_at - clock.now()).total_seconds() >= 3600  # not the 60 s backoff

    clock.advance(seconds=120)  # past the ordinary backoff: still throttled
    deliver_event(service, rabbit_config, notifications_db, kit, referral_sent("r-2"), count=2)
    assert len(http_receiver.requests) == 1  # neither the retry nor the new referral was sent

    clock.advance(seconds=3600)
    kit.dispatch(service)
    assert len(http_receiver.requests) == 3
    assert {m.status for m in webhook_messages(kit, notifications_db)} == {"delivered"}


@pytest.mark.parametrize("status", [502, 504])
def test_502_and_504_throttle_too(status, service, stand_ins, http_receiver, rabbit_config, notifications_db, kit):
    register(stand_ins, http_receiver, [secret()])
    http_receiver.answer((status, {"Retry-After": "600"}))
    deliver_event(service, rabbit_config, notifications_db, kit, referral_sent())
    [message] = webhook_messages(kit, notifications_db)
    assert message.status == "temporary_failure" and str(status) in message.last_error
    assert (message.next_attempt_at - message.updated_at).total_seconds() >= 600


def test_410_disables_the_endpoint_and_tells_referrals(
    service, stand_ins, http_receiver, rabbit_config, notifications_db, kit
):
    register(stand_ins, http_receiver, [secret()])
    http_receiver.answer(410)
    deliver_event(service, rabbit_config, notifications_db, kit, referral_sent())
    [message] = webhook_messages(kit, notifications_db)
    assert (message.status, message.attempts) == ("permanent_failure", 1)
    assert stand_ins.referrals.disabled and stand_ins.referrals.disabled[0][0] == "ep-1"
    # The stand-in now lists the endpoint inactive; nothing more is sent to it.
    deliver_event(service, rabbit_config, notifications_db, kit, referral_sent("r-2"), count=2)
    assert len(http_receiver.requests) == 1


def test_redirect_is_a_failure_not_followed(service, stand_ins, http_receiver, rabbit_config, notifications_db, kit):
    register(stand_ins, http_receiver, [secret()])
    http_receiver.answer((301, {"Location": "http://example.org/elsewhere"}))
    deliver_event(service, rabbit_config, notifications_db, kit, referral_sent())
    [message] = webhook_messages(kit, notifications_db)
    assert message.status == "temporary_failure" and "redirect" in message.last_error
    assert len(http_receiver.requests) == 1


def test_private_address_is_refused_unless_allowed(
    start_service, stand_ins, http_receiver, rabbit_config, notifications_db, kit
):
    service = start_service(NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE="false")
    register(stand_ins, http_receiver, [secret()])
    deliver_event(service, rabbit_config, notifications_db, kit, referral_sent())
    [message] = webhook_messages(kit, notifications_db)
    assert message.status == "permanent_failure"
    assert "private, loopback or internal" in message.last_error
    assert http_receiver.requests == []
    [attempt] = kit.rows(notifications_db, DeliveryAttempt)
    assert attempt.outcome == "permanent_failure"


def test_consent_withdrawn_reaches_each_agency_once(
    service, stand_ins, http_receiver, rabbit_config, notifications_db, kit
):
    register(stand_ins, http_receiver, [secret()])
    data = {"consent_id": "k-9", "referral_ids": ["r-1"], "agency_ids": [AGENCY], "occurred_at": "2026-01-05T09:00:00Z"}
    # referrals publishes one event per agency; a second copy (new id) must not notify again
    deliver_event(service, rabbit_config, notifications_db, kit, new_event("beat.consent.withdrawn", "k-9", data))
    kit.publish(rabbit_config["AMQP_URI"], new_event("beat.consent.withdrawn", "k-9", data))
    kit.publish(rabbit_config["AMQP_URI"], referral_sent("r-marker"))
    kit.wait_for(lambda: len(kit.rows(notifications_db, Notification)) == 2, message="marker handled")
    kit.dispatch(service)
    consent = [r for r in http_receiver.requests if r.json()["type"] == "beat.consent.withdrawn"]
    assert len(consent) == 1


def test_webhook_url_check_in_production_mode(start_service, web_session, kit):
    start_service(NOTIFICATIONS_WEBHOOK_REQUIRE_HTTPS="true", NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE="false")
    admin = kit.token("admin", "admin-1")
    plain = web_session.post("/webhooks/validate-url", json={"url": "http://93.184.215.14/hook"}, headers=admin)
    assert plain.status_code == 400
    assert plain.json()["error"]["details"]["url"] == ["webhook URLs must use https"]
    private = web_session.post("/webhooks/validate-url", json={"url": "https://10.1.2.3/hook"}, headers=admin)
    assert private.status_code == 400 and "private" in private.json()["error"]["details"]["url"][0]
    good = web_session.post("/webhooks/validate-url", json={"url": "https://93.184.215.14/hook"}, headers=admin)
    assert good.status_code == 200 and good.json()["allowed"] is True
