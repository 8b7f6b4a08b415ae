"""Fixtures of the concerns service's fast tests: its tables on SQLite with the demo reference data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from beat_shared.db import make_engine, unit_of_work
from concerns.demo import seed_reference
from concerns.models import Base

SEEDED_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # a day before the use-case tests' NOW


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    """The service's tables (from its models) on an SQLite file, with the categories and beats."""
    engine = make_engine(f"sqlite:///{tmp_path}/concerns.db", pool_size=1)
    Base.metadata.create_all(engine)
    with unit_of_work(engine) as session:
        seed_reference(session, SEEDED_AT)
    yield engine
    engine.dispose()
