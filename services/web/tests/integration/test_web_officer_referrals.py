"""Referring someone from a concern's page: the directory search, the consent form and its errors,
the request (concerns) that referrals drafts, sending the draft, and the outcome seen afterwards.
concerns, referrals (both on the test's backend) and web are real containers on one vhost."""

from __future__ import annotations

import re

import requests
from web_testkit import CONSENT, acknowledged_concern, csrf, drafted, sign_in, staff_headers

from beat_shared.auth import mint_token
from beat_shared.config import env
from beat_shared.testing import wait_for

FOOD_BANK = "agency-riverton-food-bank"


def agency(referrals_url: str, referral_id: str, action: str, body: dict | None = None) -> None:
    token = mint_token("agency", "worker@foodbank", env("BEAT_JWT_SECRET"), agency_id=FOOD_BANK)
    answer = requests.post(
        f"{referrals_url}/referrals/{referral_id}/{action}",
        json=body or {},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def test_an_officer_refers_the_reporter_and_sees_the_outcome(partners):
    stack, referrals_url = partners
    with requests.Session() as officer:
        sign_in(officer, stack.web_url, "officer-rv02")
        concern_id = acknowledged_concern(stack.web_url, officer)
        search = officer.get(
            f"{stack.web_url}/staff/concerns/{concern_id}/refer", params={"need": "food", "language": "es"}, timeout=10
        )
        assert search.status_code == 200 and "km away" in search.text
        assert 'value="rosa@example.org"' in search.text  # the reporter agreed to e-mail: offered in the form
        sent = officer.post(
            f"{stack.web_url}/staff/concerns/{concern_id}/refer",
            data={"csrf_token": csrf(search.text), **CONSENT},
            timeout=10,
        )
        assert sent.status_code == 200 and "The referral was asked for." in sent.text
        page = wait_for(lambda: drafted(officer, stack.web_url, concern_id), message="the draft on the concern's page")
        [referral_id] = re.findall(r'action="/staff/referrals/([0-9a-f-]{36})/send"', page)
        delivered = officer.post(
            f"{stack.web_url}/staff/referrals/{referral_id}/send", data={"csrf_token": csrf(page)}, timeout=10
        )
        assert delivered.status_code == 200 and "Sent, waiting for the agency" in delivered.text
        assert "Answer due by" in delivered.text
        agency(referrals_url, referral_id, "accept")
        agency(referrals_url, referral_id, "outcome", {"outcome": "got_help"})
        finally_ = officer.get(f"{stack.web_url}/staff/concerns/{concern_id}", timeout=10).text
    assert "Completed" in finally_ and "Outcome: Got help" in finally_


def test_a_referral_without_consent_is_shown_again_with_its_errors_and_nothing_is_asked(partners):
    stack, _ = partners
    with requests.Session() as officer:
        sign_in(officer, stack.web_url, "officer-rv02")
        concern_id = acknowledged_concern(stack.web_url, officer)
        form = officer.get(f"{stack.web_url}/staff/concerns/{concern_id}/refer", timeout=10).text
        missing = {**CONSENT, "given_by": "", "method": ""}
        refused = officer.post(
            f"{stack.web_url}/staff/concerns/{concern_id}/refer", data={"csrf_token": csrf(form), **missing}, timeout=10
        )
        assert refused.status_code == 400
        assert 'id="given_by-error"' in refused.text and 'id="method-error"' in refused.text
        assert "Share my name and e-mail with a food bank" in refused.text  # what was typed is kept
        future = {**CONSENT, "given_at": "2099-01-01T09:00"}  # concerns refuses consent given in the future
        refused = officer.post(
            f"{stack.web_url}/staff/concerns/{concern_id}/refer", data={"csrf_token": csrf(form), **future}, timeout=10
        )
    assert refused.status_code == 400 and 'id="given_at-error"' in refused.text
    stored = requests.get(f"{stack.concerns_url}/concerns/{concern_id}", headers=staff_headers(), timeout=10).json()
    assert stored["referral_requests"] == []


def test_the_referral_pages_refuse_everyone_else(partners):
    stack, _ = partners
    with requests.Session() as officer:
        sign_in(officer, stack.web_url, "officer-rv02")
        concern_id = acknowledged_concern(stack.web_url, officer)
    for subject in (None, "resident-demo-1", "officer-rv05"):
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = "es"
            if subject:
                sign_in(browser, stack.web_url, subject)
            token = csrf(browser.get(stack.web_url + "/follow", timeout=10).text)
            page = browser.get(f"{stack.web_url}/staff/concerns/{concern_id}/refer", timeout=10)
            post = browser.post(
                f"{stack.web_url}/staff/concerns/{concern_id}/refer", data={"csrf_token": token, **CONSENT}, timeout=10
            )
        for answer in (page, post):
            assert answer.status_code in (403, 404), (subject, answer.status_code)
            assert answer.headers["Content-Type"].startswith("text/html") and '<html lang="es">' in answer.text
    stored = requests.get(f"{stack.concerns_url}/concerns/{concern_id}", headers=staff_headers(), timeout=10).json()
    assert stored["referral_requests"] == []
