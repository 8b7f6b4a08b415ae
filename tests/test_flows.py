"""Flows across the four real services: each in its own container with its own database (on SQLite
and on PostgreSQL), all on one throw-away RabbitMQ vhost, a real SMTP server and a real webhook receiver.

1. A resident's concern is acknowledged and resolved: the resident is e-mailed at each step,
   invited to the post-contact survey (a working link in the e-mail), and the beat's report
   card counts the concern.
2. An officer asks for a referral with the resident's consent: the referrals service drafts it
   from the concerns service's details, the officer sends it, and the agency's registered webhook
   receiver (examples/webhook-receiver) accepts the signed delivery and refuses a tampered copy.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from beat_shared.auth import mint_token
from beat_shared.config import env, service_config
from beat_shared.db import make_engine, unit_of_work
from beat_shared.migrations import upgrade
from beat_shared.testing import free_port, text_part, wait_for
from concerns.service import ConcernsService
from notifications.service import NotificationsService
from referrals.service import ReferralsService
from surveys.service import SurveysService

SERVICES = {
    "concerns": ConcernsService,
    "referrals": ReferralsService,
    "notifications": NotificationsService,
    "surveys": SurveysService,
}
IN_RV01 = {"lat": 43.045, "long": -108.405}
RESIDENT_EMAIL = "dana.resident@example.org"
REPO = Path(__file__).parents[1]


def bearer(role: str, subject: str, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(role, subject, env('BEAT_JWT_SECRET'), **claims)}"}


OFFICER = bearer("officer", "officer-rv01")


class Platform:
    def __init__(self, urls: dict[str, str], databases: dict[str, str]) -> None:
        self.urls = urls
        self.databases = databases

    def url(self, service: str, path: str) -> str:
        return self.urls[service] + path


@pytest.fixture
def platform(container_factory, rabbit_config, database, smtp_sink) -> Platform:
    urls, databases = {}, {}
    for name in SERVICES:
        databases[name] = database(name)
        upgrade(name, databases[name])
        demo = importlib.import_module(f"{name}.demo")
        engine = make_engine(databases[name], pool_size=1)
        with unit_of_work(engine) as session:
            demo.seed(session)
        engine.dispose()
    overrides = {
        "AMQP_URI": rabbit_config["AMQP_URI"],
        "BEAT_RETRY_DELAYS": "0.2,0.5",
        "BEAT_OUTBOX_POLL_SECONDS": "0.2",
        "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "NOTIFICATIONS_SMTP_PORT": str(smtp_sink.port),
        "NOTIFICATIONS_DISPATCH_SECONDS": "0.2",
        "NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE": "true",
        "NOTIFICATIONS_WEBHOOK_REQUIRE_HTTPS": "false",
        "REFERRALS_WEBHOOKS_ALLOW_HTTP": "true",
    }
    for name in SERVICES:
        urls[name] = f"http://127.0.0.1:{free_port()}"
        overrides[f"{name.upper()}_DATABASE_URL"] = databases[name]
    for name in SERVICES:
        overrides[f"{name.upper()}_PUBLIC_URL"] = urls[name]
    overrides["NOTIFICATIONS_PORTAL_URL"] = urls["concerns"]
    for name, cls in SERVICES.items():
        config = service_config(name, {**overrides, "WEB_SERVER_ADDRESS": urls[name].removeprefix("http://")})
        container_factory(cls, config).start()
    return Platform(urls, databases)


def mail_to(smtp_sink, address: str) -> list:
    return [message for message in smtp_sink.mailbox() if address in message["To"]]


def transition(platform: Platform, concern_id: str, status: str, note: str) -> None:
    concern = requests.get(platform.url("concerns", f"/concerns/{concern_id}"), headers=OFFICER, timeout=10).json()
    answer = requests.post(
        platform.url("concerns", f"/concerns/{concern_id}/transitions"),
        json={"status": status, "version": concern["version"], "public_note": note},
        headers=OFFICER,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def current_period() -> str:
    today = datetime.now(UTC)
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def test_a_resolved_concern_reaches_the_resident_the_survey_and_the_report_card(platform, smtp_sink):
    submitted = requests.post(
        platform.url("concerns", "/concerns"),
        json={
            "category": "noise",
            "description": "Loud music from the old mill car park every night after midnight.",
            "location": IN_RV01,
            "contact": {"name": "Dana", "email": RESIDENT_EMAIL, "preference": "email"},
        },
        timeout=10,
    )
    assert submitted.status_code == 201, submitted.text
    concern_id = submitted.json()["concern"]["id"]

    transition(platform, concern_id, "acknowledged", "Thank you: we will visit on Friday night.")
    wait_for(lambda: mail_to(smtp_sink, RESIDENT_EMAIL), timeout=30, message="acknowledgement e-mail")
    transition(platform, concern_id, "resolved", "We spoke with the organisers; the music now stops at 11pm.")

    def survey_invitation():
        return [m for m in mail_to(smtp_sink, RESIDENT_EMAIL) if "/respond#" in text_part(m)]

    [invitation] = wait_for(survey_invitation, timeout=30, message="post-contact survey invitation e-mail")
    link = next(word for word in text_part(invitation).split() if "/respond#" in word)
    assert link.startswith(platform.url("surveys", "/respond#"))
    token = link.split("#", 1)[1]
    survey = requests.post(platform.url("surveys", "/invitations/survey"), json={"token": token}, timeout=10)
    assert survey.status_code == 200, survey.text

    def report_card():
        card = requests.get(
            platform.url("surveys", f"/report-cards/RV-01?period={current_period()}"), timeout=10
        ).json()
        return card if card["actions"]["concerns_resolved"] >= 1 else None

    card = wait_for(report_card, timeout=30, message="report card counting the resolved concern")
    assert card["actions"]["concerns_received"] >= 1
    # One e-mail per (event, recipient, channel): acknowledged, resolved, survey invitation.
    subjects = [message["Subject"] for message in mail_to(smtp_sink, RESIDENT_EMAIL)]
    assert len(subjects) == len(set(subjects)) == 3, subjects


def receiver_module():
    path = REPO / "examples" / "webhook-receiver" / "receiver.py"
    spec = importlib.util.spec_from_file_location("webhook_receiver_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_consented_referral_reaches_the_agency_webhook_signed(platform, tmp_path):
    now = datetime.now(UTC)
    requested = requests.post(
        platform.url("concerns", "/referral-requests"),
        json={
            "beat_code": "RV-01",
            "need_category": "food",
            "urgency": "soon",
            "client": {"name": "Sam Client", "phone": "+1 555 0100 777"},
            "consent": {
                "given_by": "Sam Client",
                "given_at": (now - timedelta(minutes=5)).isoformat(),
                "method": "verbal",
                "scope": "share contact details with a food provider for emergency food",
                "valid_until": (now + timedelta(days=90)).isoformat(),
            },
        },
        headers=OFFICER,
        timeout=10,
    )
    assert requested.status_code == 201, requested.text

    def drafted():
        listed = requests.get(platform.url("referrals", "/referrals"), headers=OFFICER, timeout=10).json()
        return [r for r in listed["contents"] if r["status"] == "draft" and r["agency_id"]]

    [referral] = wait_for(drafted, timeout=30, message="referral drafted from the request, for the best match")
    assert (referral["need_category"], referral["beat_code"]) == ("food", "RV-01")
    agency = referral["agency_id"]

    # The matched agency registers its intake system (the published example receiver).
    port = free_port()
    registered = requests.post(
        platform.url("referrals", f"/agencies/{agency}/webhooks"),
        json={"url": f"http://127.0.0.1:{port}/beat", "description": "intake system"},
        headers=bearer("agency", "intake-staff", agency_id=agency),
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    record = tmp_path / "deliveries.jsonl"
    server = receiver_module().serve(registered.json()["secret"], port, record)
    try:
        send_url = platform.url("referrals", f"/referrals/{referral['id']}/send")
        sent = requests.post(send_url, headers=OFFICER, timeout=10)
        assert sent.status_code == 200, sent.text

        def delivered():
            lines = record.read_text().splitlines() if record.exists() else []
            return [json.loads(line) for line in lines if json.loads(line)["event"]["type"] == "beat.referral.sent"]

        [delivery] = wait_for(delivered, timeout=30, message="signed webhook delivery accepted")
        assert delivery["event"]["data"]["referral_id"] == referral["id"]
        assert "Sam" not in json.dumps(delivery) and "0100 777" not in json.dumps(delivery)  # no personal data

        tampered = json.dumps({**delivery["event"], "data": {**delivery["event"]["data"], "urgency": "urgent"}})
        refused = requests.post(
            f"http://127.0.0.1:{port}/beat",
            data=tampered,
            headers={
                "webhook-id": delivery["webhook_id"],
                "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
                "webhook-signature": "v1,bm90IGEgcmVhbCBzaWduYXR1cmU=",
                "Content-Type": "application/json",
            },
            timeout=10,
        )
        assert refused.status_code == 401
        assert len(delivered()) == 1  # the refused copy was not recorded
    finally:
        server.shutdown()
