"""Signing in with the city's OpenID Connect provider (authorization code with PKCE), end to end:
concerns (on the test's backend) and web as real nameko containers, and a test provider over real
HTTP standing in for the city's (tests/oidc_provider.py). The services accept the provider's RS256
access tokens through its JWKS, exactly as they would in production."""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from oidc_provider import Account, TestProvider
from web_testkit import csrf, voice

from beat_shared.testing import wait_for

CLIENT_ID, CLIENT_SECRET = "beat-web", "a-client-secret-of-the-test"
RESIDENT = Account("city|resident-7", "Rosa Díaz", "resident")
OFFICER = Account("officer-rv02", "Officer Lee", "officer")
SUPERVISOR = Account("supervisor-1", "Sergeant Calloway", "supervisor")
FOOD_BANK = Account("city|worker-9", "Sam at the food bank", "agency", "agency-riverton-food-bank")


@pytest.fixture
def provider():
    started = TestProvider(CLIENT_ID, CLIENT_SECRET, redirect_uri="(set when web starts)").start()
    yield started
    started.stop()


@pytest.fixture
def oidc_stack(start_stack, provider):
    """concerns and web both trusting the provider's tokens (RS256, its JWKS, its issuer)."""
    trust = {
        "BEAT_JWT_ALGORITHM": "RS256",
        "BEAT_JWT_JWKS_URL": provider.jwks_url,
        "BEAT_JWT_ISSUER": provider.issuer,
        "BEAT_JWT_AUDIENCE": "beat",
    }
    web = {
        **trust,
        "WEB_OIDC_DISCOVERY_URL": provider.discovery_url,
        "WEB_OIDC_CLIENT_ID": CLIENT_ID,
        "WEB_OIDC_CLIENT_SECRET": CLIENT_SECRET,
    }
    stack = start_stack(concerns={"CONCERNS_RATE_PER_ADDRESS": "1000/3600", **trust}, web=web)
    provider.clients[CLIENT_ID] = (CLIENT_SECRET, f"{stack.web_url}/sign-in/callback")
    return stack


def to_provider(browser: requests.Session, web_url: str, path: str = "/sign-in") -> str:
    """The provider's authorization URL the web service sends the browser to."""
    leaving = browser.get(web_url + path, allow_redirects=False, timeout=10)
    assert leaving.status_code == 303, leaving.text
    return leaving.headers["Location"]


