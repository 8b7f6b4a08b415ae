"""The voice-and-follow journey with the keyboard alone (issue 22, "Accessibility"), in Chromium: from the
home page to the beat, voice a concern (category, its questions, a location without the map, description,
send, past the likely duplicates), copy the receipt link, paste it into the follow form, and say "me too"
on a neighbour's concern. Only keys: Tab, Enter, Space, arrows, typing, Ctrl+A/C/V; no click, no mouse.
Every element reached shows where the focus is; axe-core on every page (`Resident`). Once with scripts
(the location from the device, as "Use my current location" gives it), once without (the address)."""

from __future__ import annotations

import re

import pytest
import requests
from integration.test_web_browser import RV02, WAIT, Resident, a_neighbours_concern, supervisor
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from beat_shared.testing import page_replaced

# Chromium drives pages; the services behind them need a database only to run, and their storage is
# tested on both backends over HTTP: one backend here, SQLite (what `make run` gives).
pytestmark = pytest.mark.sqlite_only

# The focused element's own outline, or (a beat on the map) its shape's stroke: what a sighted keyboard
# user sees of where they are.
FOCUS_SHOWN = """
const element = document.activeElement;
if (!element.matches(':focus-visible')) return 'not :focus-visible';
const own = getComputedStyle(element);
if (own.outlineStyle !== 'none' && parseFloat(own.outlineWidth) >= 2) return '';
const shape = element.querySelector('path');
if (shape && parseFloat(getComputedStyle(shape).strokeWidth) >= 2) return '';
return 'no outline: ' + own.outlineStyle + ' ' + own.outlineWidth;
"""


def keys(person: Resident, *pressed: str) -> None:
    ActionChains(person.driver).send_keys(*pressed).perform()


def tab_to(person: Resident, selector: str, presses: int = 120) -> None:
    """Tab until `selector` has the focus, then check the focus can be seen there."""
    wanted = person.find(selector)
    for _ in range(presses):
        keys(person, Keys.TAB)
        if person.driver.switch_to.active_element == wanted:
            problem = person.driver.execute_script(FOCUS_SHOWN)
            assert problem == "", f"focus on {selector} cannot be seen ({problem}) on {person.driver.current_url}"
            return
    raise AssertionError(f"Tab never reached {selector} on {person.driver.current_url}")


def press(person: Resident, key: str = Keys.ENTER) -> None:
    """A key that loads another page (Enter on a link or button, Space on a button); wait for the page."""
    page = person.find("html")
    keys(person, key)
    WebDriverWait(person.driver, WAIT).until(page_replaced(page))
    person._arrived()


def chord(person: Resident, letter: str) -> None:
    """Ctrl+<letter>, held as a person holds it."""
    ActionChains(person.driver).key_down(Keys.CONTROL).send_keys(letter).key_up(Keys.CONTROL).perform()


def choose_radio(person: Resident, name: str, value: str) -> None:
    """Tab into a radio group and move with the arrow keys to the wanted answer (arrows check it)."""
    tab_to(person, f'input[name="{name}"]')
    for _ in range(10):
        focused = person.driver.switch_to.active_element
        if focused.get_attribute("value") == value:
            keys(person, Keys.SPACE)  # the first one is focused, not yet checked
            assert focused.is_selected()
            return
        keys(person, Keys.ARROW_DOWN)
    raise AssertionError(f"the arrows never reached {name}={value}")


