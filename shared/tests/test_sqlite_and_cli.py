"""The embedded SQLite default under concurrent writers, and the CLI's failure messages."""

import os
import subprocess
import sys

import eventlet
import pytest
from sqlalchemy import text

from beat_shared.auth import TokenVerifier
from beat_shared.config import UnsafeConfiguration, check_production_settings, env
from beat_shared.db import make_engine
from beat_shared.testing import wait_for
from shared_sample import LedgerBase, LedgerService


def test_sqlite_takes_concurrent_writers_without_locking_errors(container_factory, beat_config, tmp_path, web_session):
    url = f"sqlite:///{tmp_path}/ledger.db"
    engine = make_engine(url)
    LedgerBase.metadata.create_all(engine)
    container = container_factory(LedgerService, beat_config("ledger", LEDGER_DATABASE_URL=url))
    container.start()

    def submit(sequence):
        return web_session.post("/entries", json={"subject": f"s{sequence % 3}", "sequence": sequence}).status_code

    statuses = list(eventlet.GreenPool(20).imap(submit, range(60)))
    assert statuses == [201] * 60
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("SELECT count(*) FROM entries")).scalar() == 60

    def all_published():
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL")).scalar() == 0

    wait_for(all_published, message="relay drained the SQLite outbox")
    engine.dispose()


def beat(*args, **environment):
    return subprocess.run(
        [sys.executable, "-m", "beat_shared.cli", *args],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_explains_an_unreachable_broker():
    result = beat("dlq", "list", AMQP_URI="amqp://guest:secret@127.0.0.1:1/")
    assert result.returncode == 2
    assert "cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:1/" in result.stderr
    assert "rabbitmq-server -detached" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_explains_an_unreachable_database():
    result = beat("migrate", "concerns", CONCERNS_DATABASE_URL="postgresql://beat:pw@127.0.0.1:1/nowhere")
    assert result.returncode == 2
    assert "cannot reach the concerns database at postgresql://beat:***@127.0.0.1:1/nowhere" in result.stderr
    assert "CONCERNS_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_refuses_unknown_services():
    result = beat("migrate", "parking")
    assert result.returncode == 2
    assert "unknown service(s) parking" in result.stderr


def test_cli_mints_development_tokens_the_services_accept():
    result = beat("token", "--role", "agency", "--agency-id", "agency-x", "--subject", "agent-1")
    assert result.returncode == 0, result.stderr
    principal = TokenVerifier("HS256", env("BEAT_JWT_SECRET")).verify(result.stdout.strip())
    assert (principal.role, principal.agency_id, principal.subject) == ("agency", "agency-x", "agent-1")


def test_cli_refuses_an_agency_token_without_its_agency():
    result = beat("token", "--role", "agency", "--subject", "agent-1")
    assert result.returncode == 2 and result.stdout == ""
    assert "--agency-id" in result.stderr and "Traceback" not in result.stderr


def test_cli_outbox_status_reports_each_service(tmp_path):
    urls = {f"{s.upper()}_DATABASE_URL": f"sqlite:///{tmp_path}/{s}.db" for s in ("concerns", "referrals")}
    urls |= {f"{s.upper()}_DATABASE_URL": f"sqlite:///{tmp_path}/{s}.db" for s in ("notifications", "surveys")}
    assert beat("migrate", **urls).returncode == 0
    result = beat("outbox", "status", **urls)
    assert result.returncode == 0, result.stderr
    assert "concerns: 0 unpublished event(s)" in result.stdout
    wait_for(lambda: "surveys" in result.stdout)


def test_production_refuses_development_secrets():
    check_production_settings({})  # development: defaults are fine
    with pytest.raises(UnsafeConfiguration, match="BEAT_JWT_SECRET"):
        check_production_settings({"BEAT_ENVIRONMENT": "production", "SURVEYS_TOKEN_SECRET": "s3cret-of-the-city"})
    check_production_settings(
        {
            "BEAT_ENVIRONMENT": "production",
            "BEAT_JWT_SECRET": "k" * 40,
            "SURVEYS_TOKEN_SECRET": "t" * 40,
            "NOTIFICATIONS_SIGNING_SECRET": "s" * 40,
            "CONCERNS_OPEN311_API_KEYS": "o" * 40,
        }
    )


def test_a_service_in_production_needs_only_the_secrets_it_reads():
    """concerns' pod is given no surveys or notifications secret (deploy/k8s): it must still start."""
    platform_only = {"BEAT_ENVIRONMENT": "production", "BEAT_JWT_SECRET": "k" * 40}
    check_production_settings({**platform_only, "CONCERNS_OPEN311_API_KEYS": "o" * 40}, "concerns")
    check_production_settings(platform_only, "referrals")
    with pytest.raises(UnsafeConfiguration, match="SURVEYS_TOKEN_SECRET"):
        check_production_settings(platform_only, "surveys")
    with pytest.raises(UnsafeConfiguration, match="NOTIFICATIONS_SIGNING_SECRET"):
        check_production_settings(platform_only, "notifications")


def test_a_service_will_not_start_in_production_with_development_secrets(container_factory, beat_config, tmp_path):
    config = beat_config("ledger", LEDGER_DATABASE_URL=f"sqlite:///{tmp_path}/l.db", BEAT_ENVIRONMENT="production")
    with pytest.raises(UnsafeConfiguration):
        container_factory(LedgerService, config).start()


def test_beat_serve_stops_once_and_in_time_however_many_signals_arrive(tmp_path):
    """Kubernetes sends SIGTERM; impatient operators send it again. The service exits cleanly."""
    import signal as signals

    from beat_shared.testing import free_port

    port = free_port()
    environment = {
        **os.environ,
        "CONCERNS_DATABASE_URL": f"sqlite:///{tmp_path}/concerns.db",
        "CONCERNS_HTTP_ADDRESS": f"127.0.0.1:{port}",
        "BEAT_SHUTDOWN_SECONDS": "5",
    }
    assert beat("migrate", "concerns", **environment).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "beat_shared.cli", "serve", "concerns"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), timeout=30, message="service up")
        for _ in range(3):
            process.send_signal(signals.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()


def _answers(url):
    import requests

    try:
        return requests.get(url, timeout=1).ok
    except requests.RequestException:
        return False
