"""`UtcDateTime`: aware UTC datetimes in and out on SQLite and PostgreSQL alike, naive ones refused,
and the one timestamp type of every table of every service (issue 21)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, Integer, MetaData, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from beat_shared.config import SERVICE_NAMES
from beat_shared.db import TYPE_ANNOTATION_MAP, UtcDateTime, make_engine, unit_of_work

CHICAGO_WINTER = timezone(timedelta(hours=-6))


class Base(DeclarativeBase):
    type_annotation_map = TYPE_ANNOTATION_MAP  # as every service's Base


class Moment(Base):
    __tablename__ = "moments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime | None]  # UtcDateTime by its annotation alone


def test_a_datetime_annotation_is_a_utc_datetime_column():
    assert isinstance(Moment.__table__.c.at.type, UtcDateTime) and Moment.__table__.c.at.nullable


@pytest.fixture
def engine(database: Callable[[str], str]):
    engine = make_engine(database("moments"), pool_size=1)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_an_aware_moment_comes_back_aware_in_utc(engine):
    local = datetime(2026, 1, 15, 9, 30, 0, 123456, tzinfo=CHICAGO_WINTER)
    with unit_of_work(engine) as session:
        session.add_all([Moment(id=1, at=local), Moment(id=2, at=None)])
    with unit_of_work(engine) as session:
        stored = {moment.id: moment.at for moment in session.scalars(select(Moment))}
    assert stored[1] == local  # the same instant ...
    assert stored[1].utcoffset() == timedelta(0)  # ... handed back in UTC
    assert stored[1].replace(tzinfo=None) == datetime(2026, 1, 15, 15, 30, 0, 123456)
    assert stored[2] is None


def test_moments_compare_and_order_as_instants_whatever_offset_they_were_given_in(engine):
    # 10:00 in Chicago is later than 12:00 UTC; stored as local wall-clock text SQLite would sort them the other way.
    later = datetime(2026, 1, 15, 10, 0, tzinfo=CHICAGO_WINTER)
    earlier = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    with unit_of_work(engine) as session:
        session.add_all([Moment(id=1, at=later), Moment(id=2, at=earlier)])
    with unit_of_work(engine) as session:
        in_order = list(session.scalars(select(Moment.id).order_by(Moment.at)))
        one_pm = datetime(2026, 1, 15, 13, tzinfo=UTC)
        before_one_pm = list(session.scalars(select(Moment.id).where(Moment.at < one_pm)))
    assert in_order == [2, 1]
    assert before_one_pm == [2]


def test_a_naive_moment_is_refused_and_nothing_is_stored(engine):
    with pytest.raises(StatementError, match="naive datetimes are not stored"), unit_of_work(engine) as session:
        session.add(Moment(id=1, at=datetime(2026, 1, 15, 9, 30)))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM moments")).scalar_one() == 0


def _plain_timestamps(metadata: MetaData) -> list[str]:
    return [
        f"{table.name}.{column.name}"
        for table in metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, DateTime)  # UtcDateTime is a TypeDecorator, not a DateTime
    ]


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_timestamp_column_of_every_service_is_utc_datetime(service):
    """A plain DateTime(timezone=True) hands back naive datetimes on SQLite (the referrals 500)."""
    metadata = importlib.import_module(f"{service}.models").Base.metadata
    assert {"outbox", "processed_events"} <= set(metadata.tables)  # the platform tables are covered too
    assert _plain_timestamps(metadata) == []
