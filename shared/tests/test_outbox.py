"""The outbox: atomic with the domain write, published by the relay, resilient to broker outages."""

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from kombu import Connection, Queue
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from beat_shared.amqp import event_exchange
from beat_shared.config import outbox_retention
from beat_shared.contracts import CloudEvent, new_event
from beat_shared.db import make_engine, reader_sessions, unit_of_work
from beat_shared.outbox import OutboxRelay, add_to_outbox
from beat_shared.testing import wait_for
from shared_sample import Entry, LedgerBase, LedgerService, receipts


def _count(url: str, sql: str) -> int:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        value = connection.execute(text(sql)).scalar_one()
    engine.dispose()
    return int(value)


def test_domain_row_and_outbox_row_commit_together(ledger, ledger_db, web_session):
    response = web_session.post("/entries", json={"subject": "a", "sequence": 1})
    assert response.status_code == 201
    assert _count(ledger_db, "SELECT count(*) FROM entries") == 1
    assert _count(ledger_db, "SELECT count(*) FROM outbox") == 1


def test_failure_after_domain_write_leaves_neither_row(ledger, ledger_db, web_session):
    response = web_session.post("/entries", json={"subject": "a", "sequence": 1, "fail_after_write": True})
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert _count(ledger_db, "SELECT count(*) FROM entries") == 0
    assert _count(ledger_db, "SELECT count(*) FROM outbox") == 0


def test_event_breaking_its_schema_is_refused_at_publish(ledger, ledger_db, web_session):
    response = web_session.post("/entries", json={"subject": "a", "sequence": 1, "break_contract": True})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "contract_violation"
    assert "entry_id" in str(response.json()["error"]["details"])
    assert _count(ledger_db, "SELECT count(*) FROM entries") == 0


