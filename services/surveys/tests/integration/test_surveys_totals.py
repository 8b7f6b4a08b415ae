"""Running totals: the migration fills them from the responses already stored.
(How responses keep them up to date is tested in test_surveys_responding.py.)"""

from __future__ import annotations

from beat_shared.db import make_engine, unit_of_work
from beat_shared.migrations import downgrade, upgrade
from surveys import demo


def test_the_migration_counts_responses_stored_before_it(surveys_db, helpers):
    url = surveys_db  # on PostgreSQL and SQLite (the `backend` of the fixtures)
    engine = make_engine(url, pool_size=1)
    with unit_of_work(engine) as session:
        demo.seed(session)
    engine.dispose()
    seeded = helpers.totals(url)
    assert len(seeded) > 100

    downgrade("surveys", url, "0002")  # drops the totals; the responses stay
    upgrade("surveys", url)
    assert helpers.totals(url) == seeded
