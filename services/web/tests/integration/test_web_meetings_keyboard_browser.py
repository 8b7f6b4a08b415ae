"""An officer schedules a meeting and records what it agreed with the keyboard alone, in Chromium without
scripts: Tab to each field, type, Enter on the buttons (the date and time fields typed as their segments
take them); axe-core on every page. The agenda offered holds the beat's open concern, kept ticked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from integration.test_web_browser import Resident
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from integration.test_web_officer_console import voiced
from integration.test_web_partnership_browser import press_enter, tab_to
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from beat_shared.config import env

# Chromium drives pages; the services behind them need a database only to run, and their storage is
# tested on both backends over HTTP: one backend here, SQLite (what `make run` gives).
pytestmark = pytest.mark.sqlite_only


def typed_moment(hours_from_now: float, with_time: bool = True) -> str:
    """The keys for a date (and time) field as Chromium's segments take them: month, day, year, then (a year
    takes up to six digits, so the arrow moves on) hour, minute, AM/PM."""
    moment = datetime.now(ZoneInfo(env("WEB_TIMEZONE"))) + timedelta(hours=hours_from_now)
    if not with_time:
        return moment.strftime("%m%d%Y")
    return moment.strftime("%m%d%Y") + Keys.ARROW_RIGHT + moment.strftime("%I%M%p")[:-1]


def typed_date(hours_from_now: float) -> str:
    return (datetime.now(ZoneInfo(env("WEB_TIMEZONE"))) + timedelta(hours=hours_from_now)).date().isoformat()


def type_keys(person: Resident, keys: str) -> None:
    ActionChains(person.driver).send_keys(keys).perform()


def test_an_officer_schedules_and_concludes_a_meeting_with_the_keyboard_without_scripts(stack, chrome):
    concern_id, _ = voiced(stack.web_url, description="Music from the bar until 3 am")
    officer = Resident(chrome, stack.web_url, "en", scripts=False)
    officer.open("/sign-in")
    officer.find('input[value="officer-rv02"]').click()
    officer.follow(officer.find('form[action="/sign-in"] button'))
    officer.open("/staff/meetings")
    tab_to(officer, 'a[href="/staff/beats/RV-02/meetings/new"]')
    press_enter(officer)
    assert officer.find(f'input[name="agenda"][value="{concern_id}"]').is_selected()
    for field, keys in (
        ("#title", "Downtown beat meeting"),
        ("#venue", "Riverton Public Library"),
        ("#starts_at", typed_moment(-26)),  # held yesterday evening: it can be concluded now
        ("#ends_at", typed_moment(-25)),
    ):
        tab_to(officer, field)
        type_keys(officer, keys)
    tab_to(officer, 'form[action="/staff/beats/RV-02/meetings"] button[type="submit"]')
    press_enter(officer)
    assert "The meeting was scheduled." in officer.find(".flash").text
    assert officer.driver.find_elements(By.CSS_SELECTOR, f'#agenda-items a[href="/staff/concerns/{concern_id}"]')
    meeting_id = officer.driver.current_url.rsplit("/", 1)[1]

    for field, keys in (
        ("#attendees", "23"),
        ("#summary", "The bar's music worried everyone."),
        ("#action_description_0", "Visit the bar with the licensing officer"),
        ("#action_owner_0", "Officer of beat RV-02"),
        ("#action_due_0", typed_moment(24 * 30, with_time=False)),
        ("#priority_title_0", "Late-night noise downtown"),
    ):
        tab_to(officer, field)
        type_keys(officer, keys)
    tab_to(officer, 'form[action$="/conclusion"] button[type="submit"]')
    press_enter(officer)
    assert "What the meeting agreed was recorded." in officer.find(".flash").text

    meeting = requests.get(f"{stack.concerns_url}/meetings/{meeting_id}", timeout=10).json()
    assert meeting["status"] == "concluded" and meeting["attendees"] == 23
    assert [item["concern_id"] for item in meeting["agenda"]] == [concern_id]
    started = datetime.fromisoformat(meeting["starts_at"].replace("Z", "+00:00"))
    assert abs(started - (datetime.now(UTC) - timedelta(hours=26))) < timedelta(minutes=2)  # the typed time, in UTC
    [action] = meeting["actions"]
    assert (action["description"], action["owner"]) == (
        "Visit the bar with the licensing officer",
        "Officer of beat RV-02",
    )
    assert action["due_date"] == typed_date(24 * 30)
    assert len(officer.pages_checked) >= 4
