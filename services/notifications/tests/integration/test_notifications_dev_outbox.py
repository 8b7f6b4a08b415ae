"""The development outbox page (issue 21, point 4): what was sent, newest first, each item in full;
refused in production."""

import base64
import os

from beat_shared.contracts import new_event
from notifications.models import Notification

AGENCY = "agency-riverton-food-bank"
PRODUCTION = {
    "BEAT_ENVIRONMENT": "production",
    "BEAT_JWT_SECRET": "a-production-jwt-secret-for-this-test",
    "SURVEYS_TOKEN_SECRET": "a-production-survey-secret-for-this-test",
    "NOTIFICATIONS_SIGNING_SECRET": "a-production-signing-secret-for-this-test",
    "NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE": "false",
    "NOTIFICATIONS_WEBHOOK_REQUIRE_HTTPS": "true",
}


def referral_sent(referral_id: str) -> object:
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
            "details_url": f"http://localhost:8002/referrals/{referral_id}",
        },
    )


def test_the_outbox_shows_mail_as_caught_and_webhook_deliveries_newest_first(
    start_service, stand_ins, http_receiver, smtp_sink, rabbit_config, notifications_db, web_session, kit
):
    service = start_service(BEAT_DEV_MAIL_DIR=str(smtp_sink.directory))
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    stand_ins.referrals.endpoints[AGENCY] = [
        {"endpoint_id": "ep-1", "url": http_receiver.url(), "secrets": [secret], "active": True}
    ]
    stand_ins.referrals.agencies[AGENCY] = {
        "agency_id": AGENCY,
        "name": "Riverton Food Bank",
        "email": "intake@foodbank.example",
        "phone": None,
        "language": "en",
    }
    kit.publish(rabbit_config["AMQP_URI"], referral_sent("r-1"))
    kit.wait_for(lambda: kit.rows(notifications_db, Notification), message="notification recorded")
    kit.dispatch(service)
    kit.wait_for(lambda: smtp_sink.received(), message="e-mail caught")

    page = web_session.get("/dev/outbox")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    [email] = smtp_sink.received()
    assert "<strong>email</strong>" in page.text and "<strong>webhook</strong>" in page.text
    assert "To: intake@foodbank.example" in page.text  # the headers, as received
    assert f"Message-ID: {email['Message-ID']}".replace("<", "&lt;").replace(">", "&gt;") in page.text
    assert kit.text_part(email).splitlines()[0].replace("'", "&#x27;") in page.text  # the text body
    assert "<iframe sandbox srcdoc=" in page.text  # the HTML body, shown as sent
    assert '"status": "delivered"' in page.text.replace("&quot;", '"')  # the webhook's delivery record

    index = web_session.get("/").json()
    assert {"title": "Development outbox: what was sent", "href": "/dev/outbox"} in index["pages"]


def test_the_outbox_lists_newest_first(start_service, smtp_sink, web_session, tmp_path):
    start_service(BEAT_DEV_MAIL_DIR=str(tmp_path))
    (tmp_path / "received").mkdir()
    for stamp, subject in ((1_700_000_000_000_000_000, "older"), (1_800_000_000_000_000_000, "newer")):
        (tmp_path / "received" / f"{stamp}.eml").write_bytes(
            f"To: a@example.org\r\nSubject: {subject}\r\n\r\nbody of the {subject} one\r\n".encode()
        )
    page = web_session.get("/dev/outbox").text
    assert page.index("newer") < page.index("older")
    assert "body of the older one" in page


def test_production_refuses_the_outbox_page(start_service, web_session):
    start_service(**PRODUCTION)
    answer = web_session.get("/dev/outbox")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert all(page["href"] != "/dev/outbox" for page in web_session.get("/").json()["pages"])
