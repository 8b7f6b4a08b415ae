"""The city's administrator (development sign-in `admin-1`): lands on the supervisors' pages and changes
a category from `/supervisor/categories` (names in English and Spanish, time to acknowledge, the questions'
wording), sent to concerns as a merge patch that keeps the rest; errors beside their fields; supervisors
read the categories only, and everyone else gets a refusal page (concerns on the test's backend)."""

from __future__ import annotations

import re

import requests
from integration.test_web_officer_console import officer
from web_testkit import csrf, sign_in

CODE = "speeding_traffic"  # the demo category with two questions and Spanish words for everything


def stored(stack) -> dict:
    return requests.get(f"{stack.concerns_url}/categories/{CODE}?lang=en", timeout=10).json()


def form_values(page: str) -> dict[str, str]:
    """What a browser would post back from the form as it is shown (checked boxes included)."""
    values = dict(re.findall(r'<input id="[^"]+" name="([^"]+)" type="(?:text|number)"[^>]*value="([^"]*)"', page))
    values |= {name: "on" for name in re.findall(r'name="([^"]+)" value="on" checked', page)}
    return {**values, "csrf_token": csrf(page)}


def test_the_admin_is_offered_and_lands_on_the_supervisors_pages(stack):
    with requests.Session() as browser:
        offered = browser.get(stack.web_url + "/sign-in", timeout=10).text
        assert 'value="admin-1"' in offered
        home = sign_in(browser, stack.web_url, "admin-1")
        assert home.status_code == 200 and home.url == stack.web_url + "/supervisor"
        assert "Across the beats" in home.text and 'href="/supervisor/categories"' in home.text
        me = browser.get(stack.web_url + "/me", timeout=10)  # still their own page, every beat's concerns
        assert me.url == stack.web_url + "/me" and "My beats' concerns" in me.text


def test_an_admin_changes_a_category_and_keeps_what_the_form_does_not_show(stack):
    before = stored(stack)
    with officer(stack.web_url, "admin-1") as browser:
        listing = browser.get(f"{stack.web_url}/supervisor/categories", timeout=10).text
        assert f'href="/supervisor/categories/{CODE}"' in listing
        page = browser.get(f"{stack.web_url}/supervisor/categories/{CODE}", timeout=10)
        assert page.status_code == 200
        data = form_values(page.text)
        assert data["name"] == "Speeding and traffic" and data["name_es"] == "Exceso de velocidad y tráfico"
        assert data["q-time_of_day"] == before["attributes"][0]["description"]
        data |= {"name": "Speeding", "name_es": "Velocidad", "acknowledge_hours": "24"}
        data |= {"q-time_of_day": "When does it mostly happen?", "q-time_of_day-es": "¿Cuándo pasa sobre todo?"}
        data.pop("q-vehicle_types-required", None)
        data["q-time_of_day-required"] = "on"
        saved = browser.post(f"{stack.web_url}/supervisor/categories/{CODE}", data=data, timeout=10)
        assert saved.status_code == 200 and "The category was saved." in saved.text
        assert saved.url.endswith(f"/supervisor/categories#category-{CODE}")
    after = stored(stack)
    assert (after["name"], after["acknowledge_hours"]) == ("Speeding", 24)
    when, vehicles = after["attributes"]
    assert (when["description"], when["required"], vehicles["required"]) == ("When does it mostly happen?", True, False)
    assert [value["key"] for value in when["values"]] == [value["key"] for value in before["attributes"][0]["values"]]
    spanish, spanish_before = after["translations"]["es"], before["translations"]["es"]
    assert spanish["name"] == "Velocidad" and spanish["description"] == spanish_before["description"]
    assert spanish["group"] == spanish_before["group"]
    assert spanish["attributes"]["time_of_day"]["description"] == "¿Cuándo pasa sobre todo?"
    assert spanish["attributes"]["time_of_day"]["values"] == spanish_before["attributes"]["time_of_day"]["values"]
    assert spanish["attributes"]["vehicle_types"] == spanish_before["attributes"]["vehicle_types"]
    in_spanish = requests.get(f"{stack.concerns_url}/categories/{CODE}?lang=es", timeout=10).json()
    assert in_spanish["name"] == "Velocidad"


