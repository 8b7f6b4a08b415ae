"""Categories and their questions in the page's language: concerns serves a city's translations
(the demo city's Spanish), the voice pages ask for the page's language."""

from __future__ import annotations

import re

import requests
from web_testkit import csrf, sign_in, voice


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


def test_concerns_already_voiced_are_named_in_the_pages_language(partners):
    """The category's name on a concern comes from concerns in English; every page showing one asks
    `/categories` in the page's language alongside its other calls (referrals runs for the referral form)."""
    base = partners[0].web_url
    with requests.Session() as resident:
        resident.headers["Accept-Language"] = "es"
        sign_in(resident, base, "resident-demo-1")
        assert voice(resident, base, confirmed="yes").status_code == 303
        sent = resident.get(base + "/voice/sent", timeout=10).text
        link = re.search(r'id="receipt-link"[^>]*value="([^"]+)"', sent)[1]
        opened = resident.post(
            base + "/follow", data={"csrf_token": csrf(sent), "receipt": link}, allow_redirects=False, timeout=10
        )
        concern_id = opened.headers["Location"].rsplit("/", 1)[1]
        pages = {"/voice/sent": sent}
        similar = voice(resident, base)  # the same again, nearby: offered as "me too" first
        assert similar.status_code == 200 and 'class="similar"' in similar.text
        pages["/voice/noise (likely duplicates)"] = similar.text
        for path in (f"/follow/{concern_id}", f"/concerns/{concern_id}", "/", "/beats/RV-02", "/me"):
            pages[path] = resident.get(base + path, timeout=10).text
    with requests.Session() as officer:
        officer.headers["Accept-Language"] = "es"
        sign_in(officer, base, "officer-rv02")
        for path in ("/staff/queue", f"/staff/concerns/{concern_id}", f"/staff/concerns/{concern_id}/refer"):
            pages[path] = officer.get(base + path, timeout=10).text
        officer.headers["Accept-Language"] = "en"
        english = officer.get(f"{base}/staff/concerns/{concern_id}", timeout=10).text
    unnamed = {path for path, page in pages.items() if "Ruido" not in page or "Noise" in page}
    assert unnamed == set(), "pages still naming the category in English"
    assert "Noise" in english and "Ruido" not in english
