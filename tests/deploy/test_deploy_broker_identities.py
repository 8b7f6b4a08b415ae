"""The broker users of components/rabbitmq/identities.yaml, with exactly the rights the prod overlay
gives them, on the real RabbitMQ: the four services each connect as their own user and Beat's two
cross-service flows (tests/test_flows.py) work end to end; what a user has no right to, the broker
refuses; KEDA's user reads queue lengths; web's user connects."""

from __future__ import annotations

import importlib.util
import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import amqp
import pytest
import requests
from kombu import Connection, Producer

from beat_shared.config import service_config
from beat_shared.db import make_engine, unit_of_work
from beat_shared.migrations import upgrade
from beat_shared.testing import free_port, wait_for

REPO = Path(__file__).resolve().parents[2]
RABBITMQ = REPO / "deploy" / "k8s" / "rabbitmq"
IDENTITIES = ("concerns", "referrals", "notifications", "surveys", "web", "keda")


def load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


importer = load("beat_import_definitions", RABBITMQ / "import_definitions.py")
flows = load("beat_test_flows", REPO / "tests" / "test_flows.py")  # the flows, run here with least privilege


@pytest.fixture
def api(request) -> str:
    return request.config.getoption("RABBIT_API_URI").rstrip("/")


@pytest.fixture
def identities(rendered, rabbit_config, api) -> Iterator[dict[str, tuple[str, str]]]:
    """A broker user per identity (broker-wide names made unique), with the prod overlay's rights on
    the test's vhost and the production definitions loaded: identity -> (user, password)."""
    vhost = rabbit_config["vhost"]
    importer.load(api, vhost, json.loads((RABBITMQ / "definitions-production.json").read_text()))
    users = {o["metadata"]["name"]: o for o in rendered["prod"] if o["kind"] == "User"}
    rights = {
        o["spec"]["userReference"]["name"]: o["spec"]["permissions"]
        for o in rendered["prod"]
        if o["kind"] == "Permission"
    }
    made = {}
    suffix = uuid.uuid4().hex[:8]
    for identity in IDENTITIES:
        user, password = f"beat-{identity}-{suffix}", secrets.token_hex(16)
        tags = ",".join(users[f"beat-{identity}"]["spec"].get("tags", []))
        requests.put(f"{api}/api/users/{user}", json={"password": password, "tags": tags}, timeout=5).raise_for_status()
        requests.put(
            f"{api}/api/permissions/{vhost}/{user}", json=rights[f"beat-{identity}"], timeout=5
        ).raise_for_status()
        made[identity] = (user, password)
    yield made
    for user, _ in made.values():
        requests.delete(f"{api}/api/users/{user}", timeout=5)


def amqp_uri(rabbit_config: dict[str, Any], user: str, password: str) -> str:
    host = urlsplit(rabbit_config["AMQP_URI"]).netloc.rsplit("@", 1)[-1]
    return f"amqp://{user}:{password}@{host}/{rabbit_config['vhost']}"


@pytest.fixture
def platform(container_factory, rabbit_config, database, smtp_sink, identities) -> Any:
    """tests/test_flows.py's platform, each service connecting as its own least-privilege user."""
    urls, databases = {}, {}
    for name in flows.SERVICES:
        databases[name] = database(name)
        upgrade(name, databases[name])
        demo = importlib.import_module(f"{name}.demo")
        engine = make_engine(databases[name], pool_size=1)
        with unit_of_work(engine) as session:
            demo.seed(session)
        engine.dispose()
        urls[name] = f"http://127.0.0.1:{free_port()}"
    overrides = {
        "BEAT_QUEUE_TYPE": "quorum",  # as in production, where the policies' quorum-only keys apply
        "BEAT_RETRY_DELAYS": "0.2,0.5",
        "BEAT_OUTBOX_POLL_SECONDS": "0.2",
        "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "NOTIFICATIONS_SMTP_PORT": str(smtp_sink.port),
        "NOTIFICATIONS_DISPATCH_SECONDS": "0.2",
        "NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE": "true",
        "NOTIFICATIONS_WEBHOOK_REQUIRE_HTTPS": "false",
        "REFERRALS_WEBHOOKS_ALLOW_HTTP": "true",
        "NOTIFICATIONS_PORTAL_URL": urls["concerns"],
        **{f"{name.upper()}_DATABASE_URL": databases[name] for name in flows.SERVICES},
        **{f"{name.upper()}_PUBLIC_URL": urls[name] for name in flows.SERVICES},
    }
    for name, cls in flows.SERVICES.items():
        own = {"AMQP_URI": amqp_uri(rabbit_config, *identities[name])}
        config = service_config(name, {**overrides, **own, "WEB_SERVER_ADDRESS": urls[name].removeprefix("http://")})
        container_factory(cls, config).start()  # declaring its exchanges, queues and bindings as itself
    return flows.Platform(urls, databases)


