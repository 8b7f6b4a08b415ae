"""My inbox and my notification preferences over HTTP (concerns, notifications and web on the test's
backend): an officer's alert arrives in a follower's inbox, is marked read; a preference switched on
is what notifications then holds; a wrong choice is a 400 page; anonymous visitors, agencies and
analysts (notifications keeps no inbox for them) get a refusal page."""

from __future__ import annotations

import requests
from integration.test_web_officer_broadcasts import broadcast_stack as broadcast_stack  # the services, shared
from web_testkit import csrf, sign_in

from beat_shared.testing import wait_for


def alerted(stack) -> None:
    """The beat's officer alerts RV-02 through notifications' API."""
    body = {"kind": "alert", "title": "Car break-ins on Elm St", "body": "Lock your car."}
    headers = stack.as_person("officer", "officer-rv02")
    answer = requests.post(f"{stack.notifications_url}/broadcasts/RV-02", json=body, headers=headers, timeout=10)
    assert answer.status_code == 201, answer.text


def test_an_alert_arrives_in_the_inbox_and_is_marked_read(broadcast_stack):
    base = broadcast_stack.web_url
    broadcast_stack.follows("resident-demo-1")
    alerted(broadcast_stack)
    with requests.Session() as browser:
        sign_in(browser, base, "resident-demo-1")
        assert 'href="/me/inbox"' in browser.get(f"{base}/me", timeout=10).text

        def arrived() -> str | None:
            # The page asks for the items and the unread count side by side: a page asked for as
            # the alert is stored may list it before counting it, and the next one counts it.
            page = browser.get(f"{base}/me/inbox", timeout=10).text
            return page if "Car break-ins on Elm St" in page and "Unread: 1" in page else None

        page = wait_for(arrived, message="the alert in the inbox, counted unread")
        assert 'name="item"' in page
        read = browser.post(f"{base}/me/inbox/read", data={"csrf_token": csrf(page)}, timeout=10)
        assert read.status_code == 200 and "Marked as read." in read.text
        assert "Unread: 0" in read.text and 'name="item"' not in read.text
    unread = requests.get(
        f"{broadcast_stack.notifications_url}/inbox/unread-count",
        headers=broadcast_stack.as_person("resident", "resident-demo-1"),
        timeout=10,
    )
    assert unread.json() == {"unread": 0}


def test_an_officer_switches_a_topic_on_by_text_message(broadcast_stack):
    base = broadcast_stack.web_url
    with requests.Session() as browser:
        sign_in(browser, base, "officer-rv02")
        page = browser.get(f"{base}/me/notifications", timeout=10)
        assert page.status_code == 200 and "Nothing yet" in page.text
        choice = {"csrf_token": csrf(page.text), "topic": "overdue", "channel": "sms", "enabled": "on"}
        saved = browser.post(f"{base}/me/notifications", data=choice, timeout=10)
        assert saved.status_code == 200 and "Your preference was saved." in saved.text
        assert "Overdue concerns · Text message: <strong>on</strong>" in saved.text
        wrong = browser.post(f"{base}/me/notifications", data={**choice, "channel": "pigeon"}, timeout=10)
        assert wrong.status_code == 400 and "error-summary" in wrong.text
        unknown = browser.post(f"{base}/me/notifications", data={**choice, "topic": "gossip"}, timeout=10)
        assert unknown.status_code == 400  # notifications' 400, shown on the page
    stored = requests.get(
        f"{broadcast_stack.notifications_url}/me/preferences",
        headers=broadcast_stack.as_person("officer", "officer-rv02"),
        timeout=10,
    ).json()
    assert stored["preferences"] == [{"topic": "overdue", "channel": "sms", "enabled": True}]


def test_people_without_an_inbox_get_a_refusal_page(broadcast_stack):
    base = broadcast_stack.web_url
    for subject in (None, "worker@riverton-food-bank", "analyst-1"):
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = "es"
            if subject:
                sign_in(browser, base, subject)
            token = csrf(browser.get(base + "/follow", timeout=10).text)
            answers = [
                browser.get(f"{base}/me/inbox", timeout=10),
                browser.get(f"{base}/me/notifications", timeout=10),
                browser.post(f"{base}/me/inbox/read", data={"csrf_token": token}, timeout=10),
                browser.post(
                    f"{base}/me/notifications",
                    data={"csrf_token": token, "topic": "*", "channel": "email", "enabled": "off"},
                    timeout=10,
                ),
            ]
        for answer in answers:
            assert answer.status_code == 403, (subject, answer.url, answer.status_code)
            assert answer.headers["Content-Type"].startswith("text/html") and '<html lang="es">' in answer.text
