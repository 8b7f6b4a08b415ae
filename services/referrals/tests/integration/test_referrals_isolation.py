"""Two provisioned agencies on a throw-away vhost: the broker itself keeps them apart."""

from __future__ import annotations

import importlib.util
import json
import uuid
from pathlib import Path

import amqp
import pytest
from referrals_testkit import FOOD_BANK, FOOD_BANK_USER, OFFICER, PANTRY, SAFE_HAVEN, SAFE_HAVEN_USER, consent

from beat_shared.testing import wait_for
from referrals import provisioning
from referrals.provisioning import FEED_EXCHANGE, provision_agency

RABBIT_API = "http://guest:guest@127.0.0.1:15672"


@pytest.fixture
def provisioned(rabbit_config):
    """Provision both demo agencies on the test's vhost; their users are deleted afterwards."""
    vhost = rabbit_config["vhost"]
    credentials = {}
    try:
        for agency_id in (FOOD_BANK, SAFE_HAVEN):
            credentials[agency_id] = provision_agency(RABBIT_API, vhost, agency_id)
        yield credentials
    finally:
        for agency_id in (FOOD_BANK, SAFE_HAVEN):
            provisioning.deprovision_agency(RABBIT_API, vhost, agency_id, delete_queue=False)


def subscriber():
    """The agency subscriber example published for agencies (examples/agency-subscriber/)."""
    path = Path(__file__).parents[4] / "examples" / "agency-subscriber" / "subscriber.py"
    spec = importlib.util.spec_from_file_location("agency_subscriber_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def connect(credentials) -> amqp.Connection:
    connection = amqp.Connection(
        host="127.0.0.1:5672",
        userid=credentials.username,
        password=credentials.password,
        virtual_host=credentials.vhost,
        connect_timeout=5,
    )
    connection.connect()
    return connection


def _text(body) -> str:
    return body.decode() if isinstance(body, bytes) else body


def refused(action) -> bool:
    """True when the broker answers the action with ACCESS_REFUSED (403)."""
    try:
        action()
    except amqp.exceptions.AccessRefused:
        return True
    return False


def send_to(web_session, service_id: str) -> str:
    body = {
        "service_id": service_id,
        "need_category": "food" if service_id == PANTRY else "domestic_violence",
        "client": {"name": "Sam Doe", "phone": "+1 555 0100 777"},
        "consent": consent(),
    }
    referral = web_session.post("/referrals", json=body, headers=OFFICER).json()
    response = web_session.post(f"/referrals/{referral['id']}/send", headers=OFFICER)
    assert response.status_code == 200, response.text
    return referral["id"]


def test_each_agency_reads_only_its_own_feed(referrals, provisioned, web_session, tmp_path):
    shelter = web_session.get("/services?search=Emergency shelter").json()["contents"][0]["id"]
    food_referral = send_to(web_session, PANTRY)
    shelter_referral = send_to(web_session, shelter)
    food, haven = provisioned[FOOD_BANK], provisioned[SAFE_HAVEN]
    assert food.queue == f"agency.{FOOD_BANK}" and food.password != haven.password

    connection = connect(food)
    try:
        channel = connection.channel()

        # A's user receives A's referral from `sent` on (never the draft's `created`), and only A's.
        def own_events():
            events = []
            while (message := channel.basic_get(food.queue, no_ack=True)) is not None:
                events.append(message)
            return events

        received = []
        wait_for(lambda: received.extend(own_events()) or received, message="the food bank's event")
        received.extend(own_events())  # `created` was published before `sent`: it would be here by now
        bodies = [json.loads(message.body) for message in received]
        assert [body["type"] for body in bodies] == ["beat.referral.sent"]
        assert {body["data"]["referral_id"] for body in bodies} == {food_referral}
        assert all(message.headers["x-agency-id"] == FOOD_BANK for message in received)
        assert all("Sam Doe" not in _text(message.body) for message in received)
        sent = next(body for body in bodies if body["type"] == "beat.referral.sent")
        assert sent["data"]["details_url"].endswith(f"/referrals/{food_referral}")

        # ... but not B's queue, and it cannot declare, bind or publish.
        assert refused(lambda: connection.channel().basic_get(haven.queue, no_ack=True))
        assert refused(lambda: connection.channel().queue_declare(f"agency.sneaky-{uuid.uuid4().hex[:6]}"))
        assert refused(
            lambda: connection.channel().queue_bind(food.queue, FEED_EXCHANGE, arguments={"x-agency-id": SAFE_HAVEN})
        )
        assert refused(lambda: connection.channel().exchange_declare("agency-own", "fanout"))

        def publish() -> None:
            publisher = connection.channel()
            publisher.confirm_select()
            publisher.basic_publish_confirm(
                amqp.Message("{}", application_headers={"x-agency-id": SAFE_HAVEN}),
                exchange="referrals.events",
                routing_key="beat.referral.sent",
            )

        assert refused(publish)
    finally:
        connection.collect()

    # B's user sees B's events, none of A's, through the documented example subscriber (pika).
    example = subscriber()
    record = tmp_path / "received.jsonl"
    assert example.run(haven.amqp_uri, haven.queue, None, example.Recorder(record), max_events=1) == 1
    collected = [json.loads(line) for line in record.read_text().splitlines()]
    assert {event["data"]["agency_id"] for event in collected} == {SAFE_HAVEN}
    assert {event["data"]["referral_id"] for event in collected} == {shelter_referral}

    # Over HTTP too: A's token gets 404 for B's referral.
    assert web_session.get(f"/referrals/{shelter_referral}", headers=FOOD_BANK_USER).status_code == 404
    assert web_session.get(f"/referrals/{food_referral}", headers=SAFE_HAVEN_USER).status_code == 404
    assert web_session.get(f"/referrals/{food_referral}", headers=FOOD_BANK_USER).status_code == 200


def test_provisioning_twice_issues_a_new_password_and_keeps_one_binding(rabbit_config):
    vhost = rabbit_config["vhost"]
    agency_id = f"agency-isolation-{uuid.uuid4().hex[:8]}"
    try:
        first = provision_agency(RABBIT_API, vhost, agency_id)
        second = provision_agency(RABBIT_API, vhost, agency_id)
        assert first.password != second.password
        api = provisioning.ManagementApi(RABBIT_API)
        bindings = api.call("GET", f"bindings/{provisioning._q(vhost)}/e/{FEED_EXCHANGE}/q/agency.{agency_id}").json()
        assert len(bindings) == 1 and bindings[0]["arguments"]["x-agency-id"] == agency_id
        permissions = api.call("GET", f"permissions/{provisioning._q(vhost)}/{provisioning._q(second.username)}").json()
        assert (permissions["configure"], permissions["write"]) == ("^$", "^$")
        with pytest.raises(amqp.exceptions.AccessRefused):
            connect(first)  # the old password no longer works
        connect(second).collect()
    finally:
        provisioning.deprovision_agency(RABBIT_API, vhost, agency_id)
    with pytest.raises(provisioning.ProvisioningFailed):
        provision_agency(RABBIT_API, vhost, "Robert'); DROP TABLE")


def test_cli_main_prints_credentials_and_removes(rabbit_config, monkeypatch, capsys):
    vhost = rabbit_config["vhost"]
    agency_id = f"agency-cli-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("AMQP_URI", rabbit_config["AMQP_URI"])
    try:
        assert provisioning.main([agency_id]) == 0
        printed = capsys.readouterr().out
        assert f"queue:    agency.{agency_id}" in printed and f"vhost:    {vhost}" in printed
    finally:
        assert provisioning.main([agency_id, "--remove"]) == 0
    assert provisioning.main(["not an agency"]) == 2
