"""Broadcasting an alert from the officer's console over HTTP: concerns, notifications and web (on
the test's backend). The preview says how many subscribers it reaches and what it says in English
and Spanish; sending it twice (a double click) alerts the beat once; a missing title comes back
beside its field; everyone else gets a refusal page and nothing is sent."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import requests
from web_testkit import csrf, sign_in

from beat_shared.auth import mint_token
from beat_shared.config import env
from beat_shared.testing import wait_for
from concerns.demo import seed_reference
from concerns.service import ConcernsService
from notifications.service import NotificationsService


@dataclass(frozen=True)
class BroadcastStack:
    web_url: str
    notifications_url: str

    def as_person(self, role: str, subject: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(role, subject, env('BEAT_JWT_SECRET'))}"}

    def follows(self, subject: str, beat: str = "RV-02") -> None:
        """A resident follows a beat by e-mail, through notifications' own API."""
        headers = self.as_person("resident", subject)
        contact = {"email": f"{subject}@example.org", "language": "es"}
        assert requests.put(f"{self.notifications_url}/me/contact", json=contact, headers=headers, timeout=10).ok
        answer = requests.post(
            f"{self.notifications_url}/me/subscriptions", json={"beat_code": beat}, headers=headers, timeout=10
        )
        assert answer.status_code == 201, answer.text

    def broadcasts(self) -> list[dict]:
        """The beat alerts notifications has recorded (as the supervisor reads them)."""
        answer = requests.get(
            f"{self.notifications_url}/notifications",
            params={"per_page": 100},
            headers=self.as_person("supervisor", "supervisor-1"),
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return [row for row in answer.json()["contents"] if row.get("template") == "beat_alert"]


@pytest.fixture
def broadcast_stack(running_services, start_web) -> BroadcastStack:
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
    return BroadcastStack(web_url, started["notifications"].url)


def officer(base: str, subject: str = "officer-rv02") -> requests.Session:
    browser = requests.Session()
    assert sign_in(browser, base, subject).status_code == 200
    return browser


def test_an_officer_previews_an_alert_and_sends_it_once(broadcast_stack):
    base = broadcast_stack.web_url
    broadcast_stack.follows("resident-demo-1")
    broadcast_stack.follows("resident-demo-2")
    broadcast_stack.follows("resident-demo-3", beat="RV-04")  # another beat's follower: not counted
    with officer(base) as browser:
        form = browser.get(f"{base}/staff/beats/RV-02/broadcast", timeout=10)
        assert form.status_code == 200
        alert = {"csrf_token": csrf(form.text), "title": "Car break-ins on Elm St", "body": "Lock your car."}
        untitled = browser.post(f"{base}/staff/beats/RV-02/broadcast/preview", data={**alert, "title": ""}, timeout=10)
        assert untitled.status_code == 400 and 'id="title-error"' in untitled.text
        assert "Lock your car." in untitled.text  # what was typed stays
        preview = browser.post(
            f"{base}/staff/beats/RV-02/broadcast/preview", data={**alert, "urgent": "yes"}, timeout=10
        )
        assert preview.status_code == 200
        assert "Subscribers of RV-02 it will reach: 2." in preview.text
        assert "URGENT: Car break-ins on Elm St (RV-02)" in preview.text
        assert re.search(r'<div class="card preview" lang="es">.*?Alerta sector RV-02', preview.text, re.S)
        send = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', preview.text))
        assert send["urgent"] == "yes" and len(send["key"]) >= 8
        assert broadcast_stack.broadcasts() == []  # a preview sends nothing
        first = browser.post(f"{base}/staff/beats/RV-02/broadcast", data=send, timeout=10)
        again = browser.post(f"{base}/staff/beats/RV-02/broadcast", data=send, timeout=10)  # a double click
        assert first.status_code == again.status_code == 200
        assert "The alert was sent to the beat's subscribers." in first.text
        keyless = browser.post(f"{base}/staff/beats/RV-02/broadcast", data={**send, "key": ""}, timeout=10)
        assert keyless.status_code == 400
    [sent] = broadcast_stack.broadcasts()
    assert sent["event_type"] == "beat.broadcast.alert"


def test_everyone_else_gets_a_refusal_page_and_nothing_is_sent(broadcast_stack):
    base = broadcast_stack.web_url
    broadcast_stack.follows("resident-demo-1")
    people = {
        "anonymous": None,
        "resident": "resident-demo-1",
        "other beat": "officer-rv05",
        "agency": "worker@riverton-food-bank",
    }
    for who, subject in people.items():
        with requests.Session() as browser:
            browser.headers["Accept-Language"] = "es"
            if subject:
                sign_in(browser, base, subject)
            token = csrf(browser.get(base + "/follow", timeout=10).text)
            alert = {"csrf_token": token, "title": "Hola", "key": "a-key-of-some-length"}
            answers = {
                "form": browser.get(f"{base}/staff/beats/RV-02/broadcast", timeout=10),
                "preview": browser.post(f"{base}/staff/beats/RV-02/broadcast/preview", data=alert, timeout=10),
                "send": browser.post(f"{base}/staff/beats/RV-02/broadcast", data=alert, timeout=10),
            }
        for name, answer in answers.items():
            assert answer.status_code in (403, 404), (who, name, answer.status_code)
            assert answer.headers["Content-Type"].startswith("text/html") and '<html lang="es">' in answer.text
            assert "Hola" not in answer.text and "it will reach" not in answer.text
    assert broadcast_stack.broadcasts() == []


def test_an_officer_alerts_the_neighbourhood_watch_only(broadcast_stack):
    base = broadcast_stack.web_url
    broadcast_stack.follows("resident-demo-1")
    broadcast_stack.follows("resident-demo-2")
    watcher = broadcast_stack.as_person("resident", "resident-demo-2")
    joined = requests.post(
        f"{broadcast_stack.notifications_url}/me/subscriptions",
        json={"beat_code": "RV-02", "watch": True},
        headers=watcher,
        timeout=10,
    )
    assert joined.ok, joined.text
    with officer(base) as browser:
        form = browser.get(f"{base}/staff/beats/RV-02/broadcast", timeout=10)
        assert 'name="kind" value="watch"' in form.text and "The beat's neighbourhood watch only" in form.text
        alert = {"csrf_token": csrf(form.text), "kind": "watch", "title": "Watch walk moved", "body": "Thursday, 7pm."}
        preview = browser.post(f"{base}/staff/beats/RV-02/broadcast/preview", data=alert, timeout=10)
        assert preview.status_code == 200
        assert "Members of the neighbourhood watch of RV-02 it will reach: 1." in preview.text
        send = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', preview.text))
        assert send["kind"] == "watch"
        odd = browser.post(f"{base}/staff/beats/RV-02/broadcast/preview", data={**alert, "kind": "all"}, timeout=10)
        assert odd.status_code == 400 and odd.headers["Content-Type"].startswith("text/html")
        assert browser.post(f"{base}/staff/beats/RV-02/broadcast", data={**send, "kind": "all"}).status_code == 400
        sent = browser.post(f"{base}/staff/beats/RV-02/broadcast", data=send, timeout=10)
        assert "The alert was sent to the beat's subscribers." in sent.text
    [recorded] = broadcast_stack.broadcasts()
    assert recorded["topic"] == "neighbourhood_watch", recorded

    def inbox_of(headers: dict[str, str]) -> list[str]:
        answer = requests.get(f"{broadcast_stack.notifications_url}/inbox", headers=headers, timeout=10)
        return [item["title"] for item in answer.json()["contents"]]

    titles = wait_for(lambda: inbox_of(watcher), message="the watch message in the watcher's inbox")
    assert titles == ["Watch walk moved (RV-02)"]
    assert inbox_of(broadcast_stack.as_person("resident", "resident-demo-1")) == []  # a follower, not in the watch
