"""A resident follows their beat's alerts in Chromium: from the beat page, with the keyboard, in
English with scripts and in Spanish without; axe-core on every page (the same checks as the main
journey, `test_web_browser.Resident`), and the alerts page fits a 360 px wide phone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from integration.test_web_browser import PHONE, WAIT, Resident
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from beat_shared.auth import mint_token
from beat_shared.config import env
from concerns.demo import seed_reference
from concerns.service import ConcernsService
from notifications.service import NotificationsService

RESIDENT = "resident-demo-2"
WORDS = {
    "en": {"follow": "Get this beat's alerts", "done": "you follow this beat", "stop": "Stop alerts from RV-02"},
    "es": {"follow": "Recibir las alertas de este sector", "done": "recibirá las alertas", "stop": "Dejar de recibir"},
}


@pytest.fixture
def alerts_site(running_services, start_web) -> tuple[str, str]:
    started = running_services(
        {
            "concerns": (ConcernsService, lambda session: seed_reference(session, datetime.now(UTC)), None),
            "notifications": (NotificationsService, lambda session: None, None),
        }
    )
    web_url = start_web(WEB_CONCERNS_URL=started["concerns"].url, WEB_NOTIFICATIONS_URL=started["notifications"].url)
    return web_url, started["notifications"].url


@pytest.mark.parametrize(("language", "scripts"), [("en", True), ("es", False)])
def test_a_resident_follows_their_beat_from_its_page_with_the_keyboard(alerts_site, chrome, language, scripts):
    web_url, notifications_url = alerts_site
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
    WebDriverWait(resident.driver, WAIT).until(expected_conditions.staleness_of(page))
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
    assert len(resident.pages_checked) >= 5
