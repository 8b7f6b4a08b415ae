"""The agency's inbox over HTTP: only its own referrals, the client's details while consent is valid,
accept, decline with a reason, start, complete with an outcome, its outcome report; and the refusal
pages for another agency, officers, residents and anonymous visitors."""

from __future__ import annotations

import re

import requests
from web_testkit import csrf, sent_referral, sign_in, staff_headers

FOOD_BANK_WORKER = "worker@riverton-food-bank"


def referral_status(referrals_url: str, referral_id: str) -> str:
    answer = requests.get(f"{referrals_url}/referrals/{referral_id}", headers=staff_headers(), timeout=10)
    return answer.json()["status"]


def agency_post(browser: requests.Session, base: str, referral_id: str, move: str, **fields) -> requests.Response:
    page = browser.get(f"{base}/agency/referrals/{referral_id}", timeout=10).text
    return browser.post(
        f"{base}/agency/referrals/{referral_id}/{move}", data={"csrf_token": csrf(page), **fields}, timeout=10
    )


def test_the_agency_answers_a_referral_and_completes_it_with_an_outcome(partners):
    stack, referrals_url = partners
    with requests.Session() as officer:
        sign_in(officer, stack.web_url, "officer-rv02")
        concern_id, referral_id = sent_referral(stack.web_url, officer)
    with requests.Session() as agency:
        inbox = sign_in(agency, stack.web_url, FOOD_BANK_WORKER)  # lands on the inbox
        assert inbox.status_code == 200 and re.search(r'id="count-sent">1<', inbox.text)
        assert f'href="/agency/referrals/{referral_id}"' in inbox.text and "Answer due by" in inbox.text
        details = agency.get(f"{stack.web_url}/agency/referrals/{referral_id}", timeout=10).text
        assert "Rosa Díaz" in details and "rosa@example.org" in details  # consent is valid now
        no_reason = agency_post(agency, stack.web_url, referral_id, "decline")
        assert no_reason.status_code == 400 and referral_status(referrals_url, referral_id) == "sent"
        accepted = agency_post(agency, stack.web_url, referral_id, "accept")
        assert accepted.status_code == 200 and "You accepted the referral." in accepted.text
        started = agency_post(agency, stack.web_url, referral_id, "start")
        assert "The referral is marked as being helped." in started.text
        done = agency_post(agency, stack.web_url, referral_id, "complete", outcome="got_help", note="Food parcel")
        assert done.status_code == 200 and "Outcome" in done.text and "Got help" in done.text
        report = agency.get(f"{stack.web_url}/agency/report", timeout=10).text
    assert re.search(r'id="report-sent">1<', report) and re.search(r'id="report-completed">1<', report)
    assert referral_status(referrals_url, referral_id) == "completed"
    with requests.Session() as officer:
        sign_in(officer, stack.web_url, "officer-rv02")
        page = officer.get(f"{stack.web_url}/staff/concerns/{concern_id}", timeout=10).text
    assert "Outcome: Got help" in page


def test_a_decline_carries_its_reason(partners):
    stack, referrals_url = partners
    with requests.Session() as officer:
        sign_in(officer, stack.web_url, "officer-rv02")
        _, referral_id = sent_referral(stack.web_url, officer)
    with requests.Session() as agency:
        sign_in(agency, stack.web_url, FOOD_BANK_WORKER)
        declined = agency_post(agency, stack.web_url, referral_id, "decline", reason="no_capacity")
    assert declined.status_code == 200 and "You declined the referral." in declined.text
    assert "No capacity" in declined.text and referral_status(referrals_url, referral_id) == "declined"


def test_everyone_but_the_agency_is_refused(partners):
    stack, referrals_url = partners
    with requests.Session() as officer:
        sign_in(officer, stack.web_url, "officer-rv02")
        _, referral_id = sent_referral(stack.web_url, officer)
    pages = ["/agency/referrals", f"/agency/referrals/{referral_id}", "/agency/report"]
    for subject in (None, "resident-demo-1", "officer-rv05", "officer-rv02", "worker@safe-haven"):
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = "es"
            if subject:
                sign_in(browser, stack.web_url, subject)
            token = csrf(browser.get(stack.web_url + "/follow", timeout=10).text)
            answers = {path: browser.get(stack.web_url + path, timeout=10) for path in pages}
            answers["accept"] = browser.post(
                f"{stack.web_url}/agency/referrals/{referral_id}/accept", data={"csrf_token": token}, timeout=10
            )
        for path, answer in answers.items():
            if subject == "worker@safe-haven" and path in ("/agency/referrals", "/agency/report"):
                assert answer.status_code == 200 and referral_id not in answer.text  # its own, empty inbox
                continue
            assert answer.status_code in (403, 404), (subject, path, answer.status_code)
            assert answer.headers["Content-Type"].startswith("text/html") and '<html lang="es">' in answer.text
            assert "Rosa" not in answer.text
    assert referral_status(referrals_url, referral_id) == "sent"