def voice_with_the_keyboard(resident: Resident, stack) -> str:
    """Home → the beat → voice a concern; the receipt link, copied with the keyboard (the clipboard's)."""
    other = a_neighbours_concern(stack)
    resident.open("/")
    tab_to(resident, 'svg.beat-map a[data-beat="RV-02"]')
    press(resident)
    assert "RV-02" in resident.find("h1").text
    tab_to(resident, 'nav a[href="/voice"]')
    press(resident)
    tab_to(resident, 'a[data-category="speeding_traffic"]')
    press(resident)

    choose_radio(resident, "attr_time_of_day", "night")
    tab_to(resident, 'input[name="attr_vehicle_types"][value="car"]')
    keys(resident, Keys.SPACE)
    assert resident.find('input[name="attr_vehicle_types"][value="car"]').is_selected()
    if resident.scripts:  # "Use my current location": the device's position, as the browser gives it
        tab_to(resident, "[data-geolocate-field] button")
        keys(resident, Keys.ENTER)
        WebDriverWait(resident.driver, WAIT).until(
            lambda d: resident.find('input[name="lat"]').get_attribute("value") != ""
        )
        assert resident.find(".geolocate-result").text != ""
    else:
        # Space on the map picker: a keyboard "click" points nowhere, so no pin; the page says to type the address.
        tab_to(resident, "input.map-picker")
        press(resident, Keys.SPACE)
        assert resident.find('input[name="lat"]').get_attribute("value") == ""
        assert "The map needs a pointer or a touch" in resident.text()
        tab_to(resident, "#address")
        keys(resident, "Elm Street and 3rd Avenue")
    tab_to(resident, "#description")
    keys(resident, "Street racing every night near the school.")
    if resident.scripts:
        tab_to(resident, 'button[name="send"]')
        press(resident)
    else:  # back up to the address with Shift+Tab, and Enter there sends the form (not the map's corner)
        for _ in range(20):
            if resident.driver.switch_to.active_element == resident.find("#address"):
                break
            ActionChains(resident.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        assert resident.driver.switch_to.active_element == resident.find("#address")
        press(resident)

    if resident.scripts:  # a position: the neighbour's concern is offered first; the resident's is different
        assert resident.find(f'li[data-concern="{other}"]')
        tab_to(resident, 'form input[name="confirmed"] ~ p button')
        press(resident, Keys.SPACE)

    tab_to(resident, "#receipt-link")
    chord(resident, "a")
    chord(resident, "c")
    return other


def test_the_voice_and_follow_journey_with_the_keyboard_alone(stack, chrome, scripts):
    resident = Resident(chrome, stack.web_url, "en", scripts=scripts)
    chrome.execute_cdp_cmd("Browser.grantPermissions", {"origin": stack.web_url, "permissions": ["geolocation"]})
    chrome.execute_cdp_cmd(
        "Emulation.setGeolocationOverride", {"latitude": RV02[1], "longitude": RV02[0], "accuracy": 10}
    )
    try:
        other = voice_with_the_keyboard(resident, stack)
        link = resident.find("#receipt-link").get_attribute("value")
        concern_id = re.fullmatch(r".*/follow#([0-9a-f-]{36})\.[A-Za-z0-9_-]{32}", link).group(1)

        # Another day: only the copied link is left. Home → "Follow a concern" → paste → Enter.
        resident.driver.delete_all_cookies()
        resident.open("/")
        tab_to(resident, 'main a[href="/follow"]')
        press(resident)
        tab_to(resident, "#receipt")
        chord(resident, "v")
        assert resident.find("#receipt").get_attribute("value") == link  # what the clipboard held
        press(resident)
        assert f"/follow/{concern_id}" in resident.driver.current_url
        assert "Street racing every night" in resident.text()
        staff = requests.get(f"{stack.concerns_url}/concerns/{concern_id}", headers=supervisor(), timeout=10).json()
        assert staff["attributes"] == {"time_of_day": "night", "vehicle_types": ["car"]}
        if scripts:  # the device's position
            assert (staff["location"]["lat"], staff["location"]["long"]) == pytest.approx((RV02[1], RV02[0]))
        else:  # the address alone: no point from the map's corner
            assert staff["location"]["lat"] is None and staff["location"]["address"] == "Elm Street and 3rd Avenue"

        # "Me too" on the neighbour's concern, reached from the home page's recent concerns.
        resident.open("/")
        tab_to(resident, f'main a[href="/concerns/{other}"]')
        press(resident)
        before = int(resident.find("#supporters").text)
        tab_to(resident, 'form[action$="/support"] button')
        press(resident)
        assert "Thank you: your support was counted." in resident.find(".flash").text
        assert int(resident.find("#supporters").text) == before + 1
        assert len(resident.pages_checked) >= 9
    finally:
        chrome.execute_cdp_cmd("Emulation.clearGeolocationOverride", {})


@pytest.fixture(params=[True, False], ids=["with-scripts", "without-scripts"])
def scripts(request) -> bool:
    return request.param
