"""The RabbitMQ definitions load into a real broker, their policies reach Beat's queues, and the
agency template gives an agency its own feed and nothing else."""

from __future__ import annotations

import importlib.util
import json
import secrets
import uuid
from pathlib import Path
from typing import Any

import amqp
import pytest
import requests
from kombu import Connection, Producer

from beat_shared.amqp import ConsumerTopology, event_exchange
from beat_shared.testing import wait_for

REPO = Path(__file__).resolve().parents[2]
RABBITMQ = REPO / "deploy" / "k8s" / "rabbitmq"
CONSUMER_QUEUE = "evt-concerns-beat.concern.resolved--notifications.on_concern_resolved"

spec = importlib.util.spec_from_file_location("beat_import_definitions", RABBITMQ / "import_definitions.py")
assert spec and spec.loader
importer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(importer)


@pytest.fixture
def api(request) -> str:
    return request.config.getoption("RABBIT_API_URI").rstrip("/")


def definitions(name: str) -> dict[str, Any]:
    return json.loads((RABBITMQ / name).read_text())


def queue_info(api: str, vhost: str, queue: str) -> dict[str, Any]:
    answer = requests.get(f"{api}/api/queues/{vhost}/{queue}", timeout=5)
    answer.raise_for_status()
    return answer.json()


def depth(amqp_uri: str, queue: str) -> int:
    with Connection(amqp_uri) as connection:
        return connection.default_channel.queue_declare(queue=queue, passive=True).message_count


def test_both_definition_files_describe_the_same_topology():
    dev, prod = definitions("definitions.json"), definitions("definitions-production.json")
    for section in ("exchanges", "bindings"):
        assert dev[section] == prod[section]
    assert {p["name"] for p in dev["policies"]} <= {p["name"] for p in prod["policies"]}
    assert {q["arguments"]["x-queue-type"] for q in prod["queues"]} == {"quorum"}
    assert not dev["permissions"] and "users" not in dev  # no credentials in the files


def test_production_policies_reach_quorum_consumer_retry_and_agency_queues(rabbit_config, api):
    vhost, amqp_uri = rabbit_config["vhost"], rabbit_config["AMQP_URI"]
    importer.load(api, vhost, definitions("definitions-production.json"))
    # Declared exactly as the services declare them (BEAT_QUEUE_TYPE=quorum).
    topology = ConsumerTopology(CONSUMER_QUEUE, (1.0, 5.0), "quorum")
    topology.declare(amqp_uri)
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        channel.queue_declare(CONSUMER_QUEUE, durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})
        channel.queue_declare("agency.test", durable=True, auto_delete=False, arguments={"x-queue-type": "quorum"})

    def policies() -> dict[str, str | None]:
        names = [CONSUMER_QUEUE, topology.retry_queue_for(1), topology.dead_letter_queue, "agency.test"]
        return {name: queue_info(api, vhost, name).get("policy") for name in names}

    expected = {
        CONSUMER_QUEUE: "beat-consumer-queues",
        topology.retry_queue_for(1): "beat-retry-queues",
        topology.dead_letter_queue: None,
        "agency.test": "beat-agency-queues",
    }
    wait_for(lambda: policies() == expected, timeout=10, message=f"policies applied: {policies()}")
    consumer = queue_info(api, vhost, CONSUMER_QUEUE)["effective_policy_definition"]
    assert consumer["dead-letter-exchange"] == "beat.dead-letters"
    assert consumer["dead-letter-strategy"] == "at-least-once"
    assert consumer["delivery-limit"] > 0


def test_unroutable_events_are_kept_by_the_alternate_exchange(rabbit_config, api):
    vhost, amqp_uri = rabbit_config["vhost"], rabbit_config["AMQP_URI"]
    importer.load(api, vhost, definitions("definitions.json"))
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        Producer(connection).publish(
            {"nobody": "listens"}, exchange=event_exchange("surveys"), routing_key="beat.nobody.listens"
        )
    wait_for(lambda: depth(amqp_uri, "beat.unrouted") == 1, timeout=10, message="unrouted event kept")


@pytest.fixture
def agencies(rabbit_config, api):
    """Two agencies provisioned from the template, as the referrals service does; users removed after."""
    vhost = rabbit_config["vhost"]
    importer.load(api, vhost, definitions("definitions-production.json"))
    made = {}
    for label in ("a", "b"):
        agency_id = f"agency-{label}{uuid.uuid4().hex[:8]}"
        password = secrets.token_hex(16)
        importer.Management(api).call("POST", "definitions", importer.agency_definitions(agency_id, "quorum", vhost))
        importer.Management(api).call("PUT", f"users/{agency_id}", {"password": password, "tags": ""})
        made[label] = (agency_id, password)
    yield made
    for agency_id, _ in made.values():
        requests.delete(f"{api}/api/users/{agency_id}", timeout=5)


def agency_channel(rabbit_config, agency_id: str, password: str) -> tuple[amqp.Connection, Any]:
    connection = amqp.Connection(
        "127.0.0.1:5672", userid=agency_id, password=password, virtual_host=rabbit_config["vhost"]
    )
    connection.connect()
    return connection, connection.channel()


def test_an_agency_reads_its_own_feed_and_nothing_else(rabbit_config, agencies):
    (a_id, a_password), (b_id, _) = agencies["a"], agencies["b"]
    amqp_uri = rabbit_config["AMQP_URI"]
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = Producer(connection)
        for agency_id in (a_id, b_id, a_id):
            producer.publish(
                {"for": agency_id},
                exchange=event_exchange("referrals"),
                routing_key="beat.referral.sent",
                headers={"x-agency-id": agency_id},
            )
        producer.publish({"for": "nobody"}, exchange=event_exchange("referrals"), routing_key="beat.referral.sent")
    queues = (f"agency.{a_id}", f"agency.{b_id}", "beat.unrouted")
    wait_for(
        lambda: [depth(amqp_uri, q) for q in queues] == [2, 1, 0],
        timeout=10,
        message=f"each agency's events in its queue: {[depth(amqp_uri, q) for q in queues]}",
    )

    connection, channel = agency_channel(rabbit_config, a_id, a_password)
    try:
        message = channel.basic_get(f"agency.{a_id}")
        assert json.loads(message.body) == {"for": a_id}
        channel.basic_ack(message.delivery_tag)
    finally:
        connection.close()

    refused = {
        "read B's queue": lambda ch: ch.basic_get(f"agency.{b_id}"),
        "declare a queue": lambda ch: ch.queue_declare(f"agency.{a_id}.mine", durable=True),
        "bind to our exchanges": lambda ch: ch.queue_bind(f"agency.{a_id}", "referrals.events", "#"),
        "publish": lambda ch: (ch.confirm_select(), ch.basic_publish_confirm(amqp.Message("x"), "referrals.events")),
    }
    for action, attempt in refused.items():
        connection, channel = agency_channel(rabbit_config, a_id, a_password)
        try:
            with pytest.raises(amqp.exceptions.AccessRefused):
                attempt(channel)
        except AssertionError as failure:
            raise AssertionError(f"agency A could {action}") from failure
        finally:
            connection.collect()
    assert depth(amqp_uri, f"agency.{b_id}") == 1  # B's event is still there


def test_agency_ids_that_could_widen_the_permission_pattern_are_refused():
    for bad in ("agency-a.*", "agency-x|y", "", "agency-" + "a" * 60, "agency-a$", "other-1"):
        with pytest.raises(ValueError):
            importer.agency_definitions(bad, "quorum")
