"""Supervisors' pages over HTTP (concerns on the test's backend): overdue concerns across beats and
the unplaced queue, assigning an officer to a beat and taking them off it, the categories with their
questions and response times, form errors beside their fields, and a refusal page for everyone else;
and the analyst's home, linking the survey dashboard and the results feeds."""

from __future__ import annotations

import html
import re

import requests
from integration.test_web_officer_console import mark_overdue, officer, voiced
from web_testkit import csrf, sign_in

from beat_shared.config import env


def unplaced_concern(stack) -> str:
    """A concern given by address only: in no beat until a supervisor acts on it."""
    body = {
        "category": "noise",
        "description": "Generator running all night",
        "location": {"address": "12 Old Mill Rd"},
    }
    answer = requests.post(stack.concerns_url + "/concerns", json=body, timeout=10)
    assert answer.status_code == 201, answer.text
    assert answer.json()["concern"].get("beat_code") is None
    return answer.json()["concern"]["id"]


def test_overdue_concerns_across_beats_and_the_unplaced_queue(stack, concerns_db):
    late, _ = voiced(stack.web_url, description="Dogs barking all night")
    on_time, _ = voiced(stack.web_url, description="Music from the bar")
    mark_overdue(concerns_db, late)
    nowhere = unplaced_concern(stack)
    with officer(stack.web_url, "supervisor-1") as browser:
        page = browser.get(f"{stack.web_url}/supervisor", timeout=10)
    assert page.status_code == 200
    overdue = re.search(r'<section aria-labelledby="overdue">(.*?)</section>', page.text, re.S)[1]
    unplaced = re.search(r'<section aria-labelledby="unplaced">(.*?)</section>', page.text, re.S)[1]
    assert f"/staff/concerns/{late}" in overdue and on_time not in overdue and "Beat RV-02" in overdue
    assert f"/staff/concerns/{nowhere}" in unplaced and late not in unplaced
    assert re.search(r'id="count-overdue">1<', page.text) and re.search(r'id="count-unplaced">1<', page.text)


def test_a_supervisor_assigns_an_officer_to_a_beat_and_takes_them_off(stack):
    concern_id, _ = voiced(stack.web_url, description="Cars racing")
    with officer(stack.web_url, "officer-rv05") as other:
        assert other.get(f"{stack.web_url}/staff/concerns/{concern_id}", timeout=10).status_code == 403
        with officer(stack.web_url, "supervisor-1") as browser:
            page = browser.get(f"{stack.web_url}/supervisor/assignments", timeout=10).text
            rv02 = re.search(r'<section aria-labelledby="beat-RV-02">(.*?)</section>', page, re.S)[1]
            assert "(officer-rv02)" in rv02 and "(officer-rv05)" not in rv02
            data = {"csrf_token": csrf(page), "move": "assign", "beat": "RV-02", "subject": "officer-rv05"}
            assigned = browser.post(f"{stack.web_url}/supervisor/assignments", data=data, timeout=10)
            assert "The officer was assigned to the beat." in assigned.text
            rv02 = re.search(r'<section aria-labelledby="beat-RV-02">(.*?)</section>', assigned.text, re.S)[1]
            assert "(officer-rv05)" in rv02
            assert other.get(f"{stack.web_url}/staff/concerns/{concern_id}", timeout=10).status_code == 200
            removed = browser.post(
                f"{stack.web_url}/supervisor/assignments", data={**data, "move": "unassign"}, timeout=10
            )
            assert "The officer no longer works that beat." in removed.text
        assert other.get(f"{stack.web_url}/staff/concerns/{concern_id}", timeout=10).status_code == 403


