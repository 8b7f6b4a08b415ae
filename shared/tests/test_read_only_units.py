"""Read-only units of work read without a transaction on PostgreSQL and refuse to write.

`@rpc(read_only=True)` methods, the inbox's duplicate check and `Database.reading()` use them:
no BEGIN and no ROLLBACK round trip per call. In autocommit each statement would commit on its
own, so a write there would not be atomic: the session refuses it instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from beat_shared.db import WriteWhileReading, make_engine, reader_sessions
from beat_shared.entrypoints import rpc
from shared_sample import Entry, LedgerBase, LedgerService


@pytest.fixture
def postgres_engine(postgres_database: Callable[[str], str]) -> Iterator[Engine]:
    engine = make_engine(postgres_database("readonly"), pool_size=2)
    LedgerBase.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'readonly.db'}")
    LedgerBase.metadata.create_all(engine)
    yield engine
    engine.dispose()


def two_clock_reads(session: Session) -> tuple[object, object]:
    """PostgreSQL's now() is the start of the current transaction: equal within one."""
    return session.scalar(select(func.now())), session.scalar(select(func.now()))


def stored_entries(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(Entry.subject).order_by(Entry.id)))


def test_a_reader_session_runs_each_statement_on_its_own_on_postgresql(postgres_engine: Engine) -> None:
    with reader_sessions(postgres_engine)() as reader:
        first, second = two_clock_reads(reader)
        assert first != second  # no transaction around them
    with sessionmaker(postgres_engine)() as writer:
        first, second = two_clock_reads(writer)
        assert first == second  # the ordinary session: one transaction


def test_a_connection_back_from_a_reader_session_has_its_transactions_again(
    postgres_database: Callable[[str], str],
) -> None:
    engine = make_engine(postgres_database("readonlypool"), pool_size=1)  # one connection, reused
    LedgerBase.metadata.create_all(engine)
    try:
        with reader_sessions(engine)() as reader:
            two_clock_reads(reader)
        with sessionmaker(engine)() as writer:
            first, second = two_clock_reads(writer)
            assert first == second
            writer.add(Entry(subject="rolled back", sequence=1))
            writer.flush()
            writer.rollback()
        assert stored_entries(engine) == []
    finally:
        engine.dispose()


def test_a_reader_session_reads_what_is_committed(postgres_engine: Engine) -> None:
    with Session(postgres_engine) as writer, writer.begin():
        writer.add(Entry(subject="committed", sequence=1))
    with reader_sessions(postgres_engine)() as reader:
        assert list(reader.scalars(select(Entry.subject))) == ["committed"]


@pytest.mark.parametrize("engine_name", ["postgres_engine", "sqlite_engine"])
def test_a_reader_session_refuses_to_flush_changes(engine_name: str, request: pytest.FixtureRequest) -> None:
    engine: Engine = request.getfixturevalue(engine_name)
    with reader_sessions(engine)() as reader:
        reader.add(Entry(subject="sneaked in", sequence=1))
        with pytest.raises(WriteWhileReading, match="flush"):
            reader.flush()
    assert stored_entries(engine) == []


@pytest.mark.parametrize("engine_name", ["postgres_engine", "sqlite_engine"])
def test_a_reader_session_refuses_statements_that_write(engine_name: str, request: pytest.FixtureRequest) -> None:
    engine: Engine = request.getfixturevalue(engine_name)
    with reader_sessions(engine)() as reader, pytest.raises(WriteWhileReading, match="Insert"):
        reader.execute(insert(Entry).values(subject="sneaked in", sequence=1))
    assert stored_entries(engine) == []


def test_reads_work_on_sqlite_too(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as writer, writer.begin():
        writer.add(Entry(subject="on sqlite", sequence=1))
    with reader_sessions(sqlite_engine)() as reader:
        assert list(reader.scalars(select(Entry.subject))) == ["on sqlite"]


def test_on_sqlite_a_reader_reads_the_last_commit_without_waiting_for_an_open_writer(tmp_path: Path) -> None:
    """A read never queues behind a writer (issue 21): in the same process the writer holds the
    green writer lock, in another (a second engine, as `beat outbox status` is) SQLite's file lock."""
    url = f"sqlite:///{tmp_path / 'readers.db'}"
    engine, other_process = make_engine(url), make_engine(url)
    LedgerBase.metadata.create_all(engine)
    try:
        with Session(engine) as writer, writer.begin():
            writer.add(Entry(subject="committed", sequence=1))
        for writing_engine in (engine, other_process):
            with Session(writing_engine) as writer, writer.begin():
                writer.add(Entry(subject="not yet committed", sequence=2))
                writer.flush()  # the writer's transaction is open and holds the locks
                started = time.monotonic()
                with reader_sessions(engine)() as reader:
                    assert list(reader.scalars(select(Entry.subject))) == ["committed"]
                assert time.monotonic() - started < 1
                writer.rollback()
    finally:
        engine.dispose()
        other_process.dispose()


class LedgerWithRpc(LedgerService):
    @rpc(read_only=True)
    def subjects(self) -> list[str]:
        return list(self.db.scalars(select(Entry.subject).order_by(Entry.id)))

    @rpc(read_only=True)
    def clock_reads(self) -> list[str]:
        return [str(moment) for moment in two_clock_reads(self.db)]

    @rpc(read_only=True)
    def write_while_reading(self, subject: str) -> None:
        self.db.add(Entry(subject=subject, sequence=1))

    @rpc
    def record(self, subject: str) -> None:  # type: ignore[override]
        self.db.add(Entry(subject=subject, sequence=1))


@pytest.fixture
def ledger_rpc(container_factory, beat_config, postgres_engine: Engine) -> dict[str, object]:
    url = postgres_engine.url.render_as_string(hide_password=False)
    config = beat_config("ledger", LEDGER_DATABASE_URL=url)
    container_factory(LedgerWithRpc, config).start()
    return config


def test_a_read_only_rpc_reads_without_a_transaction(ledger_rpc: dict[str, object]) -> None:
    with ServiceRpcProxy("ledger", ledger_rpc, timeout=10) as ledger:
        ledger.record("first")
        assert ledger.subjects() == ["first"]
        first, second = ledger.clock_reads()
        assert first != second


def test_a_read_only_rpc_that_writes_fails_and_stores_nothing(
    ledger_rpc: dict[str, object], postgres_engine: Engine
) -> None:
    with ServiceRpcProxy("ledger", ledger_rpc, timeout=10) as ledger:
        with pytest.raises(RemoteError, match="WriteWhileReading"):
            ledger.write_while_reading("sneaked in")
        ledger.record("through the front door")  # an ordinary RPC of the same service still writes
    assert stored_entries(postgres_engine) == ["through the front door"]
