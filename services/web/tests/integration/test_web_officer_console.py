"""The officer's console over HTTP: the beat's queue, a concern's page, steps and notes, and the
refusal pages for everyone else (concerns, on the test's backend, decides who may do what)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import requests
from sqlalchemy import text
from web_testkit import csrf, open_receipt, sign_in, staff_headers, voice

from beat_shared.db import make_engine


def voiced(base: str, **fields) -> tuple[str, requests.Session]:
    """A resident voices a noise concern in RV-02; their browser (holding the receipt) and its id."""
    resident = requests.Session()
    assert voice(resident, base, confirmed="yes", **fields).status_code == 303
    return open_receipt(resident, base), resident


def officer(base: str, subject: str = "officer-rv02") -> requests.Session:
    browser = requests.Session()
    assert sign_in(browser, base, subject).status_code == 200
    return browser


def stored(stack, concern_id: str) -> dict:
    return requests.get(f"{stack.concerns_url}/concerns/{concern_id}", headers=staff_headers(), timeout=10).json()


def part(html: str, name: str) -> str:
    """The HTML of one part of the queue."""
    return re.search(rf'<section aria-labelledby="part-{name}">(.*?)</section>', html, re.S)[1]


def mark_overdue(database_url: str, concern_id: str) -> None:
    """What the concerns timer does once a concern's time to acknowledge has passed."""
    engine = make_engine(database_url, pool_size=1)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE concerns SET overdue_at = :now WHERE id = :id"), {"now": datetime.now(UTC), "id": concern_id}
        )
    engine.dispose()


def test_the_queue_counts_each_part_and_sorts_by_age_support_or_urgency(stack, concerns_db):
    older, _ = voiced(stack.web_url, description="Dogs barking all night")
    newer, _ = voiced(stack.web_url, description="Music from the bar")
    overdue, _ = voiced(stack.web_url, description="Fireworks every weekend")
    mark_overdue(concerns_db, overdue)
    assert requests.post(f"{stack.concerns_url}/concerns/{newer}/support", timeout=10).json()["counted"]
    with officer(stack.web_url) as browser:
        by_age = browser.get(stack.web_url + "/staff/queue", timeout=10)
        by_support = browser.get(stack.web_url + "/staff/queue", params={"sort": "support"}, timeout=10).text
    assert by_age.status_code == 200
    html = by_age.text
    assert re.search(r'id="count-new">2<', html) and re.search(r'id="count-overdue">1<', html)
    assert re.search(r'id="count-in_progress">0<', html) and re.search(r'id="count-waiting">0<', html)
    assert "not been acknowledged within its category's time to acknowledge" in html  # the rule, visible
    assert part(html, "new").index(older) < part(html, "new").index(newer)
    assert overdue in part(html, "overdue") and overdue not in part(html, "new") and "Overdue since" in html
    assert part(by_support, "new").index(newer) < part(by_support, "new").index(older)
    assert '<option value="support" selected>' in by_support


def test_the_concern_page_shows_the_reporters_contact_only_when_they_agreed(stack):
    agreed, _ = voiced(stack.web_url, name="Rosa Díaz", email="rosa@example.org", preference="email")
    declined, _ = voiced(stack.web_url, name="Sam Lee", email="sam@example.org", preference="none")
    with officer(stack.web_url) as browser:
        shown = browser.get(f"{stack.web_url}/staff/concerns/{agreed}", timeout=10).text
        hidden = browser.get(f"{stack.web_url}/staff/concerns/{declined}", timeout=10).text
    assert "rosa@example.org" in shown and "Rosa Díaz" in shown
    assert "sam@example.org" not in hidden and "Sam Lee" not in hidden
    assert "The reporter did not agree to be contacted." in hidden


def test_acknowledging_with_notes_keeps_the_internal_one_from_the_reporter(stack):
    concern_id, resident = voiced(stack.web_url)
    with officer(stack.web_url) as browser:
        page = browser.get(f"{stack.web_url}/staff/concerns/{concern_id}", timeout=10).text
        assert 'value="acknowledged"' in page and 'value="resolved"' not in page  # only the steps it may take
        sent = browser.post(
            f"{stack.web_url}/staff/concerns/{concern_id}/step",
            data={
                "csrf_token": csrf(page),
                "version": "1",
                "status": "acknowledged",
                "public_note": "I will walk past tonight.",
                "internal_note": "Bar owner known to us.",
            },
            timeout=10,
        )
    assert sent.status_code == 200 and "The step was recorded." in sent.text
    internal = re.search(r'<div class="internal-note">(.*?)</div>', sent.text, re.S)[1]
    public = re.search(r'<div class="public-note">(.*?)</div>', sent.text, re.S)[1]
    assert "Bar owner known to us." in internal and "police staff only" in internal
    assert "I will walk past tonight." in public and "the reporter sees it" in public
    assert stored(stack, concern_id)["status"] == "acknowledged"
    follow = resident.get(f"{stack.web_url}/follow/{concern_id}", timeout=10).text
    assert "I will walk past tonight." in follow and "Bar owner" not in follow


