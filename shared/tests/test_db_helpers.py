"""`insert_unless_exists` and `insert_all_unless_exist` (INSERT … ON CONFLICT DO NOTHING), and
`insert_as_loaded` (new objects inserted without a flush), on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Integer, String, UniqueConstraint, event, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from beat_shared.db import insert_all_unless_exist, insert_as_loaded, insert_unless_exists, make_engine, unit_of_work


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("source", "recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(String(40), default="queued")


class Stamp(Base):
    """A row whose mapper has an insert listener: `insert_as_loaded` must leave it to the flush."""

    __tablename__ = "stamps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    label: Mapped[str] = mapped_column(String(40))


class Badge(Base):
    """An attribute named unlike its column, and a column whose default is the server's."""

    __tablename__ = "badges"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    holder: Mapped[str] = mapped_column("holder_name", String(40))
    colour: Mapped[str] = mapped_column(String(10), server_default="blue")


@event.listens_for(Stamp, "before_insert")
def _stamp(_mapper, _connection, target: Stamp) -> None:
    target.label = target.label.upper()


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, postgres_database: Callable[[str], str], tmp_path) -> str:
    url = postgres_database("helpers") if request.param == "postgresql" else f"sqlite:///{tmp_path}/helpers.db"
    engine = make_engine(url, pool_size=1)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


def test_inserts_a_new_row_and_leaves_an_existing_one_alone(database_url):
    engine = make_engine(database_url, pool_size=1)
    with unit_of_work(engine) as session:
        assert insert_unless_exists(session, Ticket, {"source": "event-1", "recipient": "ana", "note": "first"})
        assert insert_unless_exists(session, Ticket, {"source": "event-1", "recipient": "ben"})
    with unit_of_work(engine) as session:  # a redelivery: the same keys again, other values
        assert not insert_unless_exists(session, Ticket, {"source": "event-1", "recipient": "ana", "note": "second"})
        assert insert_unless_exists(session, Ticket, {"source": "event-2", "recipient": "ana"})
    with unit_of_work(engine) as session:
        rows = {(t.source, t.recipient): t.note for t in session.scalars(select(Ticket))}
    engine.dispose()
    assert rows == {
        ("event-1", "ana"): "first",  # kept as first stored
        ("event-1", "ben"): "queued",  # the column default applies
        ("event-2", "ana"): "queued",
    }


def test_a_batch_is_one_statement_and_returns_the_keys_of_the_rows_it_inserted(database_url):
    engine = make_engine(database_url, pool_size=1)
    with unit_of_work(engine) as session:
        insert_unless_exists(session, Ticket, {"id": 1, "source": "event-1", "recipient": "ana", "note": "first"})
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    batch = [
        {"id": 2, "source": "event-1", "recipient": "ana", "note": "again"},  # meets the stored row
        {"id": 3, "source": "event-1", "recipient": "ben", "note": "new"},
        {"id": 4, "source": "event-1", "recipient": "ben", "note": "twice"},  # meets row 3 of this batch
        {"id": 5, "source": "event-2", "recipient": "ana", "note": "new"},
    ]
    with unit_of_work(engine) as session:
        inserted = insert_all_unless_exist(session, Ticket, batch)
        assert insert_all_unless_exist(session, Ticket, []) == set()
    assert len([statement for statement in statements if statement.startswith("INSERT")]) == 1
    with unit_of_work(engine) as session:
        rows = {t.id: (t.source, t.recipient, t.note) for t in session.scalars(select(Ticket))}
    engine.dispose()
    assert inserted == {3, 5}
    assert rows == {
        1: ("event-1", "ana", "first"),
        3: ("event-1", "ben", "new"),
        5: ("event-2", "ana", "new"),
    }


def inserts_seen(engine) -> list[str]:
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2].split()[0]))
    return statements


def test_objects_inserted_as_loaded_are_stored_and_their_later_changes_flush_as_updates(database_url):
    engine = make_engine(database_url, pool_size=1)
    with unit_of_work(engine) as session:
        stored = Ticket(id=7, source="event-1", recipient="ana", note="first")
        session.add(stored)
    statements = inserts_seen(engine)
    with unit_of_work(engine) as session:
        session.get(Ticket, 7).note = "changed"  # a pending change goes in before the new rows
        given = Ticket(id=8, source="event-2", recipient="ana", note="given")
        defaulted = Ticket(source="event-3", recipient="ben")  # key from the database, note from the default
        insert_as_loaded(session, given, defaulted)
        assert defaulted.id is not None and defaulted.note == "queued"
        assert statements[-3:] == ["UPDATE", "INSERT", "INSERT"]  # the pending change first
        seen = len(statements)
        assert session.get(Ticket, defaulted.id) is defaulted and defaulted.source == "event-3"
        assert len(statements) == seen  # in the identity map, nothing expired: no query
        defaulted.note = "sent"
    with unit_of_work(engine) as session:
        rows = {t.id: (t.source, t.recipient, t.note) for t in session.scalars(select(Ticket))}
    engine.dispose()
    assert rows == {
        7: ("event-1", "ana", "changed"),
        8: ("event-2", "ana", "given"),
        defaulted.id: ("event-3", "ben", "sent"),
    }
    assert statements.count("INSERT") == 2 and statements.count("UPDATE") == 2


def test_a_mapper_with_insert_listeners_and_an_object_already_added_take_the_ordinary_flush(database_url):
    engine = make_engine(database_url, pool_size=1)
    with unit_of_work(engine) as session:
        stamp = Stamp(label="quiet")
        added = Ticket(source="event-1", recipient="ana")
        session.add(added)
        insert_as_loaded(session, stamp, added)
        assert stamp.id is not None and added.id is not None
    with unit_of_work(engine) as session:
        labels = list(session.scalars(select(Stamp.label)))
        notes = list(session.scalars(select(Ticket.note)))
    engine.dispose()
    assert labels == ["QUIET"]  # the listener ran
    assert notes == ["queued"]


def test_a_rolled_back_transaction_keeps_none_of_the_rows(database_url):
    engine = make_engine(database_url, pool_size=1)
    with pytest.raises(RuntimeError), unit_of_work(engine) as session:
        insert_as_loaded(session, Ticket(source="event-1", recipient="ana"))
        raise RuntimeError("the use case failed after the insert")
    with unit_of_work(engine) as session:
        assert list(session.scalars(select(Ticket))) == []
    engine.dispose()


def test_a_column_named_unlike_its_attribute_is_written_and_a_server_default_is_left_to_the_server(database_url):
    engine = make_engine(database_url, pool_size=1)
    with unit_of_work(engine) as session:
        insert_as_loaded(session, Badge(code="a", holder="Ana", colour="red"))  # every column given
        insert_as_loaded(session, Badge(code="b", holder="Ben"))  # colour left to the server
    with unit_of_work(engine) as session:
        rows = session.execute(text("SELECT code, holder_name, colour FROM badges ORDER BY code")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("a", "Ana", "red"), ("b", "Ben", "blue")]
