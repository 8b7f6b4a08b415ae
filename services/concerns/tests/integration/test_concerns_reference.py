"""The in-memory categories and beat boundaries (concerns/reference.py) on PostgreSQL and SQLite: the same
answers as the database, no statements while fresh, and every kind of change seen when it should
be: at once after a change this process committed, within max_age after another replica's. The
in-memory open problems: no query for them while unchanged, and another process's change seen
by the next submission."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from concerns_testkit import POINTS, admin, concern_body
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from beat_shared.db import make_engine, unit_of_work
from beat_shared.errors import InvalidInput
from beat_shared.testing import RecordedEvents
from concerns import commands, problem_commands, store
from concerns.domain.problems import Stage
from concerns.domain.workflow import Actor
from concerns.models import Category, Problem
from concerns.reference import ReferenceCache
from concerns.settings import Settings

MAX_AGE = 30.0


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(concerns_db) -> Iterator[Engine]:  # on PostgreSQL and SQLite (the `backend` of the fixtures)
    engine = make_engine(concerns_db, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def monotonic() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
def cache(monotonic) -> ReferenceCache:
    return ReferenceCache(MAX_AGE, monotonic)


@pytest.fixture
def statements(engine) -> list[str]:
    """Every statement the engine runs, from the moment the fixture is used."""
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: seen.append(sql))
    return seen


def another_replica(engine: Engine, *sql: str) -> None:
    """A change committed by another process: plain SQL, so this process's mapper events do not see it."""
    with engine.begin() as connection:
        for statement in sql:
            connection.execute(text(statement))


BUMP = "UPDATE reference_versions SET version = version + 1"


