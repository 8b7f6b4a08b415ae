"""Problem solving and tips in Chromium without scripts (issue 26): an officer opens a problem from
a scanning candidate, links a concern that arrived later, adds a plan action, moves it through the
response to assessment and closes it with an outcome; a resident gives the beat a tip that the
officer then reads. axe-core on every page, each page at 360 px; screenshots of the workspace and
the tip form at desktop and phone width (services/web/README.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from integration.test_web_browser import DESKTOP, PHONE, WAIT, Resident
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from integration.test_web_supervisor_browser import fits_a_phone
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import WebDriverWait
from web_testkit import open_receipt, voice

from beat_shared.clock import FrozenClock

# Chromium drives pages; the services behind them need a database only to run, and their storage is
# tested on both backends over HTTP: one backend here, SQLite (what `make run` gives).
pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def problem_stack(start_stack, clock, surveys_url):
    """concerns and web, and surveys with its demo results (the assessment shows the beat's scores)."""
    concerns = {"CONCERNS_RATE_PER_ADDRESS": "1000/3600", "BEAT_CLOCK": clock, "CONCERNS_PROBLEM_MIN_CONCERNS": "3"}
    return start_stack(concerns=concerns, web={"WEB_SURVEYS_URL": surveys_url})


def voiced(base: str, description: str, **place: str) -> str:
    resident = requests.Session()
    assert voice(resident, base, confirmed="yes", description=description, **place).status_code == 303
    return open_receipt(resident, base)


def shows(person: Resident, words: str) -> bool:
    """Whether the page comes to show `words` (after a form's redirect Chromium may still be swapping
    the document in for a moment: "Node ... does not belong to the document" is retried, not failed)."""

    def has(_: object) -> bool:
        try:
            return words in person.text()
        except WebDriverException:
            return False

    WebDriverWait(person.driver, WAIT).until(has, message=f"{words!r} on {person.driver.current_url}")
    return True


def signed_in_officer(chrome, base: str) -> Resident:
    officer = Resident(chrome, base, "en", scripts=False)
    officer.open("/sign-in")
    officer.find('input[value="officer-rv02"]').click()
    officer.follow(officer.find('form[action="/sign-in"] button'))
    return officer


def test_an_officer_solves_a_problem_and_reads_a_tip_without_scripts(problem_stack, chrome, clock, backend):
    web = problem_stack.web_url
    for night in range(3):
        voiced(web, f"Loud music from the yard, night {night}")
    resident = Resident(chrome, web, "en", scripts=False)
    resident.open("/beats/RV-02")
    assert resident.find("#problem-counts").text.startswith("Being worked on now: 0")
    resident.follow(resident.find('a[href="/beats/RV-02/tip"]'))
    assert "not an emergency line" in resident.find("#tip-notice").text.lower()
    fits_a_phone(resident)
    if backend == "sqlite":
        resident.screenshot("web-tip-desktop", DESKTOP)
        resident.screenshot("web-tip-phone", PHONE)
    resident.find("#text").send_keys("The parties are announced on a flyer at the bus stop")
    resident.find("#contact").send_keys("555-0199")
    resident.follow(resident.find('form[action="/beats/RV-02/tip"] button[type="submit"]'))
    assert shows(resident, "Your tip was passed on")

    officer = signed_in_officer(chrome, web)
    officer.open("/staff/queue")
    officer.follow(officer.find('a[href="/staff/problems"]'))
    fits_a_phone(officer)
    officer.follow(officer.find('form[action="/staff/beats/RV-02/problems"] button[type="submit"]'))
    assert "The problem was opened." in officer.find(".flash").text
    later = voiced(web, "Music again, further up the street", lat="43.0460", long="-108.380")
    officer.open(officer.driver.current_url.split("#")[0].replace(web, ""))
    officer.find(f'input[name="concern_ids"][value="{later}"]').click()
    officer.follow(officer.find('form[action$="/concerns"] button[type="submit"]'))
    assert "The concerns were linked to the problem." in officer.find(".flash").text
    officer.find("#description").send_keys("Talk to the landlord of the yard")
    officer.find("#owner").send_keys("Officer Whitehorse")
    officer.driver.execute_script("arguments[0].value = '2027-01-15'", officer.find("#due_date"))
    officer.follow(officer.find('form[action$="/actions"] button[type="submit"]'))
    assert "The action was added to the plan." in officer.find(".flash").text
    for stage in ("analysis", "response"):
        officer.follow(officer.find(f'form[action$="/stage"] button[value="{stage}"]'))
    clock.advance(days=10)
    officer.follow(officer.find('form[action$="/stage"] button[value="assessment"]'))
    clock.advance(days=8)
    officer.open(officer.driver.current_url.split("#")[0].replace(web, ""))
    assert "The problem's area" in officer.text()
    assert "Feeling safe" in officer.find("table.survey-scores").text  # the beat's scores, same windows
    fits_a_phone(officer)
    if backend == "sqlite":
        officer.screenshot("web-staff-problem-desktop", DESKTOP)
        officer.screenshot("web-staff-problem-phone", PHONE)
    officer.find('#outcome option[value="reduced"]').click()
    officer.follow(officer.find('form[action$="/assessment"] button[type="submit"]'))
    assert "Reduced" in officer.find("#problem-outcome").text
    officer.follow(officer.find('a[href^="/problems/"]'))
    assert "Officer Whitehorse" not in officer.text() and "Talk to the landlord of the yard" in officer.text()

    officer.open("/staff/beats/RV-02/tips")
    fits_a_phone(officer)
    officer.follow(officer.find('a[href^="/staff/tips/"]'))
    assert "555-0199" in officer.find("#tip-contact").text
    assert "flyer at the bus stop" in officer.find("#tip-text").text
    fits_a_phone(officer)


def test_the_tip_form_and_problem_pages_in_spanish(problem_stack, chrome):
    web = problem_stack.web_url
    for night in range(3):
        voiced(web, f"Música alta, noche {night}")
    resident = Resident(chrome, web, "es", scripts=False)
    resident.open("/beats/RV-02")
    resident.follow(resident.find('a[href="/beats/RV-02/tip"]'))
    assert "Dar un aviso a los agentes de RV-02" in resident.text()
    resident.follow(resident.find('form[action="/beats/RV-02/tip"] button[type="submit"]'))  # empty: refused
    assert resident.find("#text").get_attribute("aria-invalid") == "true"
    assert "Este dato es obligatorio." in resident.find("#text-error").text
    resident.find("#text").send_keys("La furgoneta llega a las dos")
    resident.follow(resident.find('form[action="/beats/RV-02/tip"] button[type="submit"]'))
    assert shows(resident, "Su aviso se ha enviado")

    officer = Resident(chrome, web, "es", scripts=False)
    officer.open("/sign-in")
    officer.find('input[value="officer-rv02"]').click()
    officer.follow(officer.find('form[action="/sign-in"] button'))
    officer.open("/staff/problems")
    assert "Sugeridos por los datos" in officer.text()
    officer.follow(officer.find('form[action="/staff/beats/RV-02/problems"] button[type="submit"]'))
    assert "Se abrió el problema." in officer.find(".flash").text
    fits_a_phone(officer)
    officer.follow(officer.find('a[href^="/problems/"]'))
    assert "Detección: visto en los datos" in officer.text() or "Análisis" in officer.text()
    fits_a_phone(officer)
    officer.open("/staff/beats/RV-02/tips")
    officer.follow(officer.find('a[href^="/staff/tips/"]'))
    assert "La furgoneta llega a las dos" in officer.find("#tip-text").text
    officer.follow(officer.find('form[action$="/problem"] button[type="submit"]'))
    assert "El aviso ya no está vinculado a un problema." in officer.find(".flash").text
