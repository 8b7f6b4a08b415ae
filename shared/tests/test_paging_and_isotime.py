"""`page_of` and `count_rows` (every paged list) and `existing` (get or 404), on PostgreSQL and SQLite;
`parse_iso`/`parse_utc`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, joinedload, mapped_column, relationship

from beat_shared.db import count_rows, existing, make_engine, page_of, unit_of_work
from beat_shared.errors import NotFound
from beat_shared.isotime import parse_iso, parse_utc


class Base(DeclarativeBase):
    pass


class Beat(Base):
    __tablename__ = "beats"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(10))
    streets: Mapped[list[Street]] = relationship(order_by="Street.id")


class Street(Base):
    __tablename__ = "streets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    beat_id: Mapped[int] = mapped_column(ForeignKey("beats.id"))
    name: Mapped[str] = mapped_column(String(40))


@pytest.fixture
def session(database):
    engine = make_engine(database("paging"), pool_size=1)
    Base.metadata.create_all(engine)
    with unit_of_work(engine) as setup:
        for number in range(1, 8):
            setup.add(Beat(id=number, code=f"RV-0{number}", streets=[Street(name=f"{n} St") for n in range(3)]))
    with unit_of_work(engine) as session:
        yield session
    engine.dispose()


def test_a_page_in_the_order_asked_and_the_count_of_all(session):
    odd = select(Beat).where(Beat.id % 2 == 1)
    rows, total = page_of(session, odd, 1, 2, Beat.code.desc())
    assert ([row.code for row in rows], total) == (["RV-05", "RV-03"], 4)
    rows, total = page_of(session, odd, 4, 2, Beat.code.desc())
    assert (rows, total) == ([], 4)  # past the end: nothing, and still the count


def test_the_query_s_own_order_is_kept_and_the_count_ignores_it(session):
    query = select(Beat).order_by(Beat.id.desc())
    assert count_rows(session, query) == 7
    rows, _ = page_of(session, query, 0, 3)
    assert [row.id for row in rows] == [7, 6, 5]


def test_a_joined_collection_yields_each_entity_once(session):
    query = select(Beat).options(joinedload(Beat.streets))
    rows, total = page_of(session, query, 0, 10, Beat.id)
    assert ([row.id for row in rows], total) == (list(range(1, 8)), 7)
    assert all(len(row.streets) == 3 for row in rows)


def test_existing_finds_a_row_by_its_key_or_says_what_does_not_exist(session):
    assert existing(session, Beat, 3, "beat").code == "RV-03"
    with pytest.raises(NotFound, match=r"^beat 99 does not exist$"):
        existing(session, Beat, 99, "beat")


def test_parse_iso_keeps_the_offset_given_and_reads_z_as_utc():
    assert parse_iso("2026-03-01T18:00:00Z") == datetime(2026, 3, 1, 18, tzinfo=UTC)
    moment = parse_iso("2026-03-01T12:00:00-06:00")
    assert moment.utcoffset() == timedelta(hours=-6) and moment == datetime(2026, 3, 1, 18, tzinfo=UTC)
    assert parse_iso("2026-03-01T18:00:00").tzinfo is None
    same = datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=2)))
    assert parse_iso(same) is same


def test_parse_utc_converts_and_takes_a_bare_moment_as_utc():
    assert parse_utc("2026-03-01T12:00:00-06:00").tzinfo is UTC
    assert parse_utc("2026-03-01T18:00:00") == datetime(2026, 3, 1, 18, tzinfo=UTC)


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-03-01T25:00:00Z"])
def test_text_that_is_no_moment_is_a_value_error(text):
    with pytest.raises(ValueError):
        parse_iso(text)


def test_a_moment_with_no_utc_equivalent_is_an_overflow():
    with pytest.raises(OverflowError):
        parse_utc("0001-01-01T00:00:00+01:00")