def test_a_note_without_a_step_leaves_the_status_and_an_empty_one_is_refused(stack):
    concern_id, _ = voiced(stack.web_url)
    with officer(stack.web_url) as browser:
        page = browser.get(f"{stack.web_url}/staff/concerns/{concern_id}", timeout=10).text
        empty = browser.post(
            f"{stack.web_url}/staff/concerns/{concern_id}/note",
            data={"csrf_token": csrf(page), "version": "1", "public_note": "  ", "internal_note": ""},
            timeout=10,
        )
        assert empty.status_code == 400 and "Write a public note, an internal note or both." in empty.text
        assert stored(stack, concern_id)["version"] == 1  # nothing was sent
        noted = browser.post(
            f"{stack.web_url}/staff/concerns/{concern_id}/note",
            data={"csrf_token": csrf(page), "version": "1", "internal_note": "Called the landlord."},
            timeout=10,
        )
    assert noted.status_code == 200 and "The note was added." in noted.text
    after = stored(stack, concern_id)
    assert after["status"] == "submitted" and after["updates"][-1]["internal_note"] == "Called the landlord."


def test_a_step_on_a_concern_changed_meanwhile_is_a_conflict_page(stack):
    concern_id, _ = voiced(stack.web_url)
    with officer(stack.web_url) as browser:
        page = browser.get(f"{stack.web_url}/staff/concerns/{concern_id}", timeout=10).text
        data = {"csrf_token": csrf(page), "version": "1", "status": "acknowledged"}
        assert browser.post(f"{stack.web_url}/staff/concerns/{concern_id}/step", data=data, timeout=10).ok
        stale = browser.post(
            f"{stack.web_url}/staff/concerns/{concern_id}/step",
            data={**data, "status": "closed_not_resolved"},
            timeout=10,
        )
    assert stale.status_code == 409 and stale.headers["Content-Type"].startswith("text/html")
    assert stored(stack, concern_id)["status"] == "acknowledged"


def test_a_note_too_long_comes_back_beside_its_field(stack):
    concern_id, _ = voiced(stack.web_url)
    with officer(stack.web_url) as browser:
        page = browser.get(f"{stack.web_url}/staff/concerns/{concern_id}", timeout=10).text
        refused = browser.post(
            f"{stack.web_url}/staff/concerns/{concern_id}/note",
            data={"csrf_token": csrf(page), "version": "1", "public_note": "x" * 2001},
            timeout=10,
        )
    assert refused.status_code == 400 and 'id="note-public_note-error"' in refused.text
    assert "x" * 2001 in refused.text  # what was typed is kept
    assert stored(stack, concern_id)["version"] == 1


def test_everyone_else_gets_a_refusal_page_in_their_language(stack):
    concern_id, _ = voiced(stack.web_url)
    pages = ["/staff/queue", f"/staff/concerns/{concern_id}"]
    posts = [f"/staff/concerns/{concern_id}/step", f"/staff/concerns/{concern_id}/note"]
    people = {"anonymous": None, "resident": "resident-demo-1", "other beat": "officer-rv05"}
    for who, subject in people.items():
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = "es"
            if subject:
                sign_in(browser, stack.web_url, subject)
            token = csrf(browser.get(stack.web_url + "/follow", timeout=10).text)
            answers = [browser.get(stack.web_url + path, timeout=10) for path in pages]
            data = {"csrf_token": token, "version": "1", "status": "acknowledged", "public_note": "Hola"}
            answers += [browser.post(stack.web_url + path, data=data, timeout=10) for path in posts]
        for path, answer in zip(pages + posts, answers, strict=True):
            if who == "other beat" and path == "/staff/queue":
                assert answer.status_code == 200 and concern_id not in answer.text  # their own beat's queue
                continue
            assert answer.status_code in (403, 404), (who, path, answer.status_code)
            assert answer.headers["Content-Type"].startswith("text/html") and '<html lang="es">' in answer.text
            assert "Hola" not in answer.text
    assert stored(stack, concern_id)["version"] == 1  # nobody changed it