def test_an_empty_spanish_name_shows_the_english_one(stack):
    with officer(stack.web_url, "admin-1") as browser:
        data = form_values(browser.get(f"{stack.web_url}/supervisor/categories/{CODE}", timeout=10).text)
        saved = browser.post(f"{stack.web_url}/supervisor/categories/{CODE}", data={**data, "name_es": ""})
        assert "The category was saved." in saved.text
    assert stored(stack)["translations"]["es"].get("name") is None  # not translated: English shows
    in_spanish = requests.get(f"{stack.concerns_url}/categories/{CODE}?lang=es", timeout=10).json()
    assert in_spanish["name"] == "Speeding and traffic"


def test_errors_come_back_beside_their_fields_and_nothing_changes(stack):
    before = stored(stack)
    url = f"{stack.web_url}/supervisor/categories/{CODE}"
    with officer(stack.web_url, "admin-1") as browser:
        data = form_values(browser.get(url, timeout=10).text)
        cases = {
            "name": {"name": ""},
            "acknowledge_hours": {"acknowledge_hours": "soon"},
            "q-time_of_day": {"q-time_of_day": "  "},
        }
        for field, change in cases.items():
            refused = browser.post(url, data={**data, **change}, timeout=10)
            assert refused.status_code == 400, field
            assert f'id="{field}-error"' in refused.text and 'aria-invalid="true"' in refused.text, field
        for hours in ("0", "721", "-3", "2.5"):
            refused = browser.post(url, data={**data, "acknowledge_hours": hours}, timeout=10)
            assert refused.status_code == 400 and 'id="acknowledge_hours-error"' in refused.text, hours
            assert f'value="{hours}"' in refused.text  # what was typed stays
        too_long = browser.post(url, data={**data, "name": "N" * 201}, timeout=10)  # concerns' own limit
        assert too_long.status_code == 400 and 'id="name-error"' in too_long.text
        unknown = browser.get(f"{stack.web_url}/supervisor/categories/fireworks", timeout=10)
        assert unknown.status_code == 404 and unknown.headers["Content-Type"].startswith("text/html")
        forged = browser.post(url, data={**data, "name": "Forged", "csrf_token": "nope"}, timeout=10)
        assert forged.status_code == 403
    assert stored(stack) == before


def test_supervisors_read_the_categories_and_everyone_else_is_refused(stack):
    with officer(stack.web_url, "supervisor-1") as browser:
        listing = browser.get(f"{stack.web_url}/supervisor/categories", timeout=10).text
        assert f'href="/supervisor/categories/{CODE}"' not in listing
    people = {
        "anonymous": None,
        "resident": "resident-demo-1",
        "officer": "officer-rv02",
        "supervisor": "supervisor-1",
        "agency": "worker@riverton-food-bank",
        "analyst": "analyst-1",
    }
    for who, subject in people.items():
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = "es"
            if subject:
                sign_in(browser, stack.web_url, subject)
            token = csrf(browser.get(stack.web_url + "/follow", timeout=10).text)
            form = browser.get(f"{stack.web_url}/supervisor/categories/{CODE}", timeout=10)
            data = {"csrf_token": token, "name": "Taken over", "name_es": "", "acknowledge_hours": "1"}
            posted = browser.post(f"{stack.web_url}/supervisor/categories/{CODE}", data=data, timeout=10)
        for answer in (form, posted):
            assert answer.status_code == 403, (who, answer.status_code)
            assert answer.headers["Content-Type"].startswith("text/html") and '<html lang="es">' in answer.text
    assert stored(stack)["name"] == "Speeding and traffic"
