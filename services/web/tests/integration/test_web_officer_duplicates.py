"""Merging likely duplicates from a concern's page over HTTP (concerns on the test's backend): the page
lists other open concerns of its kind nearby (never itself), merging closes it as a duplicate of the
one chosen, a merge refused by concerns is its page, and other beats' officers are refused; in Chromium
too, in Spanish without scripts, axe-core on the page with its duplicates."""

from __future__ import annotations

import re

import requests
from integration.test_web_browser import Resident
from integration.test_web_browser import chrome as chrome  # the browser fixture, shared
from integration.test_web_officer_console import officer, stored, voiced
from integration.test_web_supervisor_browser import fits_a_phone
from web_testkit import csrf


def duplicates_part(html: str) -> str:
    found = re.search(r'<ul class="cards duplicates">(.*?)</ul>', html, re.S)
    return found[1] if found else ""


def test_an_officer_merges_a_concern_into_its_likely_duplicate(stack):
    first, _ = voiced(stack.web_url, description="Music from the bar until 3 am")
    second, _ = voiced(stack.web_url, description="The bar is loud every night")
    support_before = stored(stack, first)["supporters"]
    with officer(stack.web_url) as browser:
        page = browser.get(f"{stack.web_url}/staff/concerns/{second}", timeout=10).text
        offered = duplicates_part(page)
        assert f'value="{first}"' in offered and f'value="{second}"' not in offered
        assert "Music from the bar" in offered
        merge = {"csrf_token": csrf(page), "version": "1", "status": "duplicate", "merged_into": first}
        merged = browser.post(f"{stack.web_url}/staff/concerns/{second}/step", data=merge, timeout=10)
        assert merged.status_code == 200 and "The step was recorded." in merged.text
        assert "Merged with another concern" in merged.text
        assert duplicates_part(merged.text) == ""  # a merged concern cannot be merged again
        again = browser.post(f"{stack.web_url}/staff/concerns/{second}/step", data=merge, timeout=10)
        assert again.status_code == 409  # concerns refuses: the page says so
    assert stored(stack, second)["status"] == "duplicate"
    assert stored(stack, first)["status"] == "submitted"
    assert stored(stack, first)["supporters"] == support_before + 1  # the merged one's reporter counts for it now


def test_a_merge_into_an_unknown_concern_comes_back_and_others_are_refused(stack):
    first, _ = voiced(stack.web_url, description="Dogs barking")
    second, _ = voiced(stack.web_url, description="Dogs barking again")
    with officer(stack.web_url) as browser:
        page = browser.get(f"{stack.web_url}/staff/concerns/{second}", timeout=10).text
        merge = {"csrf_token": csrf(page), "version": "1", "status": "duplicate", "merged_into": "no-such-concern"}
        refused = browser.post(f"{stack.web_url}/staff/concerns/{second}/step", data=merge, timeout=10)
        assert refused.status_code == 400 and "error-summary" in refused.text
    with officer(stack.web_url, "officer-rv05") as other:
        token = csrf(other.get(f"{stack.web_url}/staff/queue", timeout=10).text)
        data = {"csrf_token": token, "version": "1", "status": "duplicate", "merged_into": first}
        assert other.post(f"{stack.web_url}/staff/concerns/{second}/step", data=data, timeout=10).status_code == 403
    assert stored(stack, second)["status"] == "submitted"


def test_a_concern_given_by_address_has_no_duplicates_part(stack):
    body = {"category": "noise", "description": "Generator at night", "location": {"address": "12 Old Mill Rd"}}
    made = requests.post(stack.concerns_url + "/concerns", json=body, timeout=10).json()["concern"]["id"]
    with officer(stack.web_url, "supervisor-1") as browser:
        page = browser.get(f"{stack.web_url}/staff/concerns/{made}", timeout=10)
    assert page.status_code == 200 and 'id="duplicates"' not in page.text


def test_merging_in_chromium_without_scripts(stack, chrome):
    first, _ = voiced(stack.web_url, description="Music from the bar until 3 am")
    second, _ = voiced(stack.web_url, description="The bar is loud every night")
    person = Resident(chrome, stack.web_url, "es", scripts=False)
    person.open("/sign-in")
    person.find('input[value="officer-rv02"]').click()
    person.follow(person.find('form[action="/sign-in"] button'))
    person.open(f"/staff/concerns/{second}")  # axe-core checks the page with its duplicates part
    fits_a_phone(person)
    person.follow(person.find(f"#duplicate-{first} button"))
    assert person.find("#status").text == "Unida a otra inquietud"
    assert stored(stack, second)["status"] == "duplicate"
