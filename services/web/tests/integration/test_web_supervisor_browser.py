"""The supervisor's pages in Chromium, without scripts: from the signed-in home to the overdue and
unplaced lists, assigning an officer to a beat with the form, the categories; axe-core on every page,
each page at 360 px without sideways scrolling, and screenshots of the supervisor's page
(docs/screenshots/web-supervisor-{desktop,phone}.png). And the analyst's home in Spanish."""

from __future__ import annotations

import pytest
import requests
from integration.test_web_browser import DESKTOP, PHONE, Resident
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from integration.test_web_officer_console import mark_overdue, voiced
from integration.test_web_supervisor import unplaced_concern
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

# Chromium drives pages; the services behind them need a database only to run, and their storage is
# tested on both backends over HTTP: one backend here, SQLite (what `make run` gives).
pytestmark = pytest.mark.sqlite_only


def fits_a_phone(person: Resident) -> None:
    """The page at 360 px does not scroll sideways."""
    person.resize(PHONE)
    try:
        width = person.driver.execute_script("return document.documentElement.scrollWidth")
        wide = person.driver.execute_script(
            "return [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 360)"
            ".slice(0, 5).map(e => e.tagName + '.' + e.className + ':' + e.textContent.slice(0, 60))"
        )
        assert width <= PHONE[0], f"{person.driver.current_url} scrolls sideways at 360 px ({width} px): {wide}"
    finally:
        person.driver.set_window_size(*DESKTOP)


def test_a_supervisor_reads_the_lists_and_assigns_an_officer_without_scripts(stack, concerns_db, chrome, backend):
    nowhere = unplaced_concern(stack)
    late, _ = voiced(stack.web_url, description="Dogs barking all night")
    mark_overdue(concerns_db, late)
    supervisor = Resident(chrome, stack.web_url, "en", scripts=False)
    supervisor.open("/sign-in")
    supervisor.find('input[value="supervisor-1"]').click()
    supervisor.follow(supervisor.find('form[action="/sign-in"] button'))
    supervisor.open("/me")
    supervisor.follow(supervisor.find('main a[href="/supervisor"]'))
    assert supervisor.find("#count-unplaced").text == "1" and supervisor.find("#count-overdue").text == "1"
    assert supervisor.driver.find_elements(By.CSS_SELECTOR, f'#overdue ~ ul a[href="/staff/concerns/{late}"]')
    assert supervisor.driver.find_elements(By.CSS_SELECTOR, f'#unplaced ~ ul a[href="/staff/concerns/{nowhere}"]')
    if backend == "sqlite":
        supervisor.screenshot("web-supervisor-desktop", DESKTOP)
        supervisor.screenshot("web-supervisor-phone", PHONE)
    fits_a_phone(supervisor)

    supervisor.follow(supervisor.find('a[href="/supervisor/assignments"]'))
    Select(supervisor.find("#beat")).select_by_value("RV-04")
    supervisor.find("#subject").send_keys("officer-rv06")
    supervisor.follow(supervisor.find('form[action="/supervisor/assignments"] button[type="submit"]'))
    assert "The officer was assigned to the beat." in supervisor.find(".flash").text
    assert "(officer-rv06)" in supervisor.find("#beat-RV-04 ~ ul").text
    fits_a_phone(supervisor)
    beat = requests.get(f"{stack.concerns_url}/beats/RV-04", timeout=10).json()
    assert "officer-rv06" in [person["subject"] for person in beat["officers"]]

    supervisor.open("/supervisor/categories")
    fits_a_phone(supervisor)
    assert len(supervisor.pages_checked) >= 6


def test_the_analysts_home_in_spanish_without_scripts(stack, chrome, backend):
    analyst = Resident(chrome, stack.web_url, "es", scripts=False)
    analyst.open("/sign-in")
    analyst.find('input[value="analyst-1"]').click()
    analyst.follow(analyst.find('form[action="/sign-in"] button'))  # lands on the home page, checked by axe-core
    assert "Para analistas" in analyst.find("#analyst").text
    if backend == "sqlite":
        analyst.screenshot("web-analyst-home-desktop-es", DESKTOP)
        analyst.screenshot("web-analyst-home-phone-es", PHONE)
    fits_a_phone(analyst)
