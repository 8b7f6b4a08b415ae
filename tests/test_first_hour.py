"""A city's first hour with Beat: started exactly as `make run` starts it, the whole story walked
as its people would walk it, asserting on what they would see.

`beat migrate`, `beat seed-demo` and `beat run` run as processes in a fresh working directory, so
every database is the embedded default (SQLite files under `var/`) and every setting is the
default, except what keeps this run apart from others on the machine: a throw-away RabbitMQ vhost
and free ports (with the public URLs that follow from them). Mail is read where a person reads it
under `make run`: the local mail catcher that `beat run` starts in development.

The story: a resident voices a concern (native API, and a second through Open311) → the beat's
officer acknowledges, adds a note and resolves it → the resident's mail arrives → the officer asks
for a referral with the resident's consent → the agency receives it on its own AMQP queue and
accepts and completes it through the API → the resident answers the post-contact survey → the
report card and the dashboard count it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
from kombu import Connection, Queue

from beat_shared.config import SERVICE_NAMES
from beat_shared.dev_mail import caught_mail
from beat_shared.testing import BeatRun, beat_running, isolated_addresses, wait_for

SETTING_PREFIXES = {"BEAT", "CONCERNS", "REFERRALS", "NOTIFICATIONS", "SURVEYS", "WEB"}
RESIDENT_EMAIL = "dana.first-hour@example.org"
NEIGHBOUR_EMAIL = "lee.first-hour@example.org"
IN_RV01 = {"lat": 43.045, "long": -108.405}  # inside beat RV-01 of the demo city
OFFICER_RV01 = "officer-rv01"


@pytest.fixture
def beat(rabbit_config: dict[str, Any], tmp_path: Path) -> Iterator[BeatRun]:
    """The machine's environment less every Beat setting, plus what keeps this run apart."""
    urls, isolation = isolated_addresses((*SERVICE_NAMES, "web"))
    environ = {key: value for key, value in os.environ.items() if key.split("_", 1)[0] not in SETTING_PREFIXES}
    environ.update(isolation, AMQP_URI=rabbit_config["AMQP_URI"])
    with beat_running(tmp_path, environ, urls) as running:
        yield running
    assert (tmp_path / "var" / "concerns.db").exists()  # the embedded default, not a server


def bearer(beat: BeatRun, role: str, subject: str, *extra: str) -> dict[str, str]:
    """A development token as a person gets one: `beat token`."""
    token = beat.cli("token", "--role", role, "--subject", subject, *extra).strip()
    return {"Authorization": f"Bearer {token}"}


# --- what a person sees -------------------------------------------------------------------------


def mails_to(beat: BeatRun, address: str) -> list[EmailMessage]:
    """The mail that reached the local mail catcher for this address, oldest first."""
    caught = caught_mail(beat.workdir / "var" / "mail", limit=1000)
    return [mail.message for mail in reversed(caught) if address in str(mail.message["To"])]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s<>\"')]+", text)


def call(method: str, url: str, expect: int = 200, **kwargs: Any) -> Any:
    response = requests.request(method, url, timeout=15, **kwargs)
    assert response.status_code == expect, f"{method} {url}: {response.status_code} {response.text[:500]}"
    return response.json() if response.content and "json" in response.headers.get("Content-Type", "") else response


def current_period() -> str:
    today = datetime.now(UTC)
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


# --- the story ----------------------------------------------------------------------------------