def to_callback(authorization_url: str) -> str:
    """Where the provider sends the browser back (the callback with its code and state)."""
    answer = requests.get(authorization_url, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def test_a_resident_signs_in_at_the_provider_and_the_pages_carry_their_token(oidc_stack, provider, caplog):
    provider.account = RESIDENT
    with requests.Session() as browser:
        authorization_url = to_provider(browser, oidc_stack.web_url)
        asked = parse_qs(urlsplit(authorization_url).query)
        assert authorization_url.startswith(provider.issuer + "/authorize?")
        assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
        assert asked["client_id"] == [CLIENT_ID] and "openid" in asked["scope"][0].split()
        assert asked["nonce"][0] and asked["state"][0] and "code_verifier" not in asked
        callback = to_callback(authorization_url)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        with caplog.at_level(logging.INFO, logger="nameko.web.server"):
            landed = browser.get(callback, allow_redirects=False, timeout=10)
        assert landed.status_code == 303 and landed.headers["Location"] == "/me"
        cookie = landed.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        me = browser.get(oidc_stack.web_url + "/me", timeout=10)
        assert me.status_code == 200 and "My concerns" in me.text and "Rosa Díaz" in me.text
        assert voice(browser, oidc_stack.web_url, confirmed="yes").status_code == 303
        mine = browser.get(oidc_stack.web_url + "/me", timeout=10).text
    [concern_id] = re.findall(r'href="/concerns/([0-9a-f-]{36})"', mine)
    staff = {"Authorization": f"Bearer {provider.access_token(SUPERVISOR)}"}
    stored = requests.get(f"{oidc_stack.concerns_url}/concerns/{concern_id}", headers=staff, timeout=10).json()
    assert stored["reporter"]["subject"] == RESIDENT.subject  # concerns saw the provider's token
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/sign-in/callback?[redacted]" in logged  # the code reached the server in a URL: never logged
    assert code not in logged and code not in mine


def test_an_officer_and_an_agency_worker_get_their_role_and_agency_from_the_claims(oidc_stack, provider):
    with requests.Session() as resident:
        assert voice(resident, oidc_stack.web_url, confirmed="yes").status_code == 303  # in RV-02
    provider.account = OFFICER
    with requests.Session() as browser:
        me = browser.get(to_callback(to_provider(browser, oidc_stack.web_url)), timeout=10)
        assert "My beats' concerns" in me.text and "Beat RV-02" in me.text and "Officer Lee" in me.text
    provider.account = FOOD_BANK
    with requests.Session() as browser:
        landed = browser.get(to_callback(to_provider(browser, oidc_stack.web_url)), allow_redirects=False, timeout=10)
        assert landed.headers["Location"] == "/agency/referrals"  # an agency lands on its inbox


def test_the_person_comes_back_to_the_page_that_asked_them_to_sign_in(oidc_stack, provider):
    provider.account = RESIDENT
    with requests.Session() as browser:
        callback = to_callback(to_provider(browser, oidc_stack.web_url, "/sign-in?next=/alerts"))
        assert browser.get(callback, allow_redirects=False, timeout=10).headers["Location"] == "/alerts"
        outside = to_provider(browser, oidc_stack.web_url, "/sign-in?next=https://evil.example/")
        landed = browser.get(to_callback(outside), allow_redirects=False, timeout=10)
        assert landed.headers["Location"] == "/"  # no open redirect


def test_a_callback_with_another_state_is_refused_and_signs_nobody_in(oidc_stack, provider):
    provider.account = RESIDENT
    with requests.Session() as browser:
        callback = to_callback(to_provider(browser, oidc_stack.web_url))
        forged = re.sub(r"state=[^&]+", "state=not-the-one-we-sent", callback)
        refused = browser.get(forged, timeout=10)
        assert refused.status_code == 400 and "Your sign-in did not finish" in refused.text
        assert "Sign out" not in refused.text
        again = browser.get(callback, timeout=10)  # the sign-in under way was spent by the forged answer
        assert again.status_code == 400 and "Sign out" not in again.text


def test_a_callback_without_a_sign_in_under_way_is_refused_in_the_persons_language(oidc_stack, provider):
    provider.account = RESIDENT
    with requests.Session() as somebody:
        callback = to_callback(to_provider(somebody, oidc_stack.web_url))
    with requests.Session() as browser:
        refused = browser.get(callback, headers={"Accept-Language": "es"}, timeout=10)
    assert refused.status_code == 400 and "No se completó su inicio de sesión" in refused.text


def test_a_stolen_code_is_useless_without_its_pkce_verifier(oidc_stack, provider):
    """An attacker who intercepts a resident's code and replays it with a sign-in of their own
    (their own state, so the state check passes) is refused: the verifier is not the code's."""
    provider.account = RESIDENT
    with requests.Session() as victim:
        stolen = parse_qs(urlsplit(to_callback(to_provider(victim, oidc_stack.web_url))).query)["code"][0]
    with requests.Session() as attacker:
        own_state = parse_qs(urlsplit(to_provider(attacker, oidc_stack.web_url)).query)["state"][0]
        replay = f"{oidc_stack.web_url}/sign-in/callback?code={stolen}&state={own_state}"
        refused = attacker.get(replay, timeout=10)
        assert refused.status_code == 400 and "We could not sign you in" in refused.text
        assert "Sign out" not in attacker.get(oidc_stack.web_url + "/", timeout=10).text
    assert provider.refusals == ["code_verifier does not match the code_challenge"]


def test_the_provider_saying_no_is_a_page_not_an_error(oidc_stack, provider):
    provider.account = None  # the person cancelled at the provider
    with requests.Session() as browser:
        refused = browser.get(to_callback(to_provider(browser, oidc_stack.web_url)), timeout=10)
    assert refused.status_code == 400 and "We could not sign you in" in refused.text


def test_an_id_token_for_another_sign_in_is_refused(oidc_stack, provider):
    provider.account = RESIDENT
    provider.id_token_claims = {"nonce": "the-nonce-of-another-sign-in"}  # a replayed ID token
    with requests.Session() as browser:
        refused = browser.get(to_callback(to_provider(browser, oidc_stack.web_url)), timeout=10)
    assert refused.status_code == 400 and "We could not sign you in" in refused.text and "Sign out" not in refused.text


def test_an_account_without_a_role_in_beat_is_told_so(oidc_stack, provider):
    provider.account = Account("city|visitor", "A visitor")
    with requests.Session() as browser:
        refused = browser.get(to_callback(to_provider(browser, oidc_stack.web_url)), timeout=10)
    assert refused.status_code == 403 and "Your account cannot use Beat yet" in refused.text


def test_with_a_provider_the_demo_people_are_not_offered(oidc_stack):
    with requests.Session() as browser:
        page = browser.get(oidc_stack.web_url + "/follow", timeout=10)
        assert 'href="/sign-in"' in page.text  # sign-in is offered: at the provider
        posted = browser.post(
            oidc_stack.web_url + "/sign-in", data={"csrf_token": csrf(page.text), "subject": "supervisor-1"}, timeout=10
        )
    assert posted.status_code == 404


def test_an_expired_token_signs_the_person_out_instead_of_failing_every_page(oidc_stack, provider):
    provider.account = RESIDENT
    provider.token_seconds = 2
    with requests.Session() as browser:
        me = browser.get(to_callback(to_provider(browser, oidc_stack.web_url)), timeout=10)
        assert "Rosa Díaz" in me.text

        # Once the token's two seconds are over, /me sends the person to sign in (polled, not slept).
        def signed_out() -> requests.Response | None:
            page = browser.get(oidc_stack.web_url + "/me", allow_redirects=False, timeout=10)
            return page if page.status_code == 303 else None

        later = wait_for(signed_out, timeout=15, message="the expired token to sign the person out")
    assert later.headers["Location"] == "/sign-in"


def test_a_provider_that_cannot_be_reached_is_a_page(start_stack, provider):
    trust = {"BEAT_JWT_ALGORITHM": "RS256", "BEAT_JWT_JWKS_URL": provider.jwks_url}
    gone = provider.discovery_url
    provider.stop()
    stack = start_stack(
        web={**trust, "WEB_OIDC_DISCOVERY_URL": gone, "WEB_OIDC_CLIENT_ID": CLIENT_ID, "WEB_API_TIMEOUT": "2"}
    )
    page = requests.get(stack.web_url + "/sign-in", timeout=10)
    assert page.status_code == 503 and "Signing in is not available just now" in page.text
