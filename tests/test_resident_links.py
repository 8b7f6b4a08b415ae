"""Links that land (issue 22): every link to Beat's site in a message notifications sends residents
(e-mail text and HTML, SMS, in-app), rendered in every language with the links the dispatcher makes,
opens a page of the web service, never a JSON path or its "page not found". The web service runs as
a real container with nothing behind it: a routed page then answers with its "cannot be reached"
page, an unrouted path with its 404 page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import requests

from beat_shared.testing import free_port
from notifications.dispatcher import confirm_url, manage_url, page_links
from notifications.domain import subscribers
from notifications.rendering import SAMPLE_CONTEXTS, Renderer, languages
from web.service import WebService

# Templates a resident (a reporter, a subscriber, someone without an account) receives.
RESIDENT_TEMPLATES = (
    "concern_acknowledged",
    "concern_status_changed",
    "concern_resolved",
    "concern_closed",
    "concern_merged",
    "meeting_announcement",
    "beat_alert",
    "subscriber_confirmation",
    "digest",
)
SECRET = "a-test-signing-secret"
LINK = re.compile(r"https?://[^\s\"'<>)]+")


@pytest.fixture
def web_url(container_factory, beat_config) -> str:
    port = free_port()
    nobody = f"http://127.0.0.1:{free_port()}"
    config = beat_config(
        "web",
        WEB_SERVER_ADDRESS=f"127.0.0.1:{port}",
        WEB_CONCERNS_URL=nobody,
        WEB_NOTIFICATIONS_URL=nobody,
        WEB_REFERRALS_URL=nobody,
        WEB_SURVEYS_URL=nobody,
        WEB_API_TIMEOUT="2",
    )
    container_factory(WebService, config).start()
    return f"http://127.0.0.1:{port}"


def resident_messages(portal: str) -> dict[str, str]:
    """Every part of every resident template in every language, with the dispatcher's links."""
    renderer = Renderer()
    subject = subscribers.subject_of(SECRET, "lena@example.org")
    manage = manage_url(portal, subscribers.manage_token(SECRET, subject))
    asked = datetime.now(UTC)
    confirm = confirm_url(portal, subscribers.confirmation_link_token(SECRET, subject, "RV-02", asked, False))
    messages = {}
    for template in RESIDENT_TEMPLATES:
        sample = SAMPLE_CONTEXTS[template]
        context = {**sample, **page_links(portal, sample, "reporter")}
        if "confirm_url" in context:
            context["confirm_url"] = confirm
        for language in languages():
            rendered = renderer.render(template, language, context)
            for part in ("text", "html", "sms"):
                messages[f"{template}/{language}/{part}"] = getattr(rendered, part)
    messages["footer/manage"] = manage  # the link under every mail to someone without an account
    return messages


def test_every_link_in_a_residents_message_opens_a_web_page(web_url):
    links = {
        (where, link.rstrip(".,;")) for where, text in resident_messages(web_url).items() for link in LINK.findall(text)
    }
    with_links = {where.split("/")[0] for where, _ in links}
    assert with_links >= {"concern_acknowledged", "concern_merged", "meeting_announcement", "footer"}
    elsewhere = {(where, link) for where, link in links if not link.startswith(web_url)}
    assert elsewhere == set(), "links that do not lead to Beat's site"
    landed = {}
    for link in sorted({link for _, link in links}):
        answer = requests.get(link, timeout=10)  # a manage link goes on to /alerts/manage at once
        landed[link.removeprefix(web_url)] = (answer.status_code, answer.headers.get("Content-Type", ""), answer.url)
    lost = {
        path: got
        for path, got in landed.items()
        if got[0] == 404 or not got[1].startswith("text/html") or not got[2].startswith(web_url)
    }
    assert lost == {}, "links that do not open a page of the web service"