def test_the_first_hour_on_the_embedded_default(beat: BeatRun) -> None:
    officer = bearer(beat, "officer", OFFICER_RV01)

    # A resident voices a concern through Beat's own API ...
    voiced = call(
        "POST",
        beat.url("concerns", "/concerns"),
        201,
        json={
            "category": "noise",
            "description": "Loud music from the old mill car park every night after midnight.",
            "location": IN_RV01,
            "contact": {"name": "Dana", "email": RESIDENT_EMAIL, "preference": "email"},
        },
    )
    concern_id = voiced["concern"]["id"]
    assert voiced["receipt_token"]
    assert "911" in voiced["service_notice"]
    # ... and a neighbour through a city 311 app speaking Open311.
    [open311] = call(
        "POST",
        beat.url("concerns", "/open311/v2/requests.json"),
        200,
        data={
            "api_key": "open311-development-key",
            "service_code": "noise",
            "lat": str(IN_RV01["lat"]),
            "long": str(IN_RV01["long"]),
            "description": "Music again at the old mill, 1am.",
            "email": NEIGHBOUR_EMAIL,
        },
    )
    assert open311.get("service_request_id") or open311.get("token")

    # The beat's officer sees it in the queue, acknowledges, notes and resolves it.
    queue = call("GET", beat.url("concerns", "/concerns?beat=RV-01"), headers=officer)
    assert concern_id in [item["id"] for item in queue["contents"]]
    acknowledgement = "Thank you: we will visit the car park on Friday night."
    resolution = "We spoke with the organisers; the music now stops at 11pm."
    move(beat, officer, concern_id, "acknowledged", acknowledgement)
    move(beat, officer, concern_id, "resolved", resolution)

    # The resident's mail arrives, says what happened, and its link opens something readable.
    def resolved_mail() -> list[EmailMessage]:
        return [m for m in mails_to(beat, RESIDENT_EMAIL) if resolution in text_of(m)]

    wait_for(resolved_mail, timeout=60, message="the resolution mail in the local catcher")
    texts = [text_of(message) for message in mails_to(beat, RESIDENT_EMAIL)]
    assert any(acknowledgement in text for text in texts), texts
    for link in {link for text in texts for link in links_in(text) if "/respond" not in link}:
        opened = requests.get(link, timeout=15)
        assert opened.status_code == 200, f"{link} answered {opened.status_code}"
    # The concern's link opens its page on the web pages, with the officer's notes, no token needed.
    [page] = {link for text in texts for link in links_in(text) if link.endswith(f"/concerns/{concern_id}")}
    assert page.startswith(beat.urls["web"])
    shown = requests.get(page, timeout=15).text
    assert resolution in shown and acknowledgement in shown
    # The development outbox page shows the same mail, readable in full.
    outbox = call("GET", beat.url("notifications", "/dev/outbox"))
    assert RESIDENT_EMAIL in outbox.text and resolution in outbox.text

    # The officer asks for a referral with the resident's consent.
    now = datetime.now(UTC)
    call(
        "POST",
        beat.url("concerns", "/referral-requests"),
        201,
        headers=officer,
        json={
            "concern_id": concern_id,
            "beat_code": "RV-01",
            "need_category": "food",
            "urgency": "soon",
            "client": {"name": "Dana", "email": RESIDENT_EMAIL},
            "consent": {
                "given_by": "Dana",
                "given_at": (now - timedelta(minutes=5)).isoformat(),
                "method": "verbal",
                "scope": "share contact details with a food provider for emergency food",
                "valid_until": (now + timedelta(days=90)).isoformat(),
            },
        },
    )

    def drafted() -> list[dict[str, Any]]:
        listed = call("GET", beat.url("referrals", "/referrals"), headers=officer)
        return [r for r in listed["contents"] if r["status"] == "draft" and r["concern_id"] == concern_id]

    [referral] = wait_for(drafted, timeout=60, message="the referral drafted for the best-matched agency")
    agency_id = referral["agency_id"]
    assert agency_id

    # The agency has its own queue; the officer sends; the agency hears of it there.
    credentials = provision(beat, agency_id)
    call("GET", beat.url("referrals", f"/referrals/{referral['id']}"), headers=officer)
    call("POST", beat.url("referrals", f"/referrals/{referral['id']}/send"), headers=officer)
    heard = wait_for(lambda: agency_messages(credentials), timeout=60, message="the agency's queue")
    assert "beat.referral.sent" in [event["type"] for event in heard]
    assert all(event["data"]["referral_id"] == referral["id"] for event in heard)
    assert "Dana" not in json.dumps(heard) and RESIDENT_EMAIL not in json.dumps(heard)  # no personal data

    # The agency accepts and completes it through the API; the officer sees the outcome.
    agency = bearer(beat, "agency", "intake-staff", "--agency-id", agency_id)
    details = call("GET", beat.url("referrals", f"/referrals/{referral['id']}"), headers=agency)
    assert details["client"]["name"] == "Dana"  # consent given: the agency may see who to contact
    call("POST", beat.url("referrals", f"/referrals/{referral['id']}/accept"), headers=agency)
    call(
        "POST",
        beat.url("referrals", f"/referrals/{referral['id']}/outcome"),
        headers=agency,
        json={"outcome": "got_help", "note": "Food parcel collected on Tuesday."},
    )
    seen = call("GET", beat.url("referrals", f"/referrals/{referral['id']}"), headers=officer)
    assert (seen["status"], seen["outcome"]) == ("completed", "got_help")

    # The resident answers the post-contact survey from the link in their mail.
    def invitation() -> list[str]:
        return [link for m in mails_to(beat, RESIDENT_EMAIL) for link in links_in(text_of(m)) if "/respond#" in link]

    [link] = wait_for(invitation, timeout=60, message="the post-contact survey invitation")
    assert link.startswith(beat.url("surveys", "/respond#"))
    assert requests.get(link.split("#", 1)[0], timeout=15).status_code == 200  # the form a person opens
    token = link.split("#", 1)[1]
    survey = call("POST", beat.url("surveys", "/invitations/survey"), json={"token": token})
    answered_before = post_contact_respondents(beat)
    answers = {question["item_code"]: first_choice(question) for question in survey["questions"]}
    call("POST", beat.url("surveys", "/responses"), 201, json={"token": token, "answers": answers})

    # The report card counts the concern; the dashboard's post-contact figures count the answer.
    def counted() -> dict[str, Any] | None:
        card = call("GET", beat.url("surveys", f"/report-cards/RV-01?period={current_period()}"))
        return card if card["actions"]["concerns_resolved"] >= 1 else None

    card = wait_for(counted, timeout=60, message="the report card counting the resolved concern")
    assert card["actions"]["concerns_received"] >= 2
    wait_for(
        lambda: post_contact_respondents(beat) == answered_before + 1,
        timeout=60,
        message="the dashboard's post-contact figures counting the answer",
    )
    assert call("GET", beat.url("surveys", "/dashboard")).status_code == 200


