"""Personal data and secrets stay where they belong.

One run of the four services submits concerns with the fixtures' emails and phones (over
the JSON API and Open311), asks for a referral with a client's details, registers agency
webhooks (whose secrets are shown once) and has notifications email the reporter through
a real SMTP server. Meanwhile every log record of every logger is captured (with its
traceback) and every event published on the four `<service>.events` exchanges is
consumed. Then both are scanned: the fixtures' emails and phone numbers, the JWT secret
and the webhook secrets must appear 0 times.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
from kombu import Connection, Queue
from nameko.testing.services import entrypoint_hook
from security_scenario import (
    CLIENT_EMAIL,
    CLIENT_NAME,
    CLIENT_PHONE,
    RESIDENT_EMAIL,
    RESIDENT_NAME,
    RESIDENT_PHONE,
    Scenario,
    client_body,
    concern_body,
    consent_body,
    expect,
)
from security_world import AGENCY_A, BEAT, SECRET, SERVICES, bearer

from beat_shared.amqp import event_exchange
from beat_shared.config import env
from beat_shared.logs import PAYLOAD_LOGGERS, JsonFormatter, configure_logging
from beat_shared.testing import wait_for


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def needles(webhook_secrets: list[str]) -> dict[str, str]:
    """What must never be written to a log or an event: name → text."""
    found = {
        "resident email": RESIDENT_EMAIL,
        "resident email local part": RESIDENT_EMAIL.split("@")[0],
        "resident phone": RESIDENT_PHONE,
        "resident phone digits": digits(RESIDENT_PHONE)[-10:],
        "resident name": RESIDENT_NAME,
        "client email": CLIENT_EMAIL,
        "client phone": CLIENT_PHONE,
        "client phone digits": digits(CLIENT_PHONE)[-10:],
        "client name": CLIENT_NAME,
        "JWT secret": SECRET,
        "surveys token secret": env("SURVEYS_TOKEN_SECRET"),
        "notifications signing secret": env("NOTIFICATIONS_SIGNING_SECRET"),
    }
    found |= {f"webhook secret {n}": secret for n, secret in enumerate(webhook_secrets)}
    return found


def hits(text: str, searched: dict[str, str]) -> list[str]:
    lowered = text.lower()
    compact = re.sub(r"\D", "", text)
    found = []
    for name, needle in searched.items():
        haystack = compact if name.endswith("digits") else lowered
        if needle.lower() in haystack:
            found.append(name)
    return found


class Capture(logging.Handler):
    """Every record of every logger, formatted with its arguments and traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs():
    """The services' own logging set-up (`beat run` calls configure_logging) at DEBUG, the most
    a city could turn on, in the JSON format production writes; every record is kept."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("DEBUG", "json")
    handler = Capture()
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    yield handler
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


class EventTap:
    """A queue on each service's events exchange, bound to every routing key."""

    def __init__(self, amqp_uri: str) -> None:
        self.connection = Connection(amqp_uri)
        channel = self.connection.default_channel
        self.queues = []
        for service in SERVICES:
            queue = Queue(f"security-tap-{service}", exchange=event_exchange(service), routing_key="#", durable=False)
            queue(channel).declare()
            self.queues.append(queue)
        self.messages: list[tuple[str, dict]] = []

    def drain(self) -> list[tuple[str, dict]]:
        for queue in self.queues:
            bound = queue(self.connection.default_channel)
            while (message := bound.get(no_ack=True)) is not None:
                body = message.body
                self.messages.append((body.decode() if isinstance(body, bytes) else body, dict(message.headers or {})))
        return self.messages

    def types(self) -> set[str]:
        return {json.loads(body)["type"] for body, _ in self.drain()}

    def close(self) -> None:
        self.connection.release()


def referrals_of_request(world, officer):
    """Referrals in the directory service; the one made from the concerns request has its client by RPC."""
    return world.call("referrals", "GET", "/referrals?per_page=50", headers=officer).json()["contents"]


