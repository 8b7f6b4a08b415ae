"""Likely duplicates on a busy street: the nearest are found however many reports surround them,
on PostgreSQL and on SQLite (the SQL orders by distance on both)."""

import pytest
from concerns_testkit import POINTS, START
from sqlalchemy import event

from beat_shared.db import make_engine, unit_of_work
from concerns import commands, queries, store, views
from concerns.settings import Settings

METRES_PER_DEGREE_LAT = 111_320.0


def submit_at(session, settings, north_metres: float, category: str = "noise") -> str:
    lat, long = POINTS["RV-02"]
    submitted = commands.submit(
        session,
        settings,
        START,
        lambda *_: None,
        commands.Submission(category=category, lat=lat + north_metres / METRES_PER_DEGREE_LAT, long=long),
    )
    return submitted.concern.id


@pytest.fixture
def engine(concerns_db):  # on PostgreSQL and SQLite (the `backend` of the fixtures)
    engine = make_engine(concerns_db)
    yield engine
    engine.dispose()


def test_the_nearest_are_found_behind_a_crowd_of_older_reports(engine):
    settings = Settings.from_config({})
    with unit_of_work(engine) as session:
        crowd = [submit_at(session, settings, 200 + number) for number in range(store.NEAREST_CANDIDATES + 10)]
        near = [submit_at(session, settings, metres) for metres in (40, 20, 30)]
        submit_at(session, settings, 10, category="vandalism_graffiti")  # nearer, but another problem
    with unit_of_work(engine) as session:
        lat, long = POINTS["RV-02"]
        candidates = store.nearest_open_concerns(session, "noise", lat, long, START, 250, 30)
        suggested = commands.submit(
            session, settings, START, lambda *_: None, commands.Submission(category="noise", lat=lat, long=long)
        ).duplicates
    assert len(candidates) == store.NEAREST_CANDIDATES
    assert [candidate.id for candidate in candidates[:3]] == [near[1], near[2], near[0]]
    assert [s.concern_id for s in suggested] == [near[1], near[2], near[0], crowd[0], crowd[1]]
    assert [s.distance_metres for s in suggested] == [20, 30, 40, 200, 201]


def test_the_suggestions_are_shown_from_the_one_query_that_found_them(engine):
    settings = Settings.from_config({})
    with unit_of_work(engine) as session:
        near = [submit_at(session, settings, metres) for metres in (40, 20)]
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    with unit_of_work(engine) as session:
        lat, long = POINTS["RV-02"]
        submitted = commands.submit(
            session, settings, START, lambda *_: None, commands.Submission(category="noise", lat=lat, long=long)
        )
        answer = queries.suggestions_view(session, submitted.duplicates, submitted.duplicate_concerns)
    assert [suggestion["concern_id"] for suggestion in answer] == [near[1], near[0]]
    assert answer[0]["concern"]["category_name"] == "Noise" and answer[0]["distance_metres"] == 20
    assert answer[1]["concern"]["status"] == "submitted" and answer[1]["distance_metres"] == 40
    reads_of_concerns = [sql for sql in statements if sql.lstrip().startswith("SELECT") and "FROM concerns" in sql]
    assert len(reads_of_concerns) == 1  # the nearest, nothing after


def test_a_suggestion_shows_the_same_public_view_as_the_whole_concern_and_reads_no_personal_data(engine):
    settings = Settings.from_config({})
    lat, long = POINTS["RV-02"]
    with unit_of_work(engine) as session:
        earlier = commands.submit(
            session,
            settings,
            START,
            lambda *_: None,
            commands.Submission(
                category="noise",
                lat=lat,
                long=long,
                description="Music all night, call me on 555-0100",
                name="Ana Reporter",
                email="ana@example.org",
            ),
        ).concern.id
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    with unit_of_work(engine) as session:
        submitted = commands.submit(
            session, settings, START, lambda *_: None, commands.Submission(category="noise", lat=lat, long=long)
        )
        [suggestion] = queries.suggestions_view(session, submitted.duplicates, submitted.duplicate_concerns)
        whole = store.concern(session, earlier)
        public = views.concern_public(whole, store.categories_of(session, {"noise"})["noise"])
    assert suggestion["concern"] == public  # every field the public view shows was loaded
    assert "555-0100" not in str(suggestion)  # masked, as in the public view
    [nearest] = [sql for sql in statements if "ORDER BY" in sql and "FROM concerns" in sql]
    assert "reporter_email" not in nearest and "reporter_name" not in nearest and "attributes" not in nearest
