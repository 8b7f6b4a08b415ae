"""The published agency subscriber keeps going through a broker restart, processing each event once."""

import importlib.util
import json
import subprocess
import threading
from pathlib import Path

import pytest
from kombu import Connection, Producer

from beat_shared.amqp import CLOUDEVENTS_CONTENT_TYPE, event_exchange
from beat_shared.config import env
from beat_shared.contracts import new_event
from beat_shared.testing import wait_for
from referrals.provisioning import deprovision_agency, provision_agency

AGENCY = "agency-restart-test"
SUBSCRIBER = Path(__file__).parents[1] / "examples" / "agency-subscriber" / "subscriber.py"


def subscriber_module():
    spec = importlib.util.spec_from_file_location("agency_subscriber_example", SUBSCRIBER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def publish_referral_event(amqp_uri: str, referral_id: str) -> str:
    """What the referrals relay publishes: a CloudEvent with the x-agency-id routing header."""
    event = new_event(
        "beat.referral.accepted",
        referral_id,
        {
            "referral_id": referral_id,
            "agency_id": AGENCY,
            "service_id": None,
            "need_category": "food",
            "urgency": "routine",
            "status": "accepted",
            "beat_code": "RV-01",
            "concern_id": None,
            "occurred_at": "2026-11-28T10:00:00Z",
        },
    )
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        Producer(connection).publish(
            event.to_json(),
            exchange=event_exchange("referrals"),
            routing_key=event.type,
            content_type=CLOUDEVENTS_CONTENT_TYPE,
            content_encoding="utf-8",
            headers={"x-agency-id": AGENCY},
            delivery_mode=2,
            declare=[event_exchange("referrals")],
        )
    return event.id


def recorded(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.broker_restart
def test_agency_subscriber_survives_a_broker_restart(rabbit_config, tmp_path):
    credentials = provision_agency(env("RABBIT_API_URI"), rabbit_config["vhost"], AGENCY)
    record = tmp_path / "received.jsonl"
    example = subscriber_module()
    handled: list[int] = []
    worker = threading.Thread(
        target=lambda: handled.append(
            example.run(credentials.amqp_uri, credentials.queue, None, example.Recorder(record), max_events=2)
        ),
        daemon=True,
    )
    try:
        first = publish_referral_event(rabbit_config["AMQP_URI"], "ref-before")
        worker.start()
        wait_for(lambda: first in recorded(record), timeout=30, message="first event processed")
        subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=120)
        subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
        second = wait_for(
            lambda: _try_publish(rabbit_config["AMQP_URI"], "ref-after"), timeout=60, message="broker back"
        )
        worker.join(timeout=90)
        assert handled == [2]
        assert recorded(record) == [first, second]  # each once, in order
    finally:
        deprovision_agency(env("RABBIT_API_URI"), rabbit_config["vhost"], AGENCY)


def _try_publish(amqp_uri: str, referral_id: str) -> str | None:
    try:
        return publish_referral_event(amqp_uri, referral_id)
    except Exception:  # noqa: BLE001 - the broker is still starting
        return None