def test_no_personal_data_or_secret_reaches_a_log_or_an_event(start_world, captured_logs, smtp_sink, rabbit_config):
    smtp_port, mailbox = smtp_sink.port, smtp_sink.directory / "received"  # the shared real SMTP server
    tap = EventTap(rabbit_config["AMQP_URI"])
    try:
        world = start_world(settings={"notifications": {"NOTIFICATIONS_SMTP_PORT": str(smtp_port)}})
        scenario = Scenario.build(world)  # a concern with contact, referrals with a client, webhooks
        officer, admin = bearer("officer", "officer-rv02"), bearer("admin", "admin-1")
        expect(world.call("concerns", "POST", "/concerns", json=concern_body(description="Second one.")), 201)
        form = {
            "api_key": "open311-development-key",
            "service_code": "noise",
            "description": "Over Open311.",
            "lat": "43.045",
            "long": "-108.38",
            "email": RESIDENT_EMAIL,
            "phone": RESIDENT_PHONE,
            "first_name": RESIDENT_NAME,
        }
        expect(world.call("concerns", "POST", "/open311/v2/requests.json", data=form), 200)
        # Reading personal data is allowed; it must not be logged either.
        concern = expect(world.call("concerns", "GET", f"/concerns/{scenario.ids['concern']}", headers=officer), 200)
        # Acknowledging the concern makes notifications email its reporter (asked of concerns by RPC).
        moved = {"status": "acknowledged", "version": concern["version"], "public_note": "We will look tonight."}
        path = f"/concerns/{scenario.ids['concern']}/transitions"
        expect(world.call("concerns", "POST", path, json=moved, headers=officer), 200)
        expect(world.call("referrals", "GET", f"/referrals/{scenario.ids['referral']}", headers=officer), 200)
        secrets = [
            expect(
                world.call(
                    "referrals",
                    "POST",
                    f"/agencies/{AGENCY_A}/webhooks/{scenario.ids['webhook']}/rotate",
                    headers=admin,
                ),
                200,
            )["secret"]
        ]
        # A referral request through concerns: referrals fetches the client by RPC (referral_client).
        ask = {
            "concern_id": scenario.ids["concern"],
            "beat_code": BEAT,
            "need_category": "food",
            "client": {key: value for key, value in client_body().items() if key != "age"},
            "consent": consent_body(datetime.now(UTC)),
        }
        expect(world.call("concerns", "POST", "/referral-requests", json=ask, headers=officer), 201)
        # Bad input carrying personal data: the errors are logged, the data must not be.
        bad = concern_body(contact={"email": RESIDENT_EMAIL, "phone": "not a phone " + RESIDENT_PHONE})
        expect(world.call("concerns", "POST", "/concerns", json=bad), 400)
        notifications = world.containers["notifications"]

        def reporter_emailed():
            with entrypoint_hook(notifications, "dispatch") as dispatch:
                dispatch()
            return [path for path in mailbox.glob("*.eml") if RESIDENT_EMAIL in path.read_text(errors="replace")]

        emailed = wait_for(reporter_emailed, timeout=30, message="the reporter's email through SMTP")
        message = message_from_bytes(emailed[0].read_bytes(), policy=policy.default)
        assert RESIDENT_EMAIL in message["To"]
        expected_types = {"beat.concern.submitted", "beat.concern.acknowledged", "beat.referral.sent"}
        wait_for(lambda: expected_types | {"beat.referral.requested"} <= tap.types(), timeout=20)
        wait_for(lambda: len(referrals_of_request(world, officer)) >= 3, timeout=20, message="the requested referral")
        events = tap.drain()
    finally:
        tap.close()
    searched = needles(secrets)
    log_hits = [(name, line[:300]) for line in captured_logs.lines for name in hits(line, searched)]
    event_hits = [
        (name, body[:300])
        for body, headers in events
        for name in hits(body + json.dumps(headers, default=str), searched)
    ]
    print(
        f"\nscanned {len(captured_logs.lines)} log records and {len(events)} events: "
        f"{len(log_hits)} + {len(event_hits)} hits"
    )
    assert len(captured_logs.lines) > 50 and len(events) >= 5, "the run must have produced logs and events to scan"
    assert log_hits == [], "\n".join(f"{name}: {line}" for name, line in log_hits[:10])
    assert event_hits == [], event_hits[:10]
