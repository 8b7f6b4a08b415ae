"""A restart in the middle of sending: no second webhook, no second SMS."""

import base64
import os
import threading

from standardwebhooks.webhooks import Webhook

from beat_shared.contracts import new_event
from notifications.models import DeliveryAttempt, Message, Notification

AGENCY = "agency-riverton-food-bank"
SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


def referral_sent():
    return new_event(
        "beat.referral.sent",
        "r-1",
        {
            "referral_id": "r-1",
            "agency_id": AGENCY,
            "service_id": None,
            "need_category": "housing",
            "urgency": "urgent",
            "status": "sent",
            "beat_code": None,
            "concern_id": None,
            "occurred_at": "2026-01-05T09:00:00Z",
            "respond_by": "2026-01-06T09:00:00Z",
            "details_url": "http://localhost:8002/referrals/r-1",
        },
    )


def crash_while_the_receiver_holds_it(start_service, http_receiver, kit, publish, **config):
    """Start a dispatching service, let it reach the receiver, kill it before the answer."""
    http_receiver.hold = threading.Event()
    first = start_service(NOTIFICATIONS_DISPATCH_SECONDS="0.2", **config)
    publish()
    kit.wait_for(lambda: http_receiver.requests, timeout=15, message="the receiver got the request")
    first.kill()
    http_receiver.hold.set()
    http_receiver.hold = None
    return start_service(**config)


def test_webhook_interrupted_mid_send_is_resent_under_the_same_id_and_redelivery_adds_nothing(
    start_service, stand_ins, http_receiver, rabbit_config, notifications_db, clock, kit
):
    stand_ins.referrals.endpoints[AGENCY] = [
        {"endpoint_id": "ep-1", "url": http_receiver.url(), "secrets": [SECRET], "active": True}
    ]
    event = referral_sent()
    second = crash_while_the_receiver_holds_it(
        start_service, http_receiver, kit, lambda: kit.publish(rabbit_config["AMQP_URI"], event)
    )
    [message] = kit.rows(notifications_db, Message)
    assert message.status == "sending"
    kit.publish(rabbit_config["AMQP_URI"], event)  # and the event is redelivered, too
    clock.advance(seconds=121)
    kit.dispatch(second)
    kit.dispatch(second)

    [message] = kit.rows(notifications_db, Message)
    assert (message.status, message.attempts) == ("delivered", 2)
    ids = {request.headers["webhook-id"] for request in http_receiver.requests}
    assert len(http_receiver.requests) == 2 and len(ids) == 1  # one identity: the receiver keeps one
    for request in http_receiver.requests:
        Webhook(SECRET).verify(request.body, request.headers)
    assert len(kit.rows(notifications_db, Notification)) == 1


def test_sms_interrupted_mid_send_is_not_resent_when_the_gateway_cannot_deduplicate(
    start_service, stand_ins, http_receiver, rabbit_config, notifications_db, clock, kit, web_session
):
    stand_ins.concerns.reporters["c-7"] = {
        "name": None,
        "email": None,
        "phone": "+15555550177",
        "language": "en",
        "contact_preference": "sms",
    }
    event = new_event(
        "beat.concern.acknowledged",
        "c-7",
        {
            "concern_id": "c-7",
            "category_code": "noise",
            "beat_code": "RV-05",
            "status": "acknowledged",
            "occurred_at": "2026-01-05T09:00:00Z",
            "officer_id": "officer-rv05",
            "submitted_at": "2026-01-05T08:00:00Z",
        },
    )
    second = crash_while_the_receiver_holds_it(
        start_service,
        http_receiver,
        kit,
        lambda: kit.publish(rabbit_config["AMQP_URI"], event),
        NOTIFICATIONS_SMS_IDEMPOTENT="false",
    )
    clock.advance(seconds=121)
    kit.dispatch(second)
    kit.dispatch(second)
    [message] = kit.rows(notifications_db, Message)
    assert (message.channel, message.status) == ("sms", "permanent_failure")
    assert "cannot de-duplicate" in message.last_error
    assert len(http_receiver.requests) == 1  # no second text message
    assert [a.outcome for a in kit.rows(notifications_db, DeliveryAttempt)] == ["permanent_failure"]
