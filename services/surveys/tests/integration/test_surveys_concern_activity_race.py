"""Two events of one new concern handled at the same moment both land in the report card's facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import eventlet
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from beat_shared.db import make_engine
from beat_shared.migrations import upgrade
from beat_shared.testing import wait_for
from surveys.commands import record_concern_activity
from surveys.models import ConcernActivity

SUBMITTED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.postgresql_only
def test_the_first_facts_of_a_concern_recorded_at_once_by_two_handlers_both_land(database):
    """PostgreSQL only: there two handlers really run side by side (SQLite's writers take turns on
    one lock, so the second cannot start before the first commits). The second used to fail on the
    primary key when the first committed, and went round the retry queue with an ERROR logged."""
    engine = make_engine(database("surveys"), pool_size=3)
    upgrade("surveys", str(engine.url.render_as_string(hide_password=False)))
    first, second = Session(engine), Session(engine)
    try:
        record_concern_activity(first, {"concern_id": "c-1", "beat_code": "RV-01"}, submitted_at=SUBMITTED)
        acknowledged = SUBMITTED + timedelta(hours=2)
        racing = eventlet.spawn(record_concern_activity, second, {"concern_id": "c-1"}, acknowledged_at=acknowledged)
        wait_for(lambda: _someone_waits_for_a_lock(engine), timeout=10, message="the second handler waiting")
        first.commit()
        racing.wait()
        second.commit()
        with Session(engine) as reading:
            activity = reading.get(ConcernActivity, "c-1")
            assert activity is not None
            assert (activity.submitted_at, activity.acknowledged_at, activity.beat_code) == (
                SUBMITTED,
                acknowledged,
                "RV-01",
            )
    finally:
        first.close()
        second.close()
        engine.dispose()


def _someone_waits_for_a_lock(engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one())
