"""`insert_unless_exists`: one INSERT … ON CONFLICT DO NOTHING, on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from beat_shared.db import insert_unless_exists, make_engine, unit_of_work


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
