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
from referrals import provisioning

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
    # The broker applies policies asynchronously; on a loaded machine that takes seconds.
    wait_for(lambda: policies() == expected, timeout=30, message="production policies applied to the four queues")
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
        user = importer.agency_user(vhost, agency_id)
        assert user == provisioning.username_for(vhost, agency_id)  # the template names users as the CLI does
        importer.Management(api).call("PUT", f"users/{user}", {"password": password, "tags": ""})
        made[label] = (agency_id, password)
    yield made
    for agency_id, _ in made.values():
        requests.delete(f"{api}/api/users/{importer.agency_user(vhost, agency_id)}", timeout=5)


def agency_channel(rabbit_config, agency_id: str, password: str) -> tuple[amqp.Connection, Any]:
    vhost = rabbit_config["vhost"]
    connection = amqp.Connection(
        "127.0.0.1:5672", userid=importer.agency_user(vhost, agency_id), password=password, virtual_host=vhost
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


def test_a_provisioned_agency_queue_is_covered_by_the_production_policy(rabbit_config, api):
    """`beat agency provision` with BEAT_QUEUE_TYPE=quorum: the policy applies and a rejection is dead-lettered."""
    vhost, amqp_uri = rabbit_config["vhost"], rabbit_config["AMQP_URI"]
    importer.load(api, vhost, definitions("definitions-production.json"))
    agency_id = f"agency-p{uuid.uuid4().hex[:8]}"
    credentials = provisioning.provision_agency(api, vhost, agency_id, queue_type="quorum")
    try:
        wait_for(
            lambda: queue_info(api, vhost, credentials.queue).get("policy") == "beat-agency-queues",
            timeout=10,
            message=f"policy on the agency queue: {queue_info(api, vhost, credentials.queue).get('policy')}",
        )
        assert queue_info(api, vhost, credentials.queue)["type"] == "quorum"
        with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
            Producer(connection).publish(
                {"refused": "by the agency"},
                exchange=event_exchange("referrals"),
                routing_key="beat.referral.sent",
                headers={"x-agency-id": agency_id},
            )
        wait_for(lambda: depth(amqp_uri, credentials.queue) == 1, timeout=10, message="event in the agency queue")
        connection, channel = agency_channel(rabbit_config, agency_id, credentials.password)
        try:
            message = channel.basic_get(credentials.queue)
            channel.basic_reject(message.delivery_tag, requeue=False)
        finally:
            connection.close()
        wait_for(
            lambda: depth(amqp_uri, "beat.dead-letters") == 1,
            timeout=10,
            message="the rejected event kept in beat.dead-letters",
        )
        assert depth(amqp_uri, credentials.queue) == 0
    finally:
        provisioning.deprovision_agency(api, vhost, agency_id)


def test_provisioning_refuses_an_unknown_queue_type(rabbit_config, api):
    with pytest.raises(provisioning.ProvisioningFailed, match="classic or quorum"):
        provisioning.provision_agency(api, rabbit_config["vhost"], "agency-typo", queue_type="quorom")


def test_two_deployments_on_one_broker_keep_their_own_agency_users(rabbit_config, api):
    """RabbitMQ users are broker-wide: the same agency on two vhosts gets two users, both working."""
    first_vhost = rabbit_config["vhost"]
    second_vhost = f"beat-second-{uuid.uuid4().hex[:8]}"
    requests.put(f"{api}/api/vhosts/{second_vhost}", timeout=5).raise_for_status()
    requests.put(
        f"{api}/api/permissions/{second_vhost}/guest", json={"configure": ".*", "write": ".*", "read": ".*"}, timeout=5
    ).raise_for_status()
    agency_id = f"agency-d{uuid.uuid4().hex[:8]}"
    try:
        first = provisioning.provision_agency(api, first_vhost, agency_id)
        second = provisioning.provision_agency(api, second_vhost, agency_id)
        assert first.username != second.username
        for credentials in (first, second):
            connection = amqp.Connection(
                "127.0.0.1:5672",
                userid=credentials.username,
                password=credentials.password,
                virtual_host=credentials.vhost,
            )
            connection.connect()  # the second provisioning did not re-key the first deployment's agency
            try:
                assert connection.channel().basic_get(credentials.queue) is None
            finally:
                connection.close()
    finally:
        provisioning.deprovision_agency(api, first_vhost, agency_id)
        provisioning.deprovision_agency(api, second_vhost, agency_id)
        requests.delete(f"{api}/api/vhosts/{second_vhost}", timeout=5)
