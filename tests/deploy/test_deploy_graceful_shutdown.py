"""SIGTERM in the middle of a burst: the consumer stops, exits in its grace period, and after a
restart every event has been processed exactly once.

This is what Kubernetes does on every rollout and node drain (SIGTERM, then SIGKILL after
terminationGracePeriodSeconds). The service runs as a real separate process under `nameko run`,
as `beat serve` runs it in a pod; it is the shared library's sample consumer (`TallyService`),
because the real consumers use the same idempotent handler.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from kombu import Connection, Producer
from sqlalchemy import func, select, text

from beat_shared.amqp import event_exchange
from beat_shared.config import service_config
from beat_shared.contracts import new_event
from beat_shared.db import make_engine
from beat_shared.testing import wait_for
from shared_sample import Receipt, TallyBase

REPO = Path(__file__).resolve().parents[2]
QUEUE = "evt-ledger-beat.test.entry_recorded--tally.on_entry_recorded"
BURST = 300
# The Deployments give pods 90 s (deploy/k8s/base/*/deployment.yaml); a handler of this sample
# takes milliseconds, so a clean stop must be far quicker than that.
GRACE_SECONDS = 30


@pytest.fixture
def tally_database(postgres_database) -> str:
    url = postgres_database("tally")
    engine = make_engine(url, pool_size=1)
    TallyBase.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def tally_config_file(tmp_path, rabbit_config, tally_database) -> Path:
    config = service_config(
        "tally",
        {
            "AMQP_URI": rabbit_config["AMQP_URI"],
            "TALLY_DATABASE_URL": tally_database,
            "BEAT_RETRY_DELAYS": "0.05,0.1",
            "BEAT_LOG_FORMAT": "text",
            "max_workers": 10,
        },
    )
    path = tmp_path / "tally.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


class TallyProcess:
    """`python -m nameko run shared_sample:TallyService` as a child process, output to a file."""

    def __init__(self, config_file: Path, log_file: Path) -> None:
        self.config_file = config_file
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "shared" / "tests"), str(REPO)])}
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "nameko",
                    "run",
                    "--config",
                    str(self.config_file),
                    "shared_sample:TallyService",
                ],
                cwd=REPO / "shared" / "tests",
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop_hard(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log_file.read_text(errors="replace")


def queue_state(rabbit_config, rabbit_manager_url: str) -> dict:
    vhost = rabbit_config["AMQP_URI"].rsplit("/", 1)[-1]
    answer = requests.get(f"{rabbit_manager_url}/api/queues/{vhost}/{QUEUE}", timeout=5)
    return answer.json() if answer.ok else {}


def consumers(rabbit_config, rabbit_manager_url: str) -> int:
    return int(queue_state(rabbit_config, rabbit_manager_url).get("consumers") or 0)


def settled(rabbit_config, rabbit_manager_url: str) -> bool:
    state = queue_state(rabbit_config, rabbit_manager_url)
    return state.get("messages") == 0 and state.get("messages_unacknowledged") == 0


def receipt_count(url: str) -> tuple[int, int]:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        rows, distinct = connection.execute(
            select(func.count(Receipt.id), func.count(Receipt.event_id.distinct()))
        ).one()
    engine.dispose()
    return rows, distinct


def processed_count(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM processed_events")).scalar_one()
    engine.dispose()
    return count


@pytest.fixture
def rabbit_manager_url(request) -> str:
    return request.config.getoption("RABBIT_API_URI").rstrip("/")


def test_sigterm_mid_burst_loses_nothing_and_duplicates_nothing(
    tmp_path, rabbit_config, rabbit_manager_url, tally_config_file, tally_database
):
    tally = TallyProcess(tally_config_file, tmp_path / "tally.log")
    try:
        tally.start()
        wait_for(lambda: consumers(rabbit_config, rabbit_manager_url) > 0, timeout=30, message="tally consuming")

        events = [
            new_event("beat.test.entry_recorded", f"s{n % 17}", {"entry_id": n, "sequence": n}) for n in range(BURST)
        ]
        with Connection(rabbit_config["AMQP_URI"], transport_options={"confirm_publish": True}) as connection:
            producer = Producer(connection)
            for event in events:
                producer.publish(
                    event.to_dict(),
                    exchange=event_exchange("ledger"),
                    routing_key=event.type,
                    serializer="cloudevents",
                    delivery_mode=2,
                    message_id=event.id,
                )

        # SIGTERM while the burst is being worked through.
        wait_for(
            lambda: receipt_count(tally_database)[0] >= 20,
            timeout=20,
            interval=0.01,
            longest_interval=0.01,
            message="burst started",
        )
        assert tally.process is not None
        tally.process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        returncode = tally.process.wait(timeout=GRACE_SECONDS)
        stopped_after = time.monotonic() - signalled
        done_at_stop = receipt_count(tally_database)[0]

        assert returncode == 0, tally.output()
        assert stopped_after < GRACE_SECONDS
        assert done_at_stop < BURST, "the burst finished before SIGTERM; the test proved nothing"

        tally.start()
        wait_for(lambda: receipt_count(tally_database)[0] >= BURST, timeout=30, message="every event processed")
        wait_for(lambda: settled(rabbit_config, rabbit_manager_url), timeout=15, message="queue drained and acked")

        rows, distinct = receipt_count(tally_database)
        assert (rows, distinct) == (BURST, BURST), tally.output()
        assert processed_count(tally_database) == BURST
        assert "Traceback" not in tally.output()
    finally:
        tally.stop_hard()
