"""Categories and their questions in the page's language: concerns serves a city's translations
(the demo city's Spanish), the voice pages ask for the page's language."""

from __future__ import annotations

import requests
from web_testkit import voice


def test_spanish_pages_name_the_categories_and_ask_their_questions_in_spanish(stack):
    with requests.Session() as browser:
        browser.headers["Accept-Language"] = "es"
        categories = browser.get(stack.web_url + "/voice", timeout=10).text
        assert "Ruido" in categories and "Alumbrado público" in categories and "Street lighting" not in categories
        form = browser.get(stack.web_url + "/voice/speeding_traffic", timeout=10).text
        assert "¿Cuándo suele ocurrir?" in form and "Por la mañana" in form and "¿Qué vehículos?" in form
        assert 'value="morning"' in form  # the answers' keys stay the same whatever the language
        assert voice(browser, stack.web_url, confirmed="yes", time_of_day="night").status_code == 303


def test_english_pages_keep_the_citys_english(stack):
    english = requests.get(stack.web_url + "/voice/noise", headers={"Accept-Language": "en"}, timeout=10).text
    assert "When does it usually happen?" in english and "¿Cuándo" not in english
