"""Development sign-in: the demo people, their own concerns, an officer's beats; refused in production."""

from __future__ import annotations

import re

import requests
from web_testkit import csrf, sign_in, voice

from beat_shared.auth import mint_token
from beat_shared.config import env


def test_a_signed_in_resident_voices_a_concern_that_is_theirs(stack):
    with requests.Session() as browser:
        me = sign_in(browser, stack.web_url, "resident-demo-1")
        assert me.status_code == 200 and "My concerns" in me.text and "No concerns yet." in me.text
        assert voice(browser, stack.web_url, confirmed="yes").status_code == 303
        mine = browser.get(stack.web_url + "/me", timeout=10).text
    [concern_id] = re.findall(r'href="/concerns/([0-9a-f-]{36})"', mine)
    staff = {"Authorization": f"Bearer {mint_token('supervisor', 'supervisor-1', env('BEAT_JWT_SECRET'))}"}
    stored = requests.get(f"{stack.concerns_url}/concerns/{concern_id}", headers=staff, timeout=10).json()
    assert stored["reporter"]["subject"] == "resident-demo-1"


def test_an_officer_sees_their_beats_concerns_and_not_the_others(stack):
    with requests.Session() as resident:
        assert voice(resident, stack.web_url, confirmed="yes").status_code == 303  # in RV-02
    with requests.Session() as browser:
        rv02 = sign_in(browser, stack.web_url, "officer-rv02")
        assert "My beats' concerns" in rv02.text and "Beat RV-02" in rv02.text
    with requests.Session() as browser:
        rv05 = sign_in(browser, stack.web_url, "officer-rv05")
        assert "No concerns yet." in rv05.text


def test_signing_out_forgets_the_person(stack):
    with requests.Session() as browser:
        me = sign_in(browser, stack.web_url, "resident-demo-2")
        assert "Signed in as Ben" in me.text
        out = browser.post(stack.web_url + "/sign-out", data={"csrf_token": csrf(me.text)}, timeout=10)
        assert out.status_code == 200 and "Sign out" not in out.text
        assert browser.get(stack.web_url + "/me", allow_redirects=False, timeout=10).headers["Location"] == "/sign-in"


def test_someone_not_in_the_list_is_refused(stack):
    with requests.Session() as browser:
        refused = sign_in(browser, stack.web_url, "mayor-1")
    assert refused.status_code == 400 and "Choose one of the people in the list." in refused.text


def test_production_offers_no_development_sign_in(production_web):
    page = requests.get(production_web + "/sign-in", timeout=10)
    assert page.status_code == 404 and 'href="/sign-in"' not in page.text
    assert "Secure" in page.headers["Set-Cookie"]
    # A valid form post is refused too. (The cookie is Secure, so it is sent back by hand over http.)
    form = requests.get(production_web + "/follow", timeout=10)
    posted = requests.post(
        production_web + "/sign-in",
        data={"csrf_token": csrf(form.text), "subject": "supervisor-1"},
        headers={"Cookie": f"beat_session={form.cookies['beat_session']}"},
        timeout=10,
    )
    assert posted.status_code == 404
