"""`insert_unless_exists` and `insert_all_unless_exist`: INSERT … ON CONFLICT DO NOTHING, on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Integer, String, UniqueConstraint, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from beat_shared.db import insert_all_unless_exist, insert_unless_exists, make_engine, unit_of_work


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("source", "recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(String(40), default="queued")


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
