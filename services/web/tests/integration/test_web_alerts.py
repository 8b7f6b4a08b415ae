"""A beat's alerts: a signed-in resident follows a beat by e-mail or SMS, with a language and quiet
hours, and stops it; bad input comes back beside its field with nothing followed. Real concerns,
notifications and web containers on the test's database backend, checked through notifications' API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests
from web_testkit import csrf, sign_in

from beat_shared.auth import mint_token
from beat_shared.config import env
from concerns.demo import seed_reference
from concerns.service import ConcernsService
from notifications.service import NotificationsService

RESIDENT = "resident-demo-1"


@dataclass(frozen=True)
class AlertsStack:
    web_url: str
    notifications_url: str

    def stored(self, path: str) -> dict:
        """What notifications holds for the resident, read with their own token."""
        token = mint_token("resident", RESIDENT, env("BEAT_JWT_SECRET"))
        answer = requests.get(self.notifications_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def followed(self) -> list[str]:
        return self.stored("/me/subscriptions")["beat_codes"]


@pytest.fixture
def alerts_stack(running_services, start_web) -> AlertsStack:
    started = running_services(
        {
            "concerns": (ConcernsService, lambda session: seed_reference(session, datetime.now(UTC)), None),
            "notifications": (NotificationsService, lambda session: None, None),
        }
    )
    web_url = start_web(
        WEB_CONCERNS_URL=started["concerns"].url,
        WEB_NOTIFICATIONS_URL=started["notifications"].url,
        WEB_API_TIMEOUT="10",
    )
    return AlertsStack(web_url, started["notifications"].url)


def send_form(browser: requests.Session, base: str, **fields: str) -> requests.Response:
    page = browser.get(base + "/alerts", timeout=10).text
    data = {"csrf_token": csrf(page), "beat_code": "RV-02", "language": "en", **fields}
    return browser.post(base + "/alerts", data=data, allow_redirects=False, timeout=15)


def test_a_resident_follows_a_beat_by_text_message_with_quiet_hours_then_stops(alerts_stack):
    base = alerts_stack.web_url
    with requests.Session() as browser:
        sign_in(browser, base, RESIDENT)
        form = browser.get(base + "/alerts?beat=RV-02", timeout=10)
        assert form.status_code == 200
        assert re.search(r'<option value="RV-02" selected>', form.text)
        assert "None yet." in form.text
        sent = send_form(
            browser,
            base,
            channel="sms",
            phone="+15555550123",
            language="es",
            quiet_start="22:00",
            quiet_end="07:00",
        )
        assert sent.status_code == 303 and sent.headers["Location"] == "/alerts"
        page = browser.get(base + "/alerts", timeout=10).text
        assert "you follow this beat" in page and "Stop alerts from RV-02" in page

        assert alerts_stack.followed() == ["RV-02"]
        contact = alerts_stack.stored("/me/contact")
        assert (contact["phone"], contact["language"]) == ("+15555550123", "es")
        assert (contact["quiet_start"], contact["quiet_end"]) == ("22:00", "07:00")
        switched = {
            (p["topic"], p["channel"]): p["enabled"] for p in alerts_stack.stored("/me/preferences")["preferences"]
        }
        for topic in ("beat_alerts", "meetings", "neighbourhood_watch"):
            assert switched[(topic, "sms")] is True and switched[(topic, "email")] is False
        assert re.search(r'<input type="radio" name="channel" value="sms" checked>', page)  # as they left it

        stopped = browser.post(
            base + "/alerts/RV-02/stop", data={"csrf_token": csrf(page)}, allow_redirects=False, timeout=10
        )
        assert stopped.status_code == 303
        assert "no more alerts from that beat" in browser.get(base + "/alerts", timeout=10).text
    assert alerts_stack.followed() == []


def test_a_resident_joins_the_beats_neighbourhood_watch_and_leaves_it(alerts_stack):
    base = alerts_stack.web_url
    with requests.Session() as browser:
        sign_in(browser, base, RESIDENT)
        form = browser.get(base + "/alerts?beat=RV-02", timeout=10).text
        assert 'name="watch" value="yes"' in form
        joined = send_form(browser, base, channel="email", email="ana@example.org", watch="yes")
        assert joined.status_code == 303
        assert alerts_stack.stored("/me/subscriptions")["watch_beat_codes"] == ["RV-02"]
        page = browser.get(base + "/alerts", timeout=10).text
        assert "In its neighbourhood watch" in page
        preferences = alerts_stack.stored("/me/preferences")["preferences"]
        assert {"topic": "neighbourhood_watch", "channel": "email", "enabled": True} in preferences
        assert send_form(browser, base, channel="email", email="ana@example.org").status_code == 303  # unticked
        assert alerts_stack.stored("/me/subscriptions") == {"beat_codes": ["RV-02"], "watch_beat_codes": []}


def test_what_is_missing_or_refused_is_shown_beside_its_field_and_nothing_is_followed(alerts_stack):
    base = alerts_stack.web_url
    with requests.Session() as browser:
        sign_in(browser, base, RESIDENT)
        no_phone = send_form(browser, base, channel="sms", phone="")
        assert no_phone.status_code == 400
        assert 'href="#phone"' in no_phone.text and 'id="phone-error"' in no_phone.text
        half_quiet = send_form(browser, base, channel="email", email="ana@example.org", quiet_start="22:00")
        assert half_quiet.status_code == 400 and 'id="quiet_end-error"' in half_quiet.text
        # notifications refuses the address: its 400 comes back beside the field, what was typed kept
        bad_email = send_form(browser, base, channel="email", email="not-an-address")
        assert bad_email.status_code == 400
        assert 'id="email-error"' in bad_email.text and 'value="not-an-address"' in bad_email.text
        unknown_beat = send_form(browser, base, channel="email", email="ana@example.org", beat_code="ZZ-99")
        assert unknown_beat.status_code == 400 and 'id="beat_code-error"' in unknown_beat.text
    assert alerts_stack.followed() == []


def test_no_one_follows_a_beat_without_signing_in_or_without_the_forms_token(alerts_stack):
    base = alerts_stack.web_url
    with requests.Session() as anonymous:
        page = anonymous.get(base + "/alerts?beat=RV-02", timeout=10)
        assert page.status_code == 200 and "Sign in first" in page.text and 'action="/alerts"' not in page.text
        token = csrf(anonymous.get(base + "/sign-in", timeout=10).text)  # a valid form token, no person
        refused = anonymous.post(
            base + "/alerts", data={"csrf_token": token, "beat_code": "RV-02", "channel": "email"}, timeout=10
        )
        assert refused.status_code == 403
    with requests.Session() as browser:
        sign_in(browser, base, RESIDENT)
        forged = browser.post(
            base + "/alerts", data={"beat_code": "RV-02", "channel": "email", "email": "a@example.org"}, timeout=10
        )
        assert forged.status_code == 403
        stop_forged = browser.post(base + "/alerts/RV-02/stop", data={}, timeout=10)
        assert stop_forged.status_code == 403
    assert alerts_stack.followed() == []


def test_the_alerts_page_speaks_spanish(alerts_stack):
    with requests.Session() as browser:
        browser.headers["Accept-Language"] = "es"
        sign_in(browser, alerts_stack.web_url, RESIDENT)
        page = browser.get(alerts_stack.web_url + "/alerts", timeout=10).text
    assert 'lang="es"' in page and "Alertas de su sector" in page and "Por mensaje de texto" in page