def version(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT version FROM reference_versions")).scalar_one())


def test_answers_like_the_database_and_runs_no_statement_while_fresh(engine, cache, statements):
    points = [POINTS["RV-01"], POINTS["RV-05"], POINTS["outside"], (43.0305, -108.3935), (0.0, 0.0)]
    with Session(engine) as session:
        for code in ("noise", "drug_activity", "speeding_traffic"):
            cached, stored = cache.category(session, code), store.category(session, code)
            assert cached is stored  # the session's one copy (merged into its identity map)
            assert (cached.name, cached.attributes, cached.acknowledge_hours) == (
                stored.name,
                stored.attributes,
                stored.acknowledge_hours,
            )
        for lat, long in points:
            assert sorted(b.code for b in cache.boundaries_around(session, lat, long)) == sorted(
                b.code for b in store.boundaries_around(session, lat, long)
            )
    statements.clear()
    with Session(engine) as session:
        noise = cache.category(session, "noise")
        assert noise in session and noise.code == "noise"
        assert [b.code for b in cache.boundaries_around(session, *POINTS["RV-02"])] == ["RV-02"]
        assert cache.any_category(session, "noise") is noise
    assert statements == []


def test_unknown_and_inactive_categories_are_refused_like_the_database(engine, cache):
    another_replica(engine, "UPDATE categories SET active = false WHERE code = 'noise'", BUMP)
    with Session(engine) as session:
        with pytest.raises(InvalidInput, match="unknown category 'fireworks'"):
            cache.category(session, "fireworks")
        with pytest.raises(InvalidInput, match="unknown category 'noise'"):
            cache.category(session, "noise")
        assert cache.any_category(session, "noise").active is False  # a stored concern's category
        assert cache.any_category(session, "fireworks") is None


def test_another_replicas_change_is_seen_once_max_age_has_passed(engine, cache, monotonic):
    with Session(engine) as session:
        assert cache.category(session, "noise").acknowledge_hours == 72
        assert [b.code for b in cache.boundaries_around(session, *POINTS["RV-02"])] == ["RV-02"]
    another_replica(
        engine,
        "UPDATE categories SET acknowledge_hours = 5 WHERE code = 'noise'",
        'UPDATE beats SET boundary = \'{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}\' '
        "WHERE code = 'RV-02'",
        BUMP,
    )
    monotonic.now += MAX_AGE - 1
    with Session(engine) as session:
        assert cache.category(session, "noise").acknowledge_hours == 72  # still within max_age
    monotonic.now += 2
    with Session(engine) as session:
        assert cache.category(session, "noise").acknowledge_hours == 5
        assert cache.boundaries_around(session, *POINTS["RV-02"]) == []


def test_a_new_or_reactivated_category_is_usable_at_once(engine, cache):
    with Session(engine) as session:
        cache.category(session, "noise")
    another_replica(
        engine,
        "INSERT INTO categories (code, name, description, group_name, keywords, attributes, acknowledge_hours, "
        "active, updated_at) VALUES ('fireworks', 'Fireworks', '', '', '[]', '[]', 12, true, CURRENT_TIMESTAMP)",
    )
    with Session(engine) as session:
        assert cache.category(session, "fireworks").acknowledge_hours == 12  # looked up, not cached


def test_this_processs_committed_change_bumps_the_version_and_is_seen_at_once(engine, cache, clock):
    with Session(engine) as session:
        assert cache.category(session, "noise").acknowledge_hours == 72
    before = version(engine)
    with unit_of_work(engine) as session:
        body = {"code": "noise", "name": "Noise", "acknowledge_hours": 6}
        commands.save_category(session, clock.now(), body)
    assert version(engine) == before + 1
    with Session(engine) as session:
        assert cache.category(session, "noise").acknowledge_hours == 6  # no waiting for max_age


def test_a_beat_import_bumps_the_version_and_moves_placement(engine, cache, clock):
    lat, long = POINTS["outside"]
    with Session(engine) as session:
        assert cache.boundaries_around(session, lat, long) == []
    before = version(engine)
    ring = [[long - 0.01, lat - 0.01], [long + 0.01, lat - 0.01], [long + 0.01, lat + 0.01], [long - 0.01, lat + 0.01]]
    feature = {
        "type": "Feature",
        "properties": {"code": "RV-07", "name": "North Farms"},
        "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
    }
    with unit_of_work(engine) as session:
        commands.import_beats(session, clock.now(), {"type": "FeatureCollection", "features": [feature]})
    assert version(engine) > before
    with Session(engine) as session:
        assert [b.code for b in cache.boundaries_around(session, lat, long)] == ["RV-07"]


def test_a_rolled_back_change_leaves_the_version_and_the_cache(engine, cache, clock):
    with Session(engine) as session:
        cache.category(session, "noise")
    before = version(engine)
    with Session(engine) as session:
        commands.save_category(session, clock.now(), {"code": "noise", "name": "Noise", "acknowledge_hours": 1})
        session.rollback()
    assert version(engine) == before
    with Session(engine) as session:
        assert cache.category(session, "noise").acknowledge_hours == 72


def test_a_transaction_that_changed_reference_data_sees_its_own_changes_and_caches_none(engine, cache, clock):
    with Session(engine) as session:
        cache.category(session, "noise")
        commands.save_category(session, clock.now(), {"code": "fireworks", "name": "Fireworks"})
        commands.save_category(session, clock.now(), {"code": "noise", "name": "Noise", "acknowledge_hours": 2})
        session.expunge_all()  # what the cache gives must come from the transaction, not the identity map
        assert cache.category(session, "fireworks").name == "Fireworks"
        assert cache.category(session, "noise").acknowledge_hours == 2
        session.rollback()
    with Session(engine) as session:
        assert cache.category(session, "noise").acknowledge_hours == 72
        with pytest.raises(InvalidInput):
            cache.category(session, "fireworks")


def test_a_category_changed_in_the_session_is_not_overwritten_by_the_cache(engine, cache):
    with Session(engine) as session:
        cache.category(session, "noise")
    with Session(engine) as session:
        held = session.get(Category, "noise")
        held.acknowledge_hours = 3
        assert cache.category(session, "noise") is held and held.acknowledge_hours == 3
        session.rollback()
    with Session(engine) as session:
        assert cache.category(session, "noise").acknowledge_hours == 72


def test_the_service_uses_a_category_saved_through_it_at_once(service, web_session):
    assert web_session.post("/concerns", json=concern_body()).status_code == 201  # the snapshot is loaded
    changed = web_session.put(
        "/categories/noise", json={"name": "Noise", "acknowledge_hours": 7, "active": False}, headers=admin()
    )
    assert changed.status_code == 200, changed.text
    refused = web_session.post("/concerns", json=concern_body())
    assert refused.status_code == 400 and "unknown category 'noise'" in refused.text
    reopened = web_session.put("/categories/noise", json={"name": "Noise", "acknowledge_hours": 7}, headers=admin())
    assert reopened.status_code == 200
    answer = web_session.post("/concerns", json=concern_body())
    assert answer.status_code == 201 and "7 hours" in answer.json()["service_notice"]


# --- the open problems ----------------------------------------------------------------------

SETTINGS = Settings.from_config({})
SUPERVISOR = Actor("supervisor-1", "supervisor")


def _voice(engine: Engine, cache: ReferenceCache, clock, beat: str = "RV-02") -> commands.Submitted:
    lat, long = POINTS[beat]
    submission = commands.Submission(category="noise", description="Music all night", lat=lat, long=long)
    with unit_of_work(engine) as session:
        return commands.submit(session, SETTINGS, clock.now(), RecordedEvents(), submission, cache)


def _open_problem(engine: Engine, clock, beat: str = "RV-02") -> str:
    lat, long = POINTS[beat]
    body = {
        "beat_code": beat,
        "title": "Music at the car park",
        "categories": ["noise"],
        "centre": {"lat": lat, "long": long},
        "radius_metres": 150,
        "origin": "manual",
    }
    with unit_of_work(engine) as session:
        return problem_commands.open_problem(session, clock.now(), RecordedEvents(), SUPERVISOR, body).id


def test_a_beat_without_open_problems_costs_no_query_for_them_while_unchanged(engine, cache, clock, statements):
    assert _voice(engine, cache, clock).joined_problems == []  # loads them
    statements.clear()
    assert _voice(engine, cache, clock).joined_problems == []
    assert not [sql for sql in statements if "FROM problems" in sql]


def test_a_new_concern_joins_a_problem_another_process_opened_and_not_one_it_closed(engine, cache, clock, concerns_db):
    assert _voice(engine, cache, clock).joined_problems == []  # this process holds "no open problem in RV-02"
    other_process = make_engine(concerns_db, pool_size=1)
    try:
        problem_id = _open_problem(other_process, clock)
        joined = _voice(engine, cache, clock).joined_problems
        assert joined == [{"id": problem_id, "title": "Music at the car park", "stage": "scanning"}]
        with unit_of_work(other_process) as session:
            session.get(Problem, problem_id).stage = Stage.CLOSED.value
    finally:
        other_process.dispose()
    assert _voice(engine, cache, clock).joined_problems == []


def test_a_rolled_back_problem_is_neither_joined_nor_cached(engine, cache, clock):
    with Session(engine) as session:
        lat, long = POINTS["RV-02"]
        body = {"beat_code": "RV-02", "title": "Music", "categories": ["noise"], "radius_metres": 150}
        problem_commands.open_problem(
            session,
            clock.now(),
            RecordedEvents(),
            SUPERVISOR,
            {**body, "centre": {"lat": lat, "long": long}, "origin": "manual"},
        )
        submission = commands.Submission(category="noise", lat=lat, long=long)
        inside = commands.submit(session, SETTINGS, clock.now(), RecordedEvents(), submission, cache)
        assert [problem["title"] for problem in inside.joined_problems] == ["Music"]  # its own view
        session.rollback()
    assert _voice(engine, cache, clock).joined_problems == []
