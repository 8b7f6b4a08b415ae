"""`beat agency provision|remove` creates and removes an agency's own broker user and queue."""

import os
import subprocess
import sys

import requests


def beat(*args, amqp_uri):
    return subprocess.run(
        [sys.executable, "-m", "beat_shared.cli", *args],
        env={**os.environ, "AMQP_URI": amqp_uri, "BEAT_QUEUE_TYPE": "quorum"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_agency_provision_and_remove(rabbit_config, rabbit_manager):
    api = "http://guest:guest@127.0.0.1:15672/api"
    provisioned = beat("agency", "provision", "agency-cli-test", amqp_uri=rabbit_config["AMQP_URI"])
    assert provisioned.returncode == 0, provisioned.stderr
    assert "queue:    agency.agency-cli-test" in provisioned.stdout
    vhost = rabbit_config["vhost"]
    user = f"{vhost}.agency-cli-test"  # namespaced by the deployment's vhost: users are broker-wide
    assert f"user:     {user}" in provisioned.stdout
    assert requests.get(f"{api}/users/{user}", timeout=10).status_code == 200
    queue = requests.get(f"{api}/queues/{vhost}/agency.agency-cli-test", timeout=10)
    assert queue.status_code == 200
    assert queue.json()["type"] == "quorum"  # BEAT_QUEUE_TYPE, so the production policy applies

    removed = beat("agency", "remove", "agency-cli-test", amqp_uri=rabbit_config["AMQP_URI"])
    assert removed.returncode == 0, removed.stderr
    assert requests.get(f"{api}/users/{user}", timeout=10).status_code == 404


def test_agency_credentials_name_the_tls_port_agencies_use_in_production(rabbit_config, rabbit_manager):
    """With --tls the printed URI is amqps on 5671 (the Service beat-rabbitmq-agencies), whatever AMQP_URI says."""
    provisioned = beat(
        "agency",
        "provision",
        "agency-cli-tls",
        "--amqp-host",
        "amqp.city.invalid",
        "--tls",
        amqp_uri=rabbit_config["AMQP_URI"],
    )
    try:
        assert provisioned.returncode == 0, provisioned.stderr
        [uri] = [line.split()[1] for line in provisioned.stdout.splitlines() if line.startswith("uri:")]
        assert uri.startswith("amqps://") and f"@amqp.city.invalid:5671/{rabbit_config['vhost']}" in uri
    finally:
        beat("agency", "remove", "agency-cli-tls", amqp_uri=rabbit_config["AMQP_URI"])
