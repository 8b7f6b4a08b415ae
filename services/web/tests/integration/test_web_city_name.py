"""The pages name the city of the settings (BEAT_CITY_NAME) and no other: the code names no city."""

from __future__ import annotations

import requests
from web_testkit import csrf


def test_every_page_names_the_configured_city_and_never_the_demo_one(start_stack):
    stack = start_stack(web={"BEAT_CITY_NAME": "Lakeside"})
    with requests.Session() as browser:
        home = browser.get(stack.web_url + "/", timeout=10)
        voice = browser.get(stack.web_url + "/voice/noise", timeout=10)
        outside = browser.post(  # a location far from every beat: the flash names the city
            stack.web_url + "/beats/find",
            data={"lat": "0", "long": "0", "csrf_token": csrf(home.text)},
            timeout=10,
        )
        spanish = browser.get(stack.web_url + "/", headers={"Accept-Language": "es"}, timeout=10)
    assert home.status_code == voice.status_code == outside.status_code == spanish.status_code == 200
    assert "· Beat Lakeside</title>" in home.text and '<a href="/">Beat Lakeside</a>' in home.text
    assert "Map of Lakeside" in home.text
    assert 'alt="Map of Lakeside: click where it happens"' in voice.text
    assert "outside Lakeside" in outside.text
    assert "Mapa de los sectores de Lakeside" in spanish.text
    for page in (home, voice, outside, spanish):
        assert "Riverton" not in page.text
