"""`migrated_database`: a test's database copied from a template migrated (and seeded) once per
pytest process is the database the migrations make, and each copy is its own."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, text

from beat_shared import testing
from beat_shared.db import make_engine
from beat_shared.migrations import upgrade


def schema_and_version(url: str) -> tuple[dict[str, list[str]], str]:
    engine = make_engine(url, pool_size=1)
    try:
        found = inspect(engine)
        tables = {
            table: sorted(column["name"] for column in found.get_columns(table)) for table in found.get_table_names()
        }
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        return tables, version
    finally:
        engine.dispose()


def rows(url: str, statement: str) -> list[tuple]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(statement))]
    finally:
        engine.dispose()


def write(url: str, statement: str) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def test_a_copy_is_the_migrated_database_and_each_copy_is_its_own(migrated_database, database):
    migrated = database("surveys")
    upgrade("surveys", migrated)
    first, second = migrated_database("surveys"), migrated_database("surveys")
    assert schema_and_version(first) == schema_and_version(migrated)
    assert len(schema_and_version(first)[0]) > 5  # the service's tables, not an empty database
    write(first, "CREATE TABLE scratch (n INTEGER)")
    assert "scratch" not in schema_and_version(second)[0]


def test_a_seeded_template_is_seeded_once_and_every_copy_has_the_rows(migrated_database):
    calls: list[int] = []

    def seed(session) -> None:
        calls.append(1)
        session.execute(text("CREATE TABLE seeded (n INTEGER)"))
        session.execute(text("INSERT INTO seeded VALUES (7)"))

    name = f"seven {uuid.uuid4().hex}"  # a template of this test's own
    first, second = migrated_database("surveys", (name, seed)), migrated_database("surveys", (name, seed))
    write(first, "INSERT INTO seeded VALUES (8)")
    assert rows(first, "SELECT n FROM seeded ORDER BY n") == [(7,), (8,)]
    assert rows(second, "SELECT n FROM seeded") == [(7,)]
    assert calls == [1]
    assert "seeded" not in schema_and_version(migrated_database("surveys"))[0]  # the plain template is apart


def tablespace_of(url: str) -> str:
    name = url.rsplit("/", 1)[1]
    (place,) = rows(
        url,
        "SELECT t.spcname FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace "
        f"WHERE d.datname = '{name}'",
    )[0]
    return place


def test_test_databases_live_in_the_tests_tablespace_where_the_machine_has_it(postgres_database):
    """`make test` makes the tablespace in /dev/shm (deploy/local/ensure-postgres.sh); a machine
    without one (or after a restart, before `make test`) gets the default tablespace."""
    (exists,) = rows(
        postgres_database("probe"), f"SELECT count(*) FROM pg_tablespace WHERE spcname = '{testing.TESTS_TABLESPACE}'"
    )[0]
    expected = testing.TESTS_TABLESPACE if exists else "pg_default"
    assert tablespace_of(postgres_database("plain")) == expected
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(testing, "TESTS_TABLESPACE", f"absent_{uuid.uuid4().hex[:6]}")
        testing._tests_tablespace_works.cache_clear()
        assert tablespace_of(postgres_database("fallback")) == "pg_default"
    testing._tests_tablespace_works.cache_clear()
