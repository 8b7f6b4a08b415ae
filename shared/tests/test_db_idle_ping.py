"""make_engine pings a pooled PostgreSQL connection only after it sat idle: a dead idle connection
is replaced unseen, a connection used a moment ago is not pinged (no round trip per checkout).
A request that meets a dead connection anyway is answered 503 with Retry-After."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import psycopg2
import pytest
import sqlalchemy.exc
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from beat_shared.db import make_engine
from beat_shared.http import response_for_exception
from beat_shared.testing import POSTGRES_ADMIN_URL


@pytest.fixture
def url(postgres_database: Callable[[str], str]) -> str:
    return postgres_database("idleping")


@pytest.fixture
def pings() -> list[int]:
    return []


def engine_counting_pings(url: str, pings: list[int], after: float) -> Engine:
    engine = make_engine(url, pool_size=1, ping_after_idle=after)
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return engine


@pytest.fixture
def make(url: str, pings: list[int]) -> Iterator[Callable[[float], Engine]]:
    made: list[Engine] = []

    def build(after: float) -> Engine:
        made.append(engine_counting_pings(url, pings, after))
        return made[-1]

    yield build
    for engine in made:
        engine.dispose()


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(pid: int) -> None:
    """What a PostgreSQL restart does to a pooled connection, done to one (waiting until it is gone)."""
    admin = psycopg2.connect(POSTGRES_ADMIN_URL)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
        assert cursor.fetchone() == (True,)
    admin.close()


def test_a_connection_used_a_moment_ago_is_not_pinged(make, pings):
    engine = make(60)
    first = backend_pid(engine)
    for _ in range(5):
        assert backend_pid(engine) == first  # the same pooled connection, every time
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced_before_use(make, pings):
    engine = make(0)  # every connection back in the pool counts as idle
    first = backend_pid(engine)
    assert backend_pid(engine) == first and len(pings) == 1  # pinged, alive, kept
    terminate(first)
    replaced = backend_pid(engine)  # no error: the ping found it dead and the pool made a new one
    assert replaced != first and len(pings) == 2


def test_a_connection_that_died_within_the_idle_time_fails_once_then_the_pool_recovers(make, pings):
    engine = make(60)
    first = backend_pid(engine)
    terminate(first)
    with pytest.raises(OperationalError) as failed:
        backend_pid(engine)
    assert failed.value.connection_invalidated
    assert backend_pid(engine) != first and pings == []


def test_a_request_that_meets_a_dead_database_gets_a_503_to_retry(make):
    engine = make(60)
    first = backend_pid(engine)
    terminate(first)
    with pytest.raises(OperationalError) as failed:
        backend_pid(engine)
    response = response_for_exception(failed.value)
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert json.loads(response.get_data())["error"]["code"] == "database_unavailable"
    assert str(first) not in response.get_data(as_text=True)  # the driver's message stays in the log


def test_a_full_pool_is_a_503_too_and_other_errors_stay_500():
    assert response_for_exception(sqlalchemy.exc.TimeoutError("QueuePool limit reached")).status_code == 503
    assert response_for_exception(RuntimeError("a bug")).status_code == 500
