"""Fixtures for the surveys service's tests: a migrated database (SQLite and PostgreSQL), the running
service (with a frozen clock), a notifications stand-in, and small helpers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from kombu import Connection, Producer
from nameko.extensions import Entrypoint
from nameko.rpc import rpc
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_extension
from sqlalchemy import Executable, inspect, text

from beat_shared.amqp import event_exchange
from beat_shared.auth import mint_token
from beat_shared.clock import FrozenClock
from beat_shared.config import env
from beat_shared.contracts import new_event
from beat_shared.db import make_engine, settle_unit_of_work, unit_of_work
from surveys.service import SurveysService
from surveys.totals import rebuild_totals

DEMO_DAY = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)

SUBSCRIBERS_PER_BEAT = 3
TOTALS = (
    "SELECT survey_code, grouping, group_code, period, channel, measure, code, answered, n, total, squares, "
    "favourable FROM result_totals ORDER BY survey_code, grouping, group_code, period, channel, measure, code"
)


class NotificationsStandIn:
    """The agreed RPC of notifications, until the real service implements it:
    `beat_subscribers(beat_code) -> [recipient_ref]`."""

    name = "notifications"

    @rpc
    def beat_subscribers(self, beat_code: str) -> list[str]:
        return [f"subscriber-{beat_code}-{index}" for index in range(SUBSCRIBERS_PER_BEAT)]


class Helpers:
    def __init__(self, url: str, amqp_uri: str, clock: FrozenClock) -> None:
        self.url = url
        self.amqp_uri = amqp_uri
        self.clock = clock
        self.engine = make_engine(url, pool_size=2)

    def headers(self, role: str = "admin", subject: str = "analyst-1") -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(role, subject, env('BEAT_JWT_SECRET'))}"}

    def rows(self, statement: str | Executable, **params: Any) -> list[dict[str, Any]]:
        """Rows of plain SQL, or of a statement on the models' tables (typed: booleans are booleans on SQLite too)."""
        with self.engine.connect() as connection:
            result = [dict(row._mapping) for row in connection.execute(_statement(statement), params)]
            connection.rollback()
            return result

    def scalar(self, statement: str | Executable, **params: Any) -> Any:
        with self.engine.connect() as connection:
            value = connection.execute(_statement(statement), params).scalar()
            connection.rollback()
            return value

    def columns(self, *tables: str) -> set[str]:
        """The column names of these tables, as the database has them (on SQLite and PostgreSQL)."""
        schema = inspect(self.engine)
        return {column["name"] for table in tables for column in schema.get_columns(table)}

    def seed_demo(self) -> None:
        """The demo as loaded on DEMO_DAY: quarters 2025-Q2 to 2026-Q1, which the tests name."""
        from surveys import demo

        with unit_of_work(self.engine) as session:
            demo.seed(session, DEMO_DAY)

    def publish(self, event_type: str, subject: str, data: dict[str, Any], source: str = "concerns") -> str:
        """A real CloudEvent on another service's exchange, as its outbox relay would publish it."""
        event = new_event(event_type, subject, data)
        with Connection(self.amqp_uri, transport_options={"confirm_publish": True}) as connection:
            Producer(connection).publish(
                json.dumps(event.to_dict()),
                exchange=event_exchange(source),
                routing_key=event_type,
                content_type="application/cloudevents+json",
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=event.id,
            )
        return event.id

    def totals(self, url: str | None = None) -> list[dict[str, Any]]:
        """Every running-totals row, float sums rounded (added in another order they differ in the last bits)."""
        engine = make_engine(url or self.url, pool_size=1)
        with engine.connect() as connection:
            rows = [dict(row._mapping) for row in connection.execute(text(TOTALS))]
        engine.dispose()
        return [{**row, "total": round(row["total"], 6), "squares": round(row["squares"], 4)} for row in rows]

    def recounted(self) -> list[dict[str, Any]]:
        """The totals rebuilt from the stored responses."""
        with unit_of_work(self.engine) as session:
            rebuild_totals(session)
        return self.totals()

    def outbox(self, event_type: str) -> list[dict[str, Any]]:
        rows = self.rows("SELECT body FROM outbox WHERE event_type = :t ORDER BY id", t=event_type)
        return [json.loads(row["body"]) for row in rows]


def _statement(statement: str | Executable) -> Executable:
    return text(statement) if isinstance(statement, str) else statement


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 2, 2, 10, 0, tzinfo=UTC))


@pytest.fixture
def surveys_db(migrated_database) -> str:
    url = migrated_database("surveys")
    return url


@pytest.fixture
def surveys(container_factory, beat_config, surveys_db, clock):
    config = beat_config("surveys", SURVEYS_DATABASE_URL=surveys_db, BEAT_CLOCK=clock, SURVEYS_MIN_CELL="30")
    container = container_factory(SurveysService, config)
    container.start()
    return container


@pytest.fixture
def notifications(container_factory, beat_config):
    container = container_factory(NotificationsStandIn, beat_config("notifications"))
    container.start()
    return container


@pytest.fixture
def helpers(surveys_db, rabbit_config, clock):
    helper = Helpers(surveys_db, rabbit_config["AMQP_URI"], clock)
    yield helper
    helper.engine.dispose()


def run_transactional(container, method_name: str, *args: Any) -> Any:
    """Run an entrypoint the way it runs for real, settling its transaction.

    nameko's `entrypoint_hook` spawns the worker without the entrypoint's own
    `handle_result`, so Beat's rpc/timer entrypoints would never commit under it.
    """
    entrypoint = get_extension(container, Entrypoint, method_name=method_name)

    def settle(worker_ctx, result, exc_info):
        return result, settle_unit_of_work(worker_ctx, exc_info)

    with entrypoint_waiter(container, method_name) as waiter:
        container.spawn_worker(entrypoint, args, {}, handle_result=settle)
    return waiter.get()


@pytest.fixture
def run_entrypoint():
    return run_transactional
