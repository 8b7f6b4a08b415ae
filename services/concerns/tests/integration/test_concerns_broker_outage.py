"""A broker outage is not a site outage: the service stays ready, takes concerns, and publishes their
events from the outbox once RabbitMQ is back (issue 24: readiness that matches the outbox)."""

from __future__ import annotations

import json
import subprocess

import pytest
import requests
from concerns_testkit import concern_body
from kombu import Connection, Queue

from beat_shared.amqp import event_exchange
from beat_shared.testing import wait_for


def rabbitmqctl(*args: str) -> None:
    """Stops and starts the local node's application (RABBITMQ_NODENAME picks another local node)."""
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def management_answers(api: str) -> bool:
    try:
        return requests.get(f"{api.rstrip('/')}/api/overview", timeout=2).ok
    except requests.RequestException:
        return False


def durable_spy(amqp_uri: str) -> Queue:
    """A durable queue on the concerns exchange, so it and what reaches it outlive the broker's restart."""
    queue = Queue("concerns-outage-spy", exchange=event_exchange("concerns"), routing_key="beat.#", durable=True)
    with Connection(amqp_uri) as connection:
        queue(connection.default_channel).declare()
    return queue


def published_types(amqp_uri: str, queue: Queue) -> list[str]:
    try:
        with Connection(amqp_uri, connect_timeout=2) as connection:
            types = []
            while (message := queue(connection.default_channel).get(no_ack=True)) is not None:
                types.append(json.loads(message.body)["type"])
            return types
    except OSError:  # the broker is still starting
        return []


@pytest.mark.broker_restart
def test_a_broker_outage_keeps_the_service_ready_and_its_events_wait_in_the_outbox(
    request, rabbit_config, service, web_session, db_count
):
    spy = durable_spy(rabbit_config["AMQP_URI"])
    assert web_session.get("/healthz").json()["checks"] == {"broker": True}
    rabbitmqctl("stop_app")
    try:
        wait_for(
            lambda: web_session.get("/healthz").json()["checks"] == {"broker": False},
            timeout=15,
            message="/healthz reports the broker down",
        )
        ready = web_session.get("/readyz")
        assert ready.status_code == 200, ready.text
        submitted = web_session.post("/concerns", json=concern_body())
        assert submitted.status_code == 201, submitted.text
        concern_id = submitted.json()["concern"]["id"]
        assert db_count("concerns", f"WHERE id = '{concern_id}'") == 1
        assert db_count("outbox", "WHERE published_at IS NULL") >= 1  # waiting, not lost
        assert 'beat_broker_up{service="concerns"} 0.0' in web_session.get("/metrics").text
    finally:
        rabbitmqctl("start_app")
        api = request.config.getoption("RABBIT_API_URI")
        wait_for(lambda: management_answers(api), timeout=60, message="RabbitMQ back")
    seen: list[str] = []
    wait_for(
        lambda: seen.extend(published_types(rabbit_config["AMQP_URI"], spy)) or "beat.concern.submitted" in seen,
        timeout=60,
        message="the concern's event published after the broker returned",
    )
    wait_for(lambda: db_count("outbox", "WHERE published_at IS NULL") == 0, timeout=30, message="outbox drained")
