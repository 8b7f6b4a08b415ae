"""Issue 21, points 10 and 13, across real services: the acknowledgement, progress and resolution
mails quote the officer's public note of their step, their link opens a page a resident can read
without any token (the web service's public concern page), and a meeting's time carries its zone.

concerns, notifications and web run as real containers on one throw-away vhost, each service on
the test's database backend, with the real SMTP sink."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests

from beat_shared.auth import mint_token
from beat_shared.config import env
from beat_shared.db import make_engine, unit_of_work
from beat_shared.migrations import upgrade
from beat_shared.outbox import Outbox
from beat_shared.testing import free_port, html_part, text_part, wait_for
from concerns.demo import seed_reference
from concerns.service import ConcernsService
from notifications.service import NotificationsService
from web.service import WebService

OFFICER = {"Authorization": f"Bearer {mint_token('officer', 'officer-rv01', env('BEAT_JWT_SECRET'))}"}
RESIDENT = "dana.resident@example.org"


@pytest.fixture
def city(database, container_factory, beat_config, smtp_sink):
    concerns_db, notifications_db = database("concerns"), database("notifications")
    upgrade("concerns", concerns_db)
    upgrade("notifications", notifications_db)
    engine = make_engine(concerns_db, pool_size=1)
    with unit_of_work(engine) as session:
        seed_reference(session, datetime.now().astimezone())
    engine.dispose()
    ports = {name: free_port() for name in ("concerns", "notifications", "web")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    concerns = container_factory(
        ConcernsService,
        beat_config("concerns", CONCERNS_DATABASE_URL=concerns_db, WEB_SERVER_ADDRESS=f"127.0.0.1:{ports['concerns']}"),
    )
    notifications = container_factory(
        NotificationsService,
        beat_config(
            "notifications",
            NOTIFICATIONS_DATABASE_URL=notifications_db,
            WEB_SERVER_ADDRESS=f"127.0.0.1:{ports['notifications']}",
            NOTIFICATIONS_SMTP_HOST="127.0.0.1",
            NOTIFICATIONS_SMTP_PORT=str(smtp_sink.port),
            NOTIFICATIONS_DISPATCH_SECONDS="0.2",
            NOTIFICATIONS_PORTAL_URL=urls["web"],
        ),
    )
    web = container_factory(
        WebService,
        beat_config(
            "web",
            WEB_SERVER_ADDRESS=f"127.0.0.1:{ports['web']}",
            WEB_CONCERNS_URL=urls["concerns"],
            WEB_SURVEYS_URL=f"http://127.0.0.1:{free_port()}",  # not part of this test
        ),
    )
    for container in (concerns, notifications, web):
        container.start()
    yield urls
    for container in (concerns, notifications):
        for dependency in container.dependencies:
            if isinstance(dependency, Outbox):
                dependency.relay.stop()


def mails(smtp_sink, subject_part: str) -> list:
    return [m for m in smtp_sink.mailbox() if RESIDENT in m["To"] and subject_part in m["Subject"]]


def step(urls, concern_id: str, path: str, body: dict) -> None:
    version = requests.get(f"{urls['concerns']}/concerns/{concern_id}", headers=OFFICER, timeout=10).json()["version"]
    answer = requests.post(
        f"{urls['concerns']}/concerns/{concern_id}/{path}",
        json={**body, "version": version},
        headers=OFFICER,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def test_each_mail_quotes_its_steps_note_and_links_a_page_readable_without_a_token(city, smtp_sink):
    submitted = requests.post(
        f"{city['concerns']}/concerns",
        json={
            "category": "noise",
            "description": "Loud music from the old mill car park every night after midnight.",
            "location": {"lat": 43.045, "long": -108.405},
            "contact": {"name": "Dana", "email": RESIDENT, "preference": "email"},
        },
        timeout=10,
    )
    assert submitted.status_code == 201, submitted.text
    concern_id = submitted.json()["concern"]["id"]

    step(city, concern_id, "transitions", {"status": "acknowledged", "public_note": "We will visit on Friday night."})
    [acknowledged] = wait_for(lambda: mails(smtp_sink, "acknowledged"), timeout=30, message="acknowledgement")
    assert "The officer wrote: “We will visit on Friday night.”" in text_part(acknowledged)
    assert "We will visit on Friday night." in html_part(acknowledged)

    step(city, concern_id, "notes", {"public_note": "Visited at 23:40: the music had stopped."})
    [noted] = wait_for(lambda: mails(smtp_sink, "News about your concern"), timeout=30, message="note mail")
    assert "Visited at 23:40: the music had stopped." in text_part(noted)
    assert "We will visit on Friday" not in text_part(noted)  # each mail quotes its own step's note

    step(city, concern_id, "transitions", {"status": "in_progress", "public_note": "Talking to the organisers."})
    [progress] = wait_for(lambda: mails(smtp_sink, "is now being worked on"), timeout=30, message="progress mail")
    assert "Talking to the organisers." in text_part(progress)
    step(city, concern_id, "transitions", {"status": "resolved", "public_note": "The music now stops at 11pm."})
    [resolved] = wait_for(lambda: mails(smtp_sink, "resolved"), timeout=30, message="resolution mail")
    assert "The music now stops at 11pm." in text_part(resolved)

    # The link opens the public page of the concern, with no bearer or receipt token.
    link = next(word for word in text_part(resolved).split() if word.startswith(city["web"]))
    assert link == f"{city['web']}/concerns/{concern_id}"
    page = requests.get(link, timeout=10)
    assert page.status_code == 200, page.text
    assert "text/html" in page.headers["Content-Type"] and "The music now stops at 11pm." in page.text
    assert RESIDENT not in page.text


def test_a_meeting_announcement_names_the_time_zone_of_its_time(city, smtp_sink):
    resident = {"Authorization": f"Bearer {mint_token('resident', 'resident-dana', env('BEAT_JWT_SECRET'))}"}
    contact = {"email": RESIDENT, "language": "en", "timezone": "America/Chicago"}
    assert requests.put(f"{city['notifications']}/me/contact", json=contact, headers=resident, timeout=10).ok
    subscribed = requests.post(
        f"{city['notifications']}/me/subscriptions", json={"beat_code": "RV-01"}, headers=resident, timeout=10
    )
    assert subscribed.status_code == 201, subscribed.text
    meeting = {
        "kind": "community_meeting",
        "title": "North beat meeting",
        "venue": "Riverton Library",
        "starts_at": "2026-12-08T18:30:00-06:00",
        "ends_at": "2026-12-08T20:00:00-06:00",
    }
    made = requests.post(f"{city['concerns']}/beats/RV-01/meetings", json=meeting, headers=OFFICER, timeout=10)
    assert made.status_code == 201, made.text
    assert made.json()["starts_at"] == "2026-12-09T00:30:00Z"  # the API: UTC with its offset
    [announcement] = wait_for(lambda: mails(smtp_sink, "North beat meeting"), timeout=30, message="announcement")
    assert "Tue 8 Dec 2026, 18:30 CST" in announcement["Subject"]
    assert "When: Tue 8 Dec 2026, 18:30 CST to Tue 8 Dec 2026, 20:00 CST" in text_part(announcement)
    meeting_page = f"{city['web']}/meetings/{made.json()['id']}"  # the mail's link opens the meeting's page
    assert f"More about it: {meeting_page}" in text_part(announcement)
    opened = requests.get(meeting_page, timeout=10)
    assert opened.status_code == 200 and "North beat meeting" in opened.text

    def inbox_items():
        return requests.get(f"{city['notifications']}/inbox", headers=resident, timeout=10).json()["contents"]

    [item] = wait_for(inbox_items, timeout=30, message="the announcement in the inbox")
    assert "Tue 8 Dec 2026, 18:30 CST" in item["title"] and "18:30 CST" in item["body"]


def test_mail_links_point_at_the_pages_by_default():
    """Out of the box the links open the web service's public page, not the concerns API (where
    /concerns/{id} needs a bearer or receipt token a mail cannot carry)."""
    from beat_shared.config import DEFAULT_PORTS, SETTINGS

    assert SETTINGS["NOTIFICATIONS_PORTAL_URL"].default == f"http://localhost:{DEFAULT_PORTS['web']}"