def test_a_resolved_concern_reaches_the_resident_and_the_survey_with_least_privilege(platform, smtp_sink):
    flows.test_a_resolved_concern_reaches_the_resident_the_survey_and_the_report_card(platform, smtp_sink)


def test_a_consented_referral_reaches_the_agency_webhook_with_least_privilege(platform, tmp_path):
    flows.test_a_consented_referral_reaches_the_agency_webhook_signed(platform, tmp_path)


def channel_of(rabbit_config: dict[str, Any], user: str, password: str) -> tuple[amqp.Connection, Any]:
    connection = amqp.Connection("127.0.0.1:5672", userid=user, password=password, virtual_host=rabbit_config["vhost"])
    connection.connect()
    return connection, connection.channel()


def test_the_broker_refuses_what_an_identity_has_no_right_to(rabbit_config, identities):
    user, password = identities["notifications"]
    refused = {
        "read concerns' RPC queue": lambda ch: (
            ch.queue_declare("rpc-concerns", durable=True),
            ch.basic_get("rpc-concerns"),
        ),
        "declare an agency's queue": lambda ch: ch.queue_declare("agency.agency-x", durable=True),
        "publish as concerns": lambda ch: (
            ch.confirm_select(),
            ch.basic_publish_confirm(amqp.Message("x"), "concerns.events", "beat.concern.submitted"),
        ),
        "read the broker's dead letters": lambda ch: ch.basic_get("beat.dead-letters"),
    }
    for action, attempt in refused.items():
        connection, channel = channel_of(rabbit_config, user, password)
        try:
            with pytest.raises(amqp.exceptions.AccessRefused):
                attempt(channel)
        except AssertionError as failure:
            raise AssertionError(f"notifications could {action}") from failure
        finally:
            connection.collect()
    connection, channel = channel_of(rabbit_config, *identities["web"])
    try:
        with pytest.raises(amqp.exceptions.AccessRefused):
            channel.queue_declare("anything", durable=True)
    finally:
        connection.collect()


def test_keda_reads_queue_lengths_and_web_connects(rabbit_config, identities, api):
    vhost = rabbit_config["vhost"]
    with Connection(rabbit_config["AMQP_URI"], transport_options={"confirm_publish": True}) as connection:
        Producer(connection).publish({"waiting": True}, exchange="", routing_key="beat.unrouted")
    base = urlsplit(api)

    def unrouted_length_as_keda_reads_it() -> int | None:
        answer = requests.get(
            f"{base.scheme}://{base.hostname}:{base.port}/api/queues/{vhost}",
            # as KEDA's rabbitmq scaler asks with useRegex: one page, the name a regex
            params={"page": 1, "page_size": 100, "use_regex": "true", "name": "^beat\\.unrouted$"},
            auth=identities["keda"],
            timeout=5,
        )
        assert answer.status_code == 200, answer.text
        [queue] = answer.json()["items"]
        return queue.get("messages")  # the broker's statistics arrive every few seconds

    assert wait_for(unrouted_length_as_keda_reads_it, timeout=30, message="queue length read by KEDA's user") == 1
    connection, _ = channel_of(rabbit_config, *identities["web"])
    connection.close()