def test_assignment_errors_come_back_beside_the_field(stack):
    with officer(stack.web_url, "supervisor-1") as browser:
        token = csrf(browser.get(f"{stack.web_url}/supervisor/assignments", timeout=10).text)
        url = f"{stack.web_url}/supervisor/assignments"
        empty = browser.post(url, data={"csrf_token": token, "move": "assign", "beat": "RV-03", "subject": ""})
        assert empty.status_code == 400 and 'id="subject-error"' in empty.text
        assert '<option value="RV-03" selected>' in empty.text
        unknown = {"csrf_token": token, "move": "assign", "beat": "RV-03", "subject": "officer-nobody"}
        refused = browser.post(url, data=unknown, timeout=10)
        assert refused.status_code == 400 and 'id="subject-error"' in refused.text
        assert 'value="officer-nobody"' in refused.text
        odd = browser.post(url, data={**unknown, "move": "promote"}, timeout=10)
        assert odd.status_code == 400 and odd.headers["Content-Type"].startswith("text/html")
        not_there = browser.post(url, data={**unknown, "move": "unassign", "subject": "officer-rv01"}, timeout=10)
        assert not_there.status_code == 404  # officer-rv01 does not work RV-03
    beat = requests.get(f"{stack.concerns_url}/beats/RV-03", timeout=10).json()
    assert "officer-nobody" not in [person["subject"] for person in beat["officers"]]


def test_categories_show_their_questions_and_response_times(stack):
    categories = requests.get(f"{stack.concerns_url}/categories", timeout=10).json()["categories"]
    with_questions = next(category for category in categories if category["attributes"])
    with officer(stack.web_url, "supervisor-1") as browser:
        page = browser.get(f"{stack.web_url}/supervisor/categories", timeout=10)
    assert page.status_code == 200
    section = re.search(
        rf'<section aria-labelledby="category-{with_questions["code"]}"[^>]*>(.*?)</section>', page.text, re.S
    )[1]
    assert f"{with_questions['acknowledge_hours']} hours" in section
    assert html.escape(with_questions["attributes"][0]["description"], quote=False) in section
    assert "<form" not in page.text.split("<main", 1)[1]  # read-only: concerns lets only admins change them


def test_everyone_else_gets_a_refusal_page(stack):
    pages = ["/supervisor", "/supervisor/assignments", "/supervisor/categories"]
    people = {
        "anonymous": None,
        "resident": "resident-demo-1",
        "officer": "officer-rv02",
        "agency": "worker@riverton-food-bank",
        "analyst": "analyst-1",
    }
    for who, subject in people.items():
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = "es"
            if subject:
                sign_in(browser, stack.web_url, subject)
            token = csrf(browser.get(stack.web_url + "/follow", timeout=10).text)
            answers = [browser.get(stack.web_url + path, timeout=10) for path in pages]
            data = {"csrf_token": token, "move": "assign", "beat": "RV-02", "subject": "officer-rv05"}
            answers.append(browser.post(stack.web_url + "/supervisor/assignments", data=data, timeout=10))
        for path, answer in zip([*pages, "POST /supervisor/assignments"], answers, strict=True):
            assert answer.status_code == 403, (who, path, answer.status_code)
            assert answer.headers["Content-Type"].startswith("text/html") and '<html lang="es">' in answer.text
    beat = requests.get(f"{stack.concerns_url}/beats/RV-02", timeout=10).json()
    assert "officer-rv05" not in [person["subject"] for person in beat["officers"]]


def test_the_analysts_home_links_the_dashboard_and_the_feeds(stack):
    surveys = env("WEB_SURVEYS_PUBLIC_URL").rstrip("/")
    with requests.Session() as browser:
        home = sign_in(browser, stack.web_url, "analyst-1")  # an analyst lands on the home page
    assert home.url == stack.web_url + "/" and 'id="analyst"' in home.text
    for feed in ("/dashboard", "/results?by=beat", "/results.csv?by=beat", "/results.csv?by=category", "/report-cards"):
        assert f'href="{surveys}{feed}"' in home.text, feed
    with officer(stack.web_url, "officer-rv02") as browser:
        assert 'id="analyst"' not in browser.get(stack.web_url + "/", timeout=10).text
    assert 'id="analyst"' not in requests.get(stack.web_url + "/", timeout=10).text
