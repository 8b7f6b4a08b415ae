"""A resident follows their beat's alerts in Chromium: from the beat page, with the keyboard, in
English with scripts and in Spanish without; axe-core on every page (the same checks as the main
journey, `test_web_browser.Resident`), and the alerts page fits a 360 px wide phone. Then the beat's
officer schedules a meeting through concerns' API, notifications announces it (its own dispatcher
round, from concerns' event) and the resident reads the announcement in their inbox, in their language,
and opens the meeting's page from the beat page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from integration.test_web_browser import PHONE, WAIT, Resident
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from web_testkit import staff_headers

from beat_shared.auth import mint_token
from beat_shared.config import env
from beat_shared.testing import page_replaced, wait_for
from concerns.demo import seed_reference
from concerns.service import ConcernsService
from notifications.service import NotificationsService

# Chromium drives pages; the services behind them need a database only to run, and their storage is
# tested on both backends over HTTP: one backend here, SQLite (what `make run` gives).
pytestmark = pytest.mark.sqlite_only

RESIDENT = "resident-demo-2"
WORDS = {
    "en": {
        "follow": "Get this beat's alerts",
        "done": "you follow this beat",
        "stop": "Stop alerts from RV-02",
        "welcome": "Everyone in the neighbourhood is welcome.",
    },
    "es": {
        "follow": "Recibir las alertas de este sector",
        "done": "recibirá las alertas",
        "stop": "Dejar de recibir",
        "welcome": "Todo el vecindario está invitado.",
    },
}
MEETING = {"title": "Elm Street beat meeting", "venue": "Riverton Public Library"}


@pytest.fixture
def alerts_site(running_services, start_web) -> tuple[str, str, str]:
    started = running_services(
        {
            "concerns": (ConcernsService, lambda session: seed_reference(session, datetime.now(UTC)), None),
            "notifications": (NotificationsService, lambda session: None, None),
        }
    )
    web_url = start_web(WEB_CONCERNS_URL=started["concerns"].url, WEB_NOTIFICATIONS_URL=started["notifications"].url)
    return web_url, started["notifications"].url, started["concerns"].url


def officer_schedules_a_meeting(concerns_url: str) -> str:
    """The beat's officer schedules a community meeting next week through concerns' API; its id."""
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    body = {
        "kind": "community_meeting",
        **MEETING,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
    }
    headers = staff_headers("officer", "officer-rv02")
    answer = requests.post(f"{concerns_url}/beats/RV-02/meetings", json=body, headers=headers, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def reads_the_announcement(resident: Resident, concerns_url: str) -> None:
    """From the officer's scheduling to the resident's inbox (concerns' event, notifications' round),
    then the meeting's own page from the beat page."""
    meeting_id = officer_schedules_a_meeting(concerns_url)

    def announced() -> bool:
        resident.driver.get(resident.base + "/me/inbox")
        return MEETING["title"] in resident.text()

    wait_for(announced, timeout=30, interval=0.5, message="the meeting's announcement in the inbox")
    resident._arrived()  # the inbox in the resident's language, checked by axe-core
    item = resident.find("ul.inbox li.unread").text
    assert MEETING["title"] in item and MEETING["venue"] in item and WORDS[resident.language]["welcome"] in item
    resident.open("/beats/RV-02")
    resident.follow(resident.find(f'a[href="/meetings/{meeting_id}"]'))
    assert MEETING["title"] in resident.text() and MEETING["venue"] in resident.text()


@pytest.mark.parametrize(("language", "scripts"), [("en", True), ("es", False)])
def test_a_resident_follows_their_beat_and_reads_its_meeting_announcement(alerts_site, chrome, language, scripts):
    web_url, notifications_url, concerns_url = alerts_site
    resident = Resident(chrome, web_url, language, scripts=scripts)
    resident.open("/alerts")  # anonymous: asked to sign in first (checked by axe-core too)
    assert resident.find('a.button[href="/sign-in"]').is_displayed()
    resident.open("/sign-in")
    resident.find(f'input[value="{RESIDENT}"]').click()
    resident.follow(resident.find('form[action="/sign-in"] button'))
    resident.open("/beats/RV-02")
    resident.follow(resident.find('a[href="/alerts?beat=RV-02"]'))
    assert resident.find('#beat_code option[value="RV-02"]').is_selected()

    email = resident.find("#email")
    email.clear()
    email.send_keys("ben@example.org")
    # A time field's typed form follows the browser's locale (AM/PM or not): set as a picker would.
    for field, value in (("#quiet_start", "22:00"), ("#quiet_end", "07:00")):
        resident.driver.execute_script("arguments[0].value = arguments[1]", resident.find(field), value)
    page = resident.find("html")
    email.send_keys(Keys.ENTER)  # the keyboard sends the form
    WebDriverWait(resident.driver, WAIT).until(page_replaced(page))
    resident._arrived()  # the next page: its language and axe-core
    assert WORDS[language]["done"] in resident.text() and WORDS[language]["stop"] in resident.text()
    resident.screenshot(f"web-alerts-phone-{language}", PHONE)  # fails if the page scrolls sideways

    token = mint_token("resident", RESIDENT, env("BEAT_JWT_SECRET"))
    mine = {"Authorization": f"Bearer {token}"}
    assert requests.get(notifications_url + "/me/subscriptions", headers=mine, timeout=10).json() == {
        "beat_codes": ["RV-02"],
        "watch_beat_codes": [],
    }
    contact = requests.get(notifications_url + "/me/contact", headers=mine, timeout=10).json()
    assert (contact["email"], contact["language"]) == ("ben@example.org", language)
    assert (contact["quiet_start"], contact["quiet_end"]) == ("22:00", "07:00")

    reads_the_announcement(resident, concerns_url)
    assert len(resident.pages_checked) >= 8