def post_contact_respondents(beat: BeatRun) -> int:
    """What the dashboard shows for RV-01 this quarter: respondents of the post-contact survey."""
    results = call(
        "GET",
        beat.url("surveys", f"/results?survey=post-contact&period={current_period()}&group=RV-01&per_page=500"),
    )
    assert current_period() in results["periods"] and results["current_period"] == current_period()
    return max((cell["n"] or 0 for cell in results["contents"]), default=0)


def move(beat: BeatRun, officer: dict[str, str], concern_id: str, status: str, note: str) -> None:
    concern = call("GET", beat.url("concerns", f"/concerns/{concern_id}"), headers=officer)
    call(
        "POST",
        beat.url("concerns", f"/concerns/{concern_id}/transitions"),
        headers=officer,
        json={"status": status, "version": concern["version"], "public_note": note},
    )


def provision(beat: BeatRun, agency_id: str) -> dict[str, str]:
    """`beat agency provision` as city IT runs it; its printed credentials as the agency keeps them."""
    printed = beat.cli("agency", "provision", agency_id)
    fields = dict(line.split(":", 1) for line in printed.splitlines() if ":" in line)
    return {"queue": fields["queue"].split()[0], "amqp_uri": fields["uri"].strip()}


def agency_messages(credentials: dict[str, str]) -> list[dict[str, Any]]:
    """Every event waiting on the agency's queue, read with the agency's own credentials."""
    events: list[dict[str, Any]] = []
    with Connection(credentials["amqp_uri"], connect_timeout=5) as connection:
        queue = Queue(credentials["queue"], no_declare=True)
        with connection.SimpleQueue(queue) as simple:
            while True:
                try:
                    message = simple.get(timeout=1)
                except simple.Empty:
                    return events
                events.append(json.loads(message.body))
                message.ack()


def first_choice(question: dict[str, Any]) -> Any:
    """The answer a satisfied resident gives: the first option, or a short text."""
    if question["options"]:
        value = question["options"][0]["value"]
        return [value] if question["type"] == "multiple_choice" else value
    return {"likert_5": 5, "scale_0_10": 10, "numeric": 1}.get(question["type"], "Thank you for listening.")
