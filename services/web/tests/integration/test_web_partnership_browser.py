"""The partnership loop in Chromium: a resident voices a concern; the beat's officer signs in, finds
it in the queue and acknowledges it with a public note; the resident's follow page shows the note;
the officer refers the resident with consent and sends the referral; the food bank signs in, accepts
and completes it with an outcome; the officer sees the outcome; the officer schedules a meeting
whose agenda holds the concern and records an agreed action and a priority, which the beat's page
then shows. axe-core on every page (the checks of `test_web_browser.Resident`); screenshots of the
console, a concern, the referral form, the agency inbox and the meeting pages at desktop and 360 px
width into docs/screenshots/. And the officer's acknowledge-and-resolve journey with the keyboard
alone, in Spanish, without scripts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from integration.test_web_browser import DESKTOP, PHONE, RV02, WAIT, Resident, click_map_at
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from beat_shared.config import env
from beat_shared.testing import page_replaced, wait_for

# Chromium drives pages; the services behind them need a database only to run, and their storage is
# tested on both backends over HTTP: one backend here, SQLite (what `make run` gives).
pytestmark = pytest.mark.sqlite_only

NOTE = "I will walk past tonight and talk to the bar's owner."


def city_time(hours_from_now: float) -> str:
    """A `datetime-local` value in the city's time zone, as its picker would set it."""
    return (datetime.now(ZoneInfo(env("WEB_TIMEZONE"))) + timedelta(hours=hours_from_now)).strftime("%Y-%m-%dT%H:%M")


def signed_in(driver, base: str, subject: str) -> Resident:
    """A fresh browser session (no cookies) signed in as one of the demo people."""
    person = Resident(driver, base, "en", scripts=True)
    person.open("/sign-in")
    person.find(f'input[value="{subject}"]').click()
    person.follow(person.find('form[action="/sign-in"] button'))
    return person


def shots(person: Resident, name: str, take: bool) -> None:
    if take:
        person.screenshot(f"{name}-desktop", DESKTOP)
        person.screenshot(f"{name}-phone", PHONE)


def voice_a_concern(resident: Resident, stack) -> str:
    """The resident's part (part 1's pages): the noise form, the map, contact by e-mail; the receipt link."""
    resident.open("/voice/noise")
    click_map_at(resident, stack, *RV02)
    resident.find("#description").send_keys("Music from the bar until 3 am every night.")
    resident.find("#name").send_keys("Rosa Díaz")
    resident.find("#email").send_keys("rosa@example.org")
    resident.find('input[name="preference"][value="email"]').click()
    resident.follow(resident.find('button[name="send"]'))
    return resident.find("#receipt-link").get_attribute("value")