def test_relay_publishes_cloudevents_with_confirms(ledger, ledger_db, rabbit_config, web_session):
    with Connection(rabbit_config["AMQP_URI"]) as connection:
        queue = Queue("spy", exchange=event_exchange("ledger"), routing_key="beat.test.#", durable=False)
        queue(connection.default_channel).declare()
        web_session.post("/entries", json={"subject": "s-1", "sequence": 7})
        message = wait_for(lambda: queue(connection.default_channel).get(no_ack=True), message="published event")
    assert message.content_type == "application/cloudevents+json"
    event = message.payload
    assert event["type"] == "beat.test.entry_recorded"
    assert event["source"] == "/beat/ledger"
    assert event["specversion"] == "1.0"
    assert event["subject"] == "s-1"
    assert event["data"]["sequence"] == 7
    assert message.properties["message_id"] == event["id"]
    assert wait_for(lambda: _count(ledger_db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


@pytest.mark.broker_restart
def test_burst_survives_broker_outage_once_each_in_order(ledger, tally, ledger_db, tally_db):
    """500 events written while RabbitMQ stops and starts all arrive, once each, in order per subject."""
    engine = make_engine(ledger_db, pool_size=2)
    table = LedgerBase.metadata.tables["outbox"]
    subjects = [f"subject-{n}" for n in range(5)]

    def write(sequence_range):
        for sequence in sequence_range:
            subject = subjects[sequence % len(subjects)]
            with unit_of_work(engine) as session:
                entry = Entry(subject=subject, sequence=sequence)
                session.add(entry)
                session.flush()
                add_to_outbox(
                    session,
                    table,
                    new_event("beat.test.entry_recorded", subject, {"entry_id": entry.id, "sequence": sequence}),
                )

    write(range(0, 150))
    _rabbitmqctl("stop_app")
    try:
        write(range(150, 350))  # committed while the broker is down
    finally:
        _rabbitmqctl("start_app")
    write(range(350, 500))

    wait_for(lambda: len(receipts(tally_db)) >= 500, timeout=90, message="500 receipts")
    rows = receipts(tally_db)
    assert len(rows) == 500
    assert len({row.event_id for row in rows}) == 500
    assert sorted(row.sequence for row in rows) == list(range(500))
    for subject in subjects:
        sequences = [row.sequence for row in rows if row.subject == subject]
        assert sequences == sorted(sequences), f"{subject} arrived out of order"
    with unit_of_work(engine) as session:
        unpublished = session.scalar(select(func.count()).select_from(table).where(table.c.published_at.is_(None)))
    assert unpublished == 0
    engine.dispose()


def _recorded(sequence: int) -> CloudEvent:
    return new_event("beat.test.entry_recorded", f"s-{sequence}", {"entry_id": sequence, "sequence": sequence})


def _outbox_subjects(url: str) -> list[str]:
    """What another process sees: it reads as a reader (on SQLite while the test's writer is open too)."""
    engine = make_engine(url, pool_size=1)
    with reader_sessions(engine)() as reader:
        outbox = LedgerBase.metadata.tables["outbox"]
        subjects = list(reader.scalars(select(outbox.c.subject).order_by(outbox.c.id)))
    engine.dispose()
    return subjects


def test_a_transactions_events_are_written_at_commit_in_the_order_added(ledger_db):
    engine = make_engine(ledger_db, pool_size=1)
    table = LedgerBase.metadata.tables["outbox"]
    with Session(engine) as session:
        for sequence in (3, 1, 2):
            session.add(Entry(subject=f"s-{sequence}", sequence=sequence))
            add_to_outbox(session, table, _recorded(sequence))
        session.flush()
        assert _outbox_subjects(ledger_db) == []  # not before the commit
        session.commit()
        add_to_outbox(session, table, _recorded(9))
        session.rollback()  # a rolled-back transaction's events are forgotten, not carried over
        add_to_outbox(session, table, _recorded(4))
        session.commit()
    engine.dispose()
    assert _outbox_subjects(ledger_db) == ["s-3", "s-1", "s-2", "s-4"]


def test_a_rolled_back_savepoint_takes_back_only_its_own_events(ledger_db):
    engine = make_engine(ledger_db, pool_size=1)
    table = LedgerBase.metadata.tables["outbox"]
    with Session(engine) as session:
        add_to_outbox(session, table, _recorded(1))
        with session.begin_nested():
            add_to_outbox(session, table, _recorded(2))  # kept: its savepoint is released
        savepoint = session.begin_nested()
        add_to_outbox(session, table, _recorded(3))
        with session.begin_nested():
            add_to_outbox(session, table, _recorded(4))  # inside the savepoint rolled back below
        savepoint.rollback()
        add_to_outbox(session, table, _recorded(5))
        session.commit()
    engine.dispose()
    assert _outbox_subjects(ledger_db) == ["s-1", "s-2", "s-5"]


@pytest.mark.postgresql_only
def test_a_relay_that_gives_up_leadership_lets_another_take_it_at_once(ledger_db, rabbit_config):
    """After a failed round the relay gives up leadership; the lock must go with it, even though
    its connection's pool keeps the connection (under load, for good: the pool is LIFO).

    PostgreSQL only: leadership is an advisory lock among replicas. On SQLite a service runs as one
    process whose relay always leads; the relay tests above publish on SQLite as well."""
    table = LedgerBase.metadata.tables["outbox"]
    first_engine, second_engine = make_engine(ledger_db, pool_size=2), make_engine(ledger_db, pool_size=2)
    try:
        first = OutboxRelay("ledger", lambda: first_engine, table, rabbit_config["AMQP_URI"])
        second = OutboxRelay("ledger", lambda: second_engine, table, rabbit_config["AMQP_URI"])
        assert first._is_leader() and not second._is_leader()
        first._release_leadership()
        assert second._is_leader()
        assert not first._is_leader()  # its pool's connections hold nothing any more
        second._release_leadership()
        assert first._is_leader()
        first._release_leadership()
    finally:
        first_engine.dispose()
        second_engine.dispose()


@pytest.mark.postgresql_only
def test_the_relay_reads_unpublished_rows_along_its_index_past_published_ones(ledger_db, rabbit_config):
    """The relay's read must be a plain index scan: it marks the entries of rows published since
    the last VACUUM dead, so the next read skips them; a bitmap scan visited every published row's
    page again in every round (60-94 ms a read after a 50,000-subscriber broadcast, 1.7 ms after).

    PostgreSQL only: the plan and the index's dead entries are PostgreSQL's; SQLite has neither."""
    engine = make_engine(ledger_db, pool_size=2)
    relay = OutboxRelay("ledger", lambda: engine, LedgerBase.metadata.tables["outbox"], rabbit_config["AMQP_URI"])
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO outbox (event_id, event_type, subject, body, headers, created_at)"
                    " SELECT md5(i::text), 'beat.test.entry_recorded', 's', '{}', '{}', now()"
                    " FROM generate_series(1, 20000) AS i"
                )
            )
            # 19,995 dead entries, and no statistics yet, as after a broadcast before autovacuum
            connection.execute(text("UPDATE outbox SET published_at = now() WHERE id > 5"))
        assert relay._is_leader()
        with relay._connection() as connection:
            compiled = relay._first_batch.compile(engine, compile_kwargs={"literal_binds": True})
            plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN {compiled}").scalars())
            assert len(relay._read_batch(connection, after_id=None)) == 5
        # Whether the scan then marks the entries dead depends on every other transaction on the
        # server (a suite's parallel lanes hold old snapshots), so the plan is what is checked.
        assert "Index Scan using ix_outbox_unpublished" in plan and "Bitmap" not in plan, plan
    finally:
        relay._release_leadership()
        engine.dispose()


