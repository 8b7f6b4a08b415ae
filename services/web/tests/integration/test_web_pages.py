"""The pages over HTTP (no browser): forms, redirects, CSRF, headers and API errors as pages."""

from __future__ import annotations

import re

import requests
from web_testkit import RV02, csrf, open_receipt, schedule_meeting, voice


def test_home_draws_every_beat_and_sends_security_headers(stack):
    response = requests.get(stack.web_url + "/", timeout=10)
    assert response.status_code == 200
    assert sorted(set(re.findall(r'data-beat="(RV-0\d)"', response.text))) == [f"RV-0{n}" for n in range(1, 7)]
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy)[1]
    assert f'nonce="{nonce}"' in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_post_without_the_csrf_token_is_refused_and_stores_nothing(stack):
    with requests.Session() as browser:
        browser.get(stack.web_url + "/voice/noise", timeout=10)
        response = browser.post(
            stack.web_url + "/voice/noise", data={"description": "Loud", **RV02, "send": "1"}, timeout=10
        )
    assert response.status_code == 403
    assert "Your form expired" in response.text
    listed = requests.get(stack.concerns_url + "/public/concerns", timeout=10).json()
    assert listed["total_items"] == 0


def test_voicing_a_concern_redirects_to_a_receipt_shown_once(stack):
    with requests.Session() as browser:
        form = browser.get(stack.web_url + "/voice/noise", timeout=10).text
        sent = browser.post(
            stack.web_url + "/voice/noise",
            data={"csrf_token": csrf(form), "description": "Loud music at night", **RV02, "send": "1"},
            allow_redirects=False,
            timeout=10,
        )
        assert sent.status_code == 303 and sent.headers["Location"] == "/voice/sent"
        receipt_page = browser.get(stack.web_url + "/voice/sent", timeout=10)
        link = re.search(r'id="receipt-link"[^>]*value="([^"]+)"', receipt_page.text)[1]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/follow#[0-9a-f-]{36}\.[A-Za-z0-9_-]{32}", link)
        again = browser.get(stack.web_url + "/voice/sent", allow_redirects=False, timeout=10)
        assert again.status_code == 303 and again.headers["Location"] == "/follow"


def test_a_form_with_no_description_is_shown_again_with_the_error_linked(stack):
    with requests.Session() as browser:
        form = browser.get(stack.web_url + "/voice/noise", timeout=10).text
        response = browser.post(
            stack.web_url + "/voice/noise", data={"csrf_token": csrf(form), **RV02, "send": "1"}, timeout=10
        )
    assert response.status_code == 400
    assert 'href="#description"' in response.text and 'aria-invalid="true"' in response.text


def test_an_email_the_concerns_service_refuses_comes_back_beside_its_field(stack):
    with requests.Session() as browser:
        form = browser.get(stack.web_url + "/voice/noise", timeout=10).text
        response = browser.post(
            stack.web_url + "/voice/noise",
            data={"csrf_token": csrf(form), "description": "Loud", **RV02, "email": "not-an-address", "send": "1"},
            timeout=10,
        )
    assert response.status_code == 400
    assert 'id="email-error"' in response.text
    assert 'value="not-an-address"' in response.text  # what was typed is kept


def test_api_errors_become_pages_in_the_persons_language(stack):
    spanish = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
    missing = requests.get(stack.web_url + "/beats/RV-99", headers=spanish, timeout=10)
    assert missing.status_code == 404
    assert '<html lang="es">' in missing.text and "No encontramos esa página" in missing.text
    unknown = requests.get(stack.web_url + "/no/such/page", timeout=10)
    assert unknown.status_code == 404 and "text/html" in unknown.headers["Content-Type"]


def test_a_receipt_that_is_not_one_is_a_clear_400(stack):
    with requests.Session() as browser:
        page = browser.get(stack.web_url + "/follow", timeout=10).text
        response = browser.post(
            stack.web_url + "/follow", data={"csrf_token": csrf(page), "receipt": "hello"}, timeout=10
        )
    assert response.status_code == 400
    assert "That is not a receipt link" in response.text


def test_the_beat_page_shows_what_concerns_gives_even_when_surveys_is_down(stack):
    response = requests.get(stack.web_url + "/beats/RV-02", timeout=10)
    assert response.status_code == 200
    assert "The survey results cannot be shown just now." in response.text


def test_a_resident_withdraws_and_a_second_withdrawal_is_a_409_page(stack):
    with requests.Session() as browser:
        assert voice(browser, stack.web_url).status_code == 303
        concern_id = open_receipt(browser, stack.web_url)
        page = browser.get(f"{stack.web_url}/follow/{concern_id}", timeout=10).text
        withdrawn = browser.post(
            f"{stack.web_url}/follow/{concern_id}/withdraw", data={"csrf_token": csrf(page)}, timeout=10
        )
        assert withdrawn.status_code == 200
        assert "Your concern was withdrawn." in withdrawn.text and "Withdrawn by the resident" in withdrawn.text
        again = browser.post(
            f"{stack.web_url}/follow/{concern_id}/withdraw", data={"csrf_token": csrf(page)}, timeout=10
        )
    assert again.status_code == 409 and "That could not be done" in again.text


