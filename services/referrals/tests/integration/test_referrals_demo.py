"""The demo (`beat seed-demo`) gives each demo agency referrals in the states it meets, so its
list and its outcomes report are not empty, on SQLite and PostgreSQL, and seeding twice adds nothing."""

from __future__ import annotations

import pytest
from referrals_testkit import FOOD_BANK_USER, SAFE_HAVEN_USER, START

from beat_shared.db import make_engine, unit_of_work
from beat_shared.migrations import upgrade
from referrals import demo


@pytest.fixture
def referrals_db(database) -> str:
    """The full demo, as `beat seed-demo` loads it (the shared fixture seeds the directory only)."""
    url = database("referrals")
    upgrade("referrals", url)
    engine = make_engine(url, pool_size=1)
    with unit_of_work(engine) as session:
        first = demo.seed(session, START)  # the service's clock in these tests
    with unit_of_work(engine) as session:
        second = demo.seed(session, START)
    engine.dispose()
    assert f"{len(demo.DEMO_REFERRALS)} demo referrals added" in first
    assert "0 demo referrals added" in second
    return url


def test_each_demo_agency_has_referrals_in_every_state_and_outcomes(referrals, web_session):
    listed = web_session.get("/referrals?size=100", headers=FOOD_BANK_USER)
    assert listed.status_code == 200, listed.text
    states = {referral["status"] for referral in listed.json()["contents"]}
    assert states == {"sent", "accepted", "in_progress", "completed", "declined"}
    assert {referral["agency_id"] for referral in listed.json()["contents"]} == {"agency-riverton-food-bank"}

    [row] = web_session.get("/reports/outcomes", headers=FOOD_BANK_USER).json()["contents"]
    assert row["outcomes"]["got_help"] == 1 and row["outcomes"]["could_not_contact"] == 1
    assert row["declined"] == 1 and row["open"] == 3

    haven = web_session.get("/referrals?size=100", headers=SAFE_HAVEN_USER).json()["contents"]
    assert {referral["status"] for referral in haven} == {"sent", "completed", "declined"}
    # A sent demo referral is one the agency can open, with the (invented) client under valid consent.
    sent = next(referral for referral in haven if referral["status"] == "sent")
    details = web_session.get(f"/referrals/{sent['id']}", headers=SAFE_HAVEN_USER).json()
    assert details["client"]["name"].endswith("Demo") and details["consent"]["valid_now"] is True
