"""Fixtures for the referrals service's tests: a migrated database (SQLite and PostgreSQL) with the demo
directory, the service on a throw-away vhost with a frozen clock, and an event spy."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # for `import referrals_testkit` (unique name)

from referrals_testkit import START, EventSpy

from beat_shared.clock import FrozenClock
from beat_shared.db import make_engine, unit_of_work
from referrals import demo
from referrals.service import ReferralsService


@pytest.fixture
def referrals_db(migrated_database) -> str:
    url = migrated_database("referrals")
    engine = make_engine(url, pool_size=1)
    with unit_of_work(engine) as session:
        demo.seed_directory(session)  # the directory; tests make their own referrals
    engine.dispose()
    return url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def referrals_config(beat_config, referrals_db, clock) -> dict[str, Any]:
    return beat_config(
        "referrals",
        REFERRALS_DATABASE_URL=referrals_db,
        BEAT_CLOCK=clock,
        REFERRALS_PUBLIC_URL="https://referrals.beat.test",
        REFERRALS_RESPONSE_HOURS="48",
        REFERRALS_REMINDER_HOURS="24",
        REFERRALS_RETENTION_DAYS="30",
        REFERRALS_WEBHOOKS_ALLOW_HTTP="false",
    )


@pytest.fixture
def referrals(container_factory, referrals_config):
    container = container_factory(ReferralsService, referrals_config)
    container.start()
    return container


@pytest.fixture
def db_session(referrals_db):
    """Read the service's database directly (to prove what was or was not stored)."""
    engine = make_engine(referrals_db, pool_size=1)

    def run(sql: str, **params: Any) -> list[Any]:
        from sqlalchemy import text

        with engine.connect() as connection:
            rows = list(connection.execute(text(sql), params))
            connection.rollback()
        return rows

    yield run
    engine.dispose()


@pytest.fixture
def spy(rabbit_config):
    collector = EventSpy(rabbit_config["AMQP_URI"])
    yield collector
    collector.connection.release()
