"""The administrator changes a category in Chromium, in Spanish, without scripts: from signing in (they land on
the supervisors' page) to the categories, the form, an error beside its field, then saved; axe-core on every
page, each at 360 px without sideways scrolling; screenshots of the form (web-admin-category-{desktop,phone})."""

from __future__ import annotations

import pytest
import requests
from integration.test_web_browser import DESKTOP, PHONE, Resident
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from integration.test_web_supervisor_browser import fits_a_phone

# Chromium drives pages; the services behind them need a database only to run, and their storage is
# tested on both backends over HTTP: one backend here, SQLite (what `make run` gives).
pytestmark = pytest.mark.sqlite_only

CODE = "speeding_traffic"


def test_the_admin_changes_a_category_in_spanish_without_scripts(stack, chrome, backend):
    admin = Resident(chrome, stack.web_url, "es", scripts=False)
    admin.open("/sign-in")
    admin.find('input[value="admin-1"]').click()
    admin.follow(admin.find('form[action="/sign-in"] button'))
    assert admin.driver.current_url == stack.web_url + "/supervisor"
    admin.follow(admin.find('main a[href="/supervisor/categories"]'))
    fits_a_phone(admin)
    admin.follow(admin.find(f'a[href="/supervisor/categories/{CODE}"]'))
    assert admin.find("#name_es").get_attribute("value") == "Exceso de velocidad y tráfico"
    if backend == "sqlite":
        admin.screenshot("web-admin-category-desktop", DESKTOP)
        admin.screenshot("web-admin-category-phone", PHONE)
    fits_a_phone(admin)

    admin.find("#name").clear()
    admin.follow(admin.find('main form button[type="submit"]'))  # a 400 page: the error beside the field
    assert admin.find("#name-error").text and admin.find(".error-summary")
    # The page puts the focus on what to correct (autofocus: no script needed), where Tab then goes on.
    assert admin.driver.switch_to.active_element == admin.find(".error-summary")
    assert admin.find("#name").get_attribute("aria-invalid") == "true"
    fits_a_phone(admin)
    admin.find("#name").send_keys("Speeding and traffic")

    hours = admin.find("#acknowledge_hours")
    hours.clear()
    hours.send_keys("36")
    name = admin.find("#name_es")
    name.clear()
    name.send_keys("Velocidad y tráfico")
    admin.follow(admin.find('main form button[type="submit"]'))
    assert "La categoría se guardó." in admin.find(".flash").text
    assert "36 horas" in admin.find(f"#category-{CODE}").find_element("xpath", "..").text
    stored = requests.get(f"{stack.concerns_url}/categories/{CODE}?lang=es", timeout=10).json()
    assert (stored["name"], stored["acknowledge_hours"]) == ("Velocidad y tráfico", 36)
    assert len(admin.pages_checked) >= 5
