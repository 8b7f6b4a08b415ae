"""The voice form's no-script map picker over HTTP (no browser), on both backends: a keyboard "click" on it
(Enter or Space posts the point (0, 0)) pins nothing and asks for the address; a pointer's click pins its
place. The keyboard journey in Chromium is `test_web_keyboard_journey_browser.py`."""

from __future__ import annotations

import requests
from web_testkit import csrf

HINT = "The map needs a pointer or a touch"


def picker_post(base: str, x: str, y: str) -> requests.Response:
    with requests.Session() as browser:
        form = browser.get(base + "/voice/noise", timeout=10).text
        data = {"csrf_token": csrf(form), "description": "Loud", "address": "Elm Street", "map.x": x, "map.y": y}
        return browser.post(base + "/voice/noise", data=data, timeout=10)


def test_enter_or_space_on_the_map_picker_pins_nothing_and_asks_for_the_address(stack):
    page = picker_post(stack.web_url, "0", "0")
    assert page.status_code == 200
    assert HINT in page.text and "Location chosen on the map." not in page.text
    assert 'name="lat" value=""' in page.text and 'value="Elm Street"' in page.text  # what was typed is kept


def test_a_pointers_click_on_the_map_picker_pins_its_place(stack):
    page = picker_post(stack.web_url, "120", "90")
    assert page.status_code == 200
    assert "Location chosen on the map." in page.text and HINT not in page.text
    assert 'name="lat" value=""' not in page.text


def test_the_keyboard_hint_is_spanish_for_a_spanish_reader(stack):
    with requests.Session() as browser:
        browser.headers["Accept-Language"] = "es"
        form = browser.get(stack.web_url + "/voice/noise", timeout=10).text
        data = {"csrf_token": csrf(form), "map.x": "0", "map.y": "0"}
        page = browser.post(stack.web_url + "/voice/noise", data=data, timeout=10)
    assert page.status_code == 200 and "El mapa necesita un puntero o un toque" in page.text
