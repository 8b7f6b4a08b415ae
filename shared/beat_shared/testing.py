"""pytest fixtures for Beat's tests: a fresh PostgreSQL database per test, config, waiting.

Loaded by the root conftest (`pytest_plugins`). nameko's own plugin provides
`rabbit_config` (a throw-away vhost per test), `container_factory` and friends.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin

import psycopg2
import pytest
import requests

from beat_shared.config import service_config

POSTGRES_ADMIN_URL = os.environ.get("BEAT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05, message: str = "") -> Any:
    """Poll `condition` until it returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = condition()
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message or condition}")
        time.sleep(interval)


def _admin(statement: str) -> None:
    connection = psycopg2.connect(POSTGRES_ADMIN_URL)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@pytest.fixture
def postgres_database() -> Iterator[Callable[[str], str]]:
    """A factory of empty PostgreSQL databases, dropped after the test: `url = make("concerns")`."""
    created: list[str] = []

    def make(label: str = "db") -> str:
        name = f"beat_test_{label}_{uuid.uuid4().hex[:10]}"
        _admin(f'CREATE DATABASE "{name}"')
        created.append(name)
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    yield make
    for name in created:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def beat_config(rabbit_config: dict[str, Any], web_config: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """Config for a service under test: its own vhost, a free HTTP port, given overrides."""

    def build(service: str, **overrides: Any) -> dict[str, Any]:
        return service_config(
            service,
            {
                "AMQP_URI": rabbit_config["AMQP_URI"],
                "WEB_SERVER_ADDRESS": web_config["WEB_SERVER_ADDRESS"],
                "BEAT_RETRY_DELAYS": "0.05,0.1",
                "BEAT_OUTBOX_POLL_SECONDS": "0.2",
                **overrides,
            },
        )

    return build


@pytest.fixture
def web_session(web_config_port: int) -> Iterator[requests.Session]:
    """nameko's fixture imports werkzeug.urls.url_join, gone in Werkzeug 3 (see STACK.md)."""

    class WebSession(requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            return super().request(method, urljoin(f"http://127.0.0.1:{web_config_port}/", url), *args, **kwargs)

    with WebSession() as session:
        yield session