def _stored_events(url: str, *ages: tuple[str, float | None, float]) -> None:
    """Outbox rows named `event_id`, created `created_days` ago and published `published_days` ago
    (None: not yet)."""
    now = datetime.now(UTC)
    table = LedgerBase.metadata.tables["outbox"]
    engine = make_engine(url, pool_size=1)
    with engine.begin() as connection:
        for event_id, published_days, created_days in ages:
            connection.execute(
                table.insert().values(
                    event_id=event_id,
                    event_type="beat.test.entry_recorded",
                    subject="s",
                    body="{}",
                    headers="{}",
                    created_at=now - timedelta(days=created_days),
                    published_at=None if published_days is None else now - timedelta(days=published_days),
                )
            )
    engine.dispose()


def _event_ids(url: str) -> list[str]:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        found = connection.execute(text("SELECT event_id FROM outbox ORDER BY id")).scalars().all()
    engine.dispose()
    return list(found)


def test_the_relay_deletes_published_events_past_the_retention_and_nothing_else(ledger_db, rabbit_config):
    old = [(f"old-{n}", 10.0, 10.0) for n in range(7)]
    _stored_events(ledger_db, ("stuck", None, 30.0), *old, ("recent", 1.0, 1.0), ("fresh", 0.0, 0.0))
    engine = make_engine(ledger_db, pool_size=2)
    relay = OutboxRelay("ledger", lambda: engine, LedgerBase.metadata.tables["outbox"], rabbit_config["AMQP_URI"])
    try:
        assert relay.purge_published(timedelta(days=7), chunk=3) == 7  # three chunks: 3, 3 and 1
        assert relay.purge_published(timedelta(days=7), chunk=3) == 0
    finally:
        relay._release_leadership()
        engine.dispose()
    # An event never published stays however old it is: it has yet to leave.
    assert _event_ids(ledger_db) == ["stuck", "recent", "fresh"]


def test_a_service_purges_its_outbox_when_it_starts_and_then_hourly(container_factory, beat_config, ledger_db):
    _stored_events(ledger_db, ("old", 8.0, 8.0), ("recent", 6.0, 6.0))
    config = beat_config("ledger", LEDGER_DATABASE_URL=ledger_db, BEAT_OUTBOX_RETENTION_DAYS="7")
    container = container_factory(LedgerService, config)
    container.start()
    wait_for(lambda: _event_ids(ledger_db) == ["recent"], message="the old event purged at start")
    _stored_events(ledger_db, ("old-again", 8.0, 8.0))
    with Session(make_engine(ledger_db, pool_size=1)) as session, session.begin():
        add_to_outbox(
            session,
            LedgerBase.metadata.tables["outbox"],
            new_event("beat.test.entry_recorded", "s", {"entry_id": 1, "sequence": 1}),
        )
    wait_for(
        lambda: _count(ledger_db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0, message="published"
    )
    # The relay went idle again after publishing, within the hour: the purge waits for the next one.
    assert "old-again" in _event_ids(ledger_db)


def test_an_outbox_retention_of_zero_keeps_every_event():
    assert outbox_retention({"BEAT_OUTBOX_RETENTION_DAYS": "0"}) is None
    assert outbox_retention({"BEAT_OUTBOX_RETENTION_DAYS": "7"}) == timedelta(days=7)
    asked = []
    table = LedgerBase.metadata.tables["outbox"]
    relay = OutboxRelay("ledger", lambda: asked.append("engine"), table, "memory://", retention=None)
    relay._purge_when_due()
    assert asked == []  # the database was not even asked
