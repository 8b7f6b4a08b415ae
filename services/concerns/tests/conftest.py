"""Fixtures of the concerns service's tests: a migrated database (SQLite and PostgreSQL) with Riverton's
reference data, the running service on a throw-away vhost, tokens, and an event spy."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from beat_shared.clock import FrozenClock
from beat_shared.db import make_engine
from beat_shared.outbox import Outbox
from concerns.demo import seed_reference
from concerns.service import ConcernsService

# The helpers module beside this file (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))

from concerns_testkit import START, EventSpy, concern_body, officer


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def concerns_db(migrated_database, clock) -> str:
    now = clock.now()
    return migrated_database("concerns", (f"reference data at {now.isoformat()}", lambda s: seed_reference(s, now)))


@pytest.fixture
def db_count(concerns_db):
    """`db_count("concerns")`: rows in a table of the service's database (to prove nothing was stored)."""
    engine = make_engine(concerns_db, pool_size=1)

    def count(table: str, where: str = "") -> int:
        from sqlalchemy import text

        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {table} {where}")).scalar_one())

    yield count
    engine.dispose()


@pytest.fixture
def make_service(concerns_db, container_factory, beat_config, clock):
    started = []

    def start(**overrides):
        config = beat_config(
            "concerns", CONCERNS_DATABASE_URL=concerns_db, BEAT_CLOCK=clock, BEAT_OUTBOX_POLL_SECONDS="0.1", **overrides
        )
        container = container_factory(ConcernsService, config)
        container.start()
        started.append(container)
        return container

    yield start
    # nameko kills the containers after the vhost is gone (fast); their outbox relays must
    # stop before the test database is dropped under them.
    for container in started:
        for dependency in container.dependencies:
            if isinstance(dependency, Outbox):
                dependency.relay.stop()


@pytest.fixture
def service(make_service):
    return make_service()


@pytest.fixture
def events(rabbit_config, service):
    spy = EventSpy(rabbit_config["AMQP_URI"])
    yield spy
    spy.close()


@pytest.fixture
def submit(web_session, service):
    """Submit a concern over HTTP; returns the JSON answer (asserting 201)."""

    def post(headers: dict | None = None, **body_overrides):
        response = web_session.post("/concerns", json=concern_body(**body_overrides), headers=headers or {})
        assert response.status_code == 201, response.text
        return response.json()

    return post


@pytest.fixture
def move(web_session):
    """Move a concern through the workflow as `headers`; returns the response."""

    def transition(concern_id: str, status: str, version: int, headers: dict | None = None, **extra):
        return web_session.post(
            f"/concerns/{concern_id}/transitions",
            json={"status": status, "version": version, **extra},
            headers=headers if headers is not None else officer(),
        )

    return transition