def test_the_partnership_loop(partners, chrome, backend):
    stack, _ = partners
    take = backend == "sqlite"
    link = voice_a_concern(Resident(chrome, stack.web_url, "en", scripts=True), stack)
    concern_id = re.search(r"#([0-9a-f-]{36})\.", link)[1]

    # The beat's officer finds it in the queue and acknowledges it with a public note.
    officer = signed_in(chrome, stack.web_url, "officer-rv02")
    officer.follow(officer.find('a[href="/staff/queue"]'))
    assert officer.find("#count-new").text == "1"
    shots(officer, "web-staff-queue", take)
    officer.follow(officer.find(f'#part-new ~ ul a[href="/staff/concerns/{concern_id}"]'))
    assert "rosa@example.org" in officer.find("#reporter-contact").text
    officer.find("#step-public-note").send_keys(NOTE)
    officer.find("#step-internal-note").send_keys("Owner had a warning last summer.")
    officer.follow(officer.find('button[name="status"][value="acknowledged"]'))
    assert "The step was recorded." in officer.find(".flash").text
    shots(officer, "web-staff-concern", take)

    # The resident's follow page shows the public note, not the internal one.
    resident = Resident(chrome, stack.web_url, "en", scripts=True)
    chrome.get(link)
    WebDriverWait(chrome, WAIT).until(lambda d: f"/follow/{concern_id}" in d.current_url)
    resident._arrived()
    assert NOTE in resident.text() and "warning last summer" not in resident.text()

    # The officer refers the resident, with their consent, and sends the referral.
    officer = signed_in(chrome, stack.web_url, "officer-rv02")
    officer.open(f"/staff/concerns/{concern_id}")
    officer.follow(officer.find(f'a[href="/staff/concerns/{concern_id}/refer"]'))
    Select(officer.find("#search-need")).select_by_value("food")
    officer.follow(officer.find('form[method="get"] button'))
    assert officer.driver.find_elements(By.CSS_SELECTOR, ".matches li")
    Select(officer.find("#need")).select_by_value("food")
    # In Spanish: the best match for food here is then the food bank's (the agency signed in below).
    Select(officer.find("#client_language")).select_by_value("es")
    officer.find("#given_by").send_keys("Rosa Díaz")
    # A datetime-local field's typed form follows the browser's locale: set it as its picker would.
    officer.driver.execute_script("arguments[0].value = '2026-01-05T10:30'", officer.find("#given_at"))
    officer.find('input[name="method"][value="verbal"]').click()
    officer.find("#scope").send_keys("Share my name and e-mail with a food bank")
    shots(officer, "web-staff-refer", take)
    officer.follow(officer.find('form[method="post"][action$="/refer"] button'))

    def drafted() -> bool:
        officer.open(f"/staff/concerns/{concern_id}")
        return bool(officer.driver.find_elements(By.CSS_SELECTOR, 'form[action^="/staff/referrals/"] button'))

    wait_for(drafted, message="the drafted referral on the concern's page")
    officer.follow(officer.find('form[action^="/staff/referrals/"] button'))
    assert "Sent, waiting for the agency" in officer.text()

    # The food bank accepts it and completes it with an outcome.
    agency = signed_in(chrome, stack.web_url, "worker@riverton-food-bank")
    assert agency.find("#count-sent").text == "1"
    shots(agency, "web-agency-inbox", take)
    agency.follow(agency.find('#part-sent ~ ul a[href^="/agency/referrals/"]'))
    assert "Rosa Díaz" in agency.find("#client").text
    agency.follow(agency.find('form[action$="/accept"] button'))
    agency.find('input[name="outcome"][value="got_help"]').click()
    agency.follow(agency.find('form[action$="/complete"] button'))
    assert "Completed" in agency.find("#status").text

    # The officer sees the outcome on the concern's page.
    officer = signed_in(chrome, stack.web_url, "officer-rv02")
    officer.open(f"/staff/concerns/{concern_id}")
    assert "Outcome: Got help" in officer.text()
    assert len(officer.pages_checked) >= 3

    # The officer schedules a meeting whose agenda holds the concern, and records what it agreed.
    officer.open("/staff/queue")
    officer.follow(officer.find('a[href="/staff/meetings"]'))
    officer.follow(officer.find('a[href="/staff/beats/RV-02/meetings/new"]'))
    assert officer.find(f'input[name="agenda"][value="{concern_id}"]').is_selected()
    officer.find("#title").send_keys("Downtown beat meeting")
    officer.find("#venue").send_keys("Riverton Public Library")
    for field, hours in (("starts_at", -2), ("ends_at", -1)):  # held this evening: it can be concluded now
        officer.driver.execute_script(f"arguments[0].value = '{city_time(hours)}'", officer.find(f"#{field}"))
    shots(officer, "web-staff-meeting-new", take)
    officer.follow(officer.find('form[action="/staff/beats/RV-02/meetings"] button[type="submit"]'))
    assert "The meeting was scheduled." in officer.find(".flash").text
    assert officer.driver.find_elements(By.CSS_SELECTOR, f'#agenda-items a[href="/staff/concerns/{concern_id}"]')
    officer.find("#attendees").send_keys("23")
    officer.find("#summary").send_keys("The bar's music worried everyone.")
    officer.find("#action_description_0").send_keys("Visit the bar with the licensing officer")
    officer.find("#action_owner_0").send_keys("Officer of beat RV-02")
    officer.driver.execute_script("arguments[0].value = '2026-12-31'", officer.find("#action_due_0"))
    Select(officer.find("#action_concern_0")).select_by_value(concern_id)
    officer.find("#priority_title_0").send_keys("Late-night noise downtown")
    Select(officer.find("#priority_concern_0")).select_by_value(concern_id)
    shots(officer, "web-staff-meeting", take)
    officer.follow(officer.find('form[action$="/conclusion"] button[type="submit"]'))
    assert "What the meeting agreed was recorded." in officer.find(".flash").text

    # The beat's public page shows the priority and the action.
    visitor = Resident(chrome, stack.web_url, "en", scripts=True)
    visitor.open("/beats/RV-02")
    assert "Late-night noise downtown" in visitor.text()
    assert "Visit the bar with the licensing officer" in visitor.text()


def tab_to(person: Resident, selector: str, presses: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus (as a keyboard user moves)."""
    wanted = person.find(selector)
    for _ in range(presses):
        ActionChains(person.driver).send_keys(Keys.TAB).perform()
        if person.driver.switch_to.active_element == wanted:
            return
    raise AssertionError(f"Tab never reached {selector} on {person.driver.current_url}")


def press_enter(person: Resident) -> None:
    """Enter on the focused link or button, and wait for the page it loads."""
    page = person.driver.find_element(By.TAG_NAME, "html")
    ActionChains(person.driver).send_keys(Keys.ENTER).perform()
    WebDriverWait(person.driver, WAIT).until(page_replaced(page))
    person._arrived()


def test_an_officer_acknowledges_and_resolves_with_the_keyboard_in_spanish_without_scripts(partners, chrome):
    stack, _ = partners
    voice_a_concern(Resident(chrome, stack.web_url, "en", scripts=True), stack)
    officer = Resident(chrome, stack.web_url, "es", scripts=False)
    officer.open("/sign-in")
    officer.find('input[value="officer-rv02"]').click()
    officer.follow(officer.find('form[action="/sign-in"] button'))
    officer.open("/staff/queue")
    tab_to(officer, '#part-new ~ ul a[href^="/staff/concerns/"]')
    press_enter(officer)
    tab_to(officer, "#step-public-note")
    ActionChains(chrome).send_keys("Pasaré esta noche.").perform()
    tab_to(officer, 'button[name="status"][value="acknowledged"]')
    press_enter(officer)
    assert "Se registró el paso." in officer.find(".flash").text
    tab_to(officer, "#step-public-note")
    ActionChains(chrome).send_keys("Hablé con el dueño del bar; la música termina a medianoche.").perform()
    tab_to(officer, 'button[name="status"][value="resolved"]')
    press_enter(officer)
    assert officer.find("#status").text == "Resuelta"
    assert "Pasaré esta noche." in officer.text() and "termina a medianoche" in officer.text()
