"""The demo seed runs on SQLite and is idempotent."""

from beat_shared.db import make_engine, unit_of_work
from beat_shared.migrations import upgrade
from notifications import demo, queries


def test_seed_twice_adds_nothing_the_second_time(tmp_path):
    url = f"sqlite:///{tmp_path}/notifications.db"
    upgrade("notifications", url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        first = demo.seed(session)
    with unit_of_work(engine) as session:
        second = demo.seed(session)
        subscribers = queries.beat_subscribers(session, "RV-01")
    engine.dispose()
    assert "9 directory entries added" in first
    assert "0 directory entries added" in second
    assert len(subscribers) == 2
