"""Every service's migrations run up and down on PostgreSQL and SQLite, and match its models."""

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from beat_shared.config import SERVICE_NAMES
from beat_shared.db import make_engine
from beat_shared.migrations import downgrade, upgrade


def _drift(url: str, service: str) -> list:
    metadata = importlib.import_module(f"{service}.models").Base.metadata
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}), metadata)
        connection.rollback()
    engine.dispose()
    return diff


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_migrations_on_postgresql_match_the_models_and_downgrade(service, postgres_database):
    url = postgres_database(service)
    upgrade(service, url)
    assert _drift(url, service) == []
    downgrade(service, url)
    upgrade(service, url)
    assert _drift(url, service) == []


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_migrations_on_sqlite(service, tmp_path):
    url = f"sqlite:///{tmp_path}/{service}.db"
    upgrade(service, url)
    assert _drift(url, service) == []
    downgrade(service, url)
