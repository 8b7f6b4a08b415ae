"""The agency's webhook and AMQP settings page over HTTP and in Chromium (concerns, referrals and web
on the test's backend): the agency's own webhook endpoints (never a secret) and its feed's names, with
how to use them; another agency sees only its own; everyone else gets a refusal page."""

from __future__ import annotations

import re

import requests
from integration.test_web_browser import DESKTOP, PHONE, Resident
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from integration.test_web_supervisor_browser import fits_a_phone
from web_testkit import sign_in

from beat_shared.auth import mint_token
from beat_shared.config import env

FOOD_BANK = "agency-riverton-food-bank"
HOOK = "https://hooks.rivertonfoodbank.org/beat"


def registered_hook(referrals_url: str) -> str:
    """The food bank registers a webhook through referrals' API; the secret it is shown once."""
    token = mint_token("agency", "worker@riverton-food-bank", env("BEAT_JWT_SECRET"), agency_id=FOOD_BANK)
    answer = requests.post(
        f"{referrals_url}/agencies/{FOOD_BANK}/webhooks",
        json={"url": HOOK, "description": "case system"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["secret"]


def test_the_agency_reads_its_own_settings_and_no_secret(partners):
    stack, referrals_url = partners
    secret = registered_hook(referrals_url)
    with requests.Session() as browser:
        inbox = sign_in(browser, stack.web_url, "worker@riverton-food-bank")
        assert 'href="/agency/settings"' in inbox.text
        page = browser.get(f"{stack.web_url}/agency/settings", timeout=10)
    assert page.status_code == 200
    assert HOOK in page.text and "Secrets in use: 1" in page.text
    assert re.search(rf'id="amqp-queue">agency\.{FOOD_BANK}<', page.text)
    assert re.search(rf'id="amqp-user">[^<]*{FOOD_BANK}<', page.text)
    assert secret not in page.text and "whsec_" not in page.text
    with requests.Session() as other:
        sign_in(other, stack.web_url, "worker@safe-haven")
        theirs = other.get(f"{stack.web_url}/agency/settings", timeout=10)
    assert theirs.status_code == 200 and HOOK not in theirs.text and "None registered." in theirs.text
    assert "agency.agency-safe-haven" in theirs.text


def test_everyone_but_agencies_gets_a_refusal_page(partners):
    stack, _ = partners
    for subject in (None, "resident-demo-1", "officer-rv02", "supervisor-1", "analyst-1"):
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = "es"
            if subject:
                sign_in(browser, stack.web_url, subject)
            answer = browser.get(f"{stack.web_url}/agency/settings", timeout=10)
        assert answer.status_code == 403, (subject, answer.status_code)
        assert '<html lang="es">' in answer.text and "amqp-queue" not in answer.text


def test_the_settings_page_in_chromium_in_spanish_without_scripts(partners, chrome, backend):
    stack, referrals_url = partners
    registered_hook(referrals_url)
    agency = Resident(chrome, stack.web_url, "es", scripts=False)
    agency.open("/sign-in")
    agency.find('input[value="worker@riverton-food-bank"]').click()
    agency.follow(agency.find('form[action="/sign-in"] button'))  # the inbox, checked by axe-core
    agency.follow(agency.find('a[href="/agency/settings"]'))
    assert HOOK in agency.text() and "Cola de mensajes (AMQP)" in agency.text()
    if backend == "sqlite":
        agency.screenshot("web-agency-settings-desktop-es", DESKTOP)
        agency.screenshot("web-agency-settings-phone-es", PHONE)
    fits_a_phone(agency)
