"""Issue 21, point 12: the demo is dated relative to the day it is loaded, its newest period is
the current one, post-contact results are in it, and wave times carry their offset."""

from datetime import UTC, datetime

import pytest

from beat_shared.db import make_engine, unit_of_work
from surveys import demo

LOADED = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
def surveys_loaded_today(surveys_db, clock):
    clock.advance(seconds=(LOADED - clock.now()).total_seconds())
    engine = make_engine(surveys_db, pool_size=1)
    with unit_of_work(engine) as session:
        summary = demo.seed(session, LOADED)
    engine.dispose()
    return summary


def test_demo_periods_end_with_the_quarter_of_the_day_it_is_loaded():
    assert demo.demo_periods(LOADED) == ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")
    assert demo.demo_periods(datetime(2026, 2, 10, tzinfo=UTC)) == ("2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1")


def test_the_newest_period_is_the_current_one_and_nothing_happened_after_today(
    surveys_loaded_today, surveys, helpers, web_session
):
    assert "2026-Q1 to 2026-Q4" in surveys_loaded_today
    body = web_session.get("/results?survey=standard&group=RV-01&code=safety").json()
    assert body["periods"] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert body["current_period"] == "2026-Q4"
    current = [cell for cell in body["contents"] if cell["period"] == "2026-Q4"]
    assert current and not current[0]["suppressed"] and current[0]["mean"] is not None
    for table, column in (
        ("concern_activity", "submitted_at"),
        ("concern_activity", "acknowledged_at"),
        ("concern_activity", "resolved_at"),
        ("meeting_activity", "held_at"),
        ("referral_activity", "sent_at"),
    ):
        latest = helpers.scalar(f"SELECT max({column}) FROM {table}")
        latest = latest if isinstance(latest, datetime) else datetime.fromisoformat(str(latest))
        assert latest.replace(tzinfo=latest.tzinfo or UTC) <= LOADED, f"{table}.{column} after the load day"
    card = web_session.get("/report-cards/RV-01?period=2026-Q4").json()
    assert card["actions"]["concerns_received"] > 0 and card["actions"]["meetings_held"] >= 1


def test_post_contact_results_are_in_the_demo(surveys_loaded_today, surveys, web_session):
    by_category = web_session.get("/results?survey=post-contact&by=category&period=2026-Q4").json()["contents"]
    shown = {cell["group"] for cell in by_category if cell["code"] == "satisfaction" and not cell["suppressed"]}
    assert {"noise", "drug_activity", "speeding_traffic", "vandalism_graffiti"} <= shown
    beat = web_session.get("/results?survey=post-contact&group=RV-02&period=2026-Q4&code=procedural_justice").json()
    assert [cell["n"] for cell in beat["contents"] if cell["group"] == "RV-02"] == [40]


def test_the_current_period_is_listed_before_its_first_response(surveys, clock, web_session):
    clock.advance(seconds=(LOADED - clock.now()).total_seconds())
    body = web_session.get("/results?survey=standard").json()
    assert body["periods"] == ["2026-Q4"] and body["current_period"] == "2026-Q4"


def test_wave_times_carry_their_offset(surveys_loaded_today, surveys, helpers, web_session):
    waves = web_session.get("/waves", headers=helpers.headers()).json()["contents"]
    assert len(waves) == 4
    for wave in waves:
        for name in ("opens_at", "closes_at"):
            moment = datetime.fromisoformat(wave[name].replace("Z", "+00:00"))
            assert moment.utcoffset() is not None, f"{name} {wave[name]} has no offset"