def test_me_too_counts_once_per_browser(stack):
    concern = requests.post(
        stack.concerns_url + "/concerns",
        json={"category": "noise", "description": "Parties", "location": {"lat": 43.045, "long": -108.38}},
        timeout=10,
    ).json()["concern"]["id"]
    with requests.Session() as browser:
        page = browser.get(f"{stack.web_url}/concerns/{concern}", timeout=10).text
        first = browser.post(f"{stack.web_url}/concerns/{concern}/support", data={"csrf_token": csrf(page)}, timeout=10)
        second = browser.post(
            f"{stack.web_url}/concerns/{concern}/support", data={"csrf_token": csrf(page)}, timeout=10
        )
    assert "your support was counted" in first.text
    assert "You had already said" in second.text
    assert requests.get(f"{stack.concerns_url}/public/concerns/{concern}", timeout=10).json()["supporters"] == 1


def test_sending_the_same_form_twice_makes_one_concern(stack):
    with requests.Session() as browser:
        form = browser.get(stack.web_url + "/voice/noise", timeout=10).text
        hidden = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
        data = {**hidden, "description": "Loud music at night", **RV02, "send": "1"}
        for _ in range(2):  # a double click, or a retry after a lost answer
            sent = browser.post(stack.web_url + "/voice/noise", data=data, allow_redirects=False, timeout=10)
            assert sent.status_code == 303 and sent.headers["Location"] == "/voice/sent"
        open_receipt(browser, stack.web_url)  # the newest receipt works
    assert requests.get(stack.concerns_url + "/public/concerns", timeout=10).json()["total_items"] == 1


def test_rate_limits_count_each_resident_not_the_web_service(proxied_stack):
    """Every resident's request reaches concerns from the web service's address: without the
    person's address passed on, the first resident would use up the whole city's limit."""
    for resident in ("203.0.113.5", "203.0.113.6"):
        with requests.Session() as browser:
            browser.headers["X-Forwarded-For"] = resident  # as the ingress in front of web says
            sent = voice(browser, proxied_stack.web_url, confirmed="yes")  # past the other's concern
            assert sent.status_code == 303, sent.text
    with requests.Session() as browser:
        browser.headers["X-Forwarded-For"] = "203.0.113.5"
        refused = voice(browser, proxied_stack.web_url, confirmed="yes")
    assert refused.status_code == 429 and "Too many requests" in refused.text


def test_with_the_services_down_every_page_says_so_and_none_is_a_500(web_alone):
    for path in ("/", "/beats/RV-01", "/voice", "/voice/noise", "/concerns/some-id"):
        response = requests.get(web_alone + path, headers={"Accept-Language": "es"}, timeout=10)
        assert response.status_code == 503, path
        assert "Beat no está disponible en este momento" in response.text, path
    picker = requests.get(web_alone + "/map/picker.svg", timeout=10)
    assert picker.status_code == 503
    assert requests.get(web_alone + "/follow", timeout=10).status_code == 200  # needs no service


def test_a_meeting_page_shows_when_where_and_its_agenda(stack):
    requests.post(
        stack.concerns_url + "/concerns",
        json={"category": "noise", "description": "Parties", "location": {"lat": 43.045, "long": -108.38}},
        timeout=10,
    )
    meeting = schedule_meeting(stack.concerns_url)
    beat = requests.get(stack.web_url + "/beats/RV-02", timeout=10).text
    assert f'href="/meetings/{meeting["id"]}"' in beat
    page = requests.get(f"{stack.web_url}/meetings/{meeting['id']}", headers={"Accept-Language": "es"}, timeout=10)
    assert page.status_code == 200
    assert "Downtown beat meeting" in page.text and "Reunión vecinal" in page.text
    assert "Inquietud 1" in page.text, meeting  # the agenda
    assert re.search(r"hora (estándar|de verano) central", page.text)  # the city's zone, named in Spanish
    missing = requests.get(stack.web_url + "/meetings/no-such-meeting", timeout=10)
    assert missing.status_code == 404 and "We cannot find that page" in missing.text


def test_what_the_platform_refuses_before_a_page_runs_is_a_page_too(web_alone):
    with_nul = requests.post(web_alone + "/follow", data={"receipt": "abc\x00def"}, timeout=10)
    assert with_nul.status_code == 400 and "text/html" in with_nul.headers["Content-Type"]
    assert "Some of what was sent was not accepted." in with_nul.text
    too_large = requests.post(web_alone + "/follow", data={"receipt": "x" * 1_100_000}, timeout=10)
    assert too_large.status_code == 413 and "text/html" in too_large.headers["Content-Type"]
    assert "Content-Security-Policy" in too_large.headers


def test_a_value_in_a_page_address_cannot_smuggle_a_query_to_a_service(stack):
    assert requests.get(stack.web_url + "/beats/RV-01", timeout=10).status_code == 200
    smuggled = requests.get(stack.web_url + "/beats/RV-01%3Fx=1", timeout=10)  # "RV-01?x=1" once decoded
    assert smuggled.status_code == 404
