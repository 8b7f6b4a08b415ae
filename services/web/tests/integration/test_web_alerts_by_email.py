"""A beat's alerts by e-mail without an account: asked for on /alerts, confirmed from the mail's
link (a button, then the alerts start), managed and stopped from the link in every alert. Real
concerns, notifications (sending to a real SMTP sink) and web containers on the test's backend."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import pytest
import requests
from web_testkit import csrf, staff_headers

from beat_shared.db import make_engine
from beat_shared.migrations import upgrade
from beat_shared.outbox import Outbox
from beat_shared.testing import free_port, text_part, wait_for
from notifications.service import NotificationsService


@dataclass(frozen=True)
class MailStack:
    web_url: str
    notifications_url: str


@pytest.fixture
def mail_stack(request, start_stack, database, container_factory, beat_config, smtp_sink) -> MailStack:
    """concerns and web (start_stack), and notifications mailing the SMTP sink with links to this web
    (a test's indirect parameter: more of notifications' settings)."""
    notifications_port = free_port()
    notifications_url = f"http://127.0.0.1:{notifications_port}"
    stack = start_stack(
        concerns={"CONCERNS_RATE_PER_ADDRESS": "1000/3600"}, web={"WEB_NOTIFICATIONS_URL": notifications_url}
    )
    url = database("notifications")
    upgrade("notifications", url)
    make_engine(url, pool_size=1).dispose()
    config = beat_config(
        "notifications",
        NOTIFICATIONS_DATABASE_URL=url,
        WEB_SERVER_ADDRESS=f"127.0.0.1:{notifications_port}",
        NOTIFICATIONS_SMTP_PORT=str(smtp_sink.port),
        NOTIFICATIONS_SMTP_HOST="127.0.0.1",
        NOTIFICATIONS_DISPATCH_SECONDS="0.3",
        NOTIFICATIONS_PORTAL_URL=stack.web_url,
        **getattr(request, "param", {}),
    )
    container = container_factory(NotificationsService, config)
    container.start()
    yield MailStack(stack.web_url, notifications_url)
    for relay in (d.relay for d in container.dependencies if isinstance(d, Outbox)):
        relay.stop()


def mail_link(smtp_sink, web_url: str, path: str) -> str:
    """The link to `path` in a mail the sink received (waiting for one; the sink keeps no order)."""

    def found() -> str | None:
        links = (re.search(rf"{re.escape(web_url)}{path}/[A-Za-z0-9_.-]+", text_part(m)) for m in smtp_sink.mailbox())
        return next((link[0] for link in links if link), None)

    return wait_for(found, timeout=20, message=f"a mail with a link to {path}")


def ask(browser: requests.Session, base: str, **fields: str) -> requests.Response:
    page = browser.get(base + "/alerts?beat=RV-02", timeout=10).text
    data = {"csrf_token": csrf(page), "beat_code": "RV-02", "email": "lena@example.org", "language": "es", **fields}
    return browser.post(base + "/alerts/email", data=data, allow_redirects=False, timeout=15)


def broadcast(notifications_url: str) -> int:
    body = {"kind": "alert", "title": "Car break-ins on Elm St", "body": "Lock your car."}
    answer = requests.post(f"{notifications_url}/broadcasts/RV-02", json=body, headers=staff_headers(), timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["subscribers"]


def test_someone_without_an_account_follows_a_beat_from_the_mail_and_manages_it(mail_stack, smtp_sink, caplog):
    base = mail_stack.web_url
    with requests.Session() as browser:
        page = browser.get(base + "/alerts?beat=RV-02", timeout=10)
        assert page.status_code == 200 and 'action="/alerts/email"' in page.text
        assert '<option value="RV-02" selected>' in page.text  # preset by the beat page's link
        asked = ask(browser, base)
        assert asked.status_code == 303 and asked.headers["Location"] == "/alerts"
        assert "Check your e-mail" in browser.get(base + "/alerts", timeout=10).text
        confirm_link = mail_link(smtp_sink, base, "/alerts/confirm")
        assert smtp_sink.mailbox()[0]["Subject"] == "Confirme sus alertas del sector RV-02"

        with caplog.at_level(logging.INFO, logger="nameko.web.server"):
            button = browser.get(confirm_link, timeout=10)
        assert button.status_code == 200 and "Confirm and start the alerts" in button.text
        assert broadcast(mail_stack.notifications_url) == 0  # opening the link confirmed nothing
        token = re.search(r'name="token" value="([^"]+)"', button.text)[1]
        confirmed = browser.post(
            base + "/alerts/confirm", data={"csrf_token": csrf(button.text), "token": token}, timeout=10
        )
        assert confirmed.status_code == 200 and "your alerts have started" in confirmed.text
        assert "Beat RV-02" in confirmed.text and "Stop alerts from RV-02" in confirmed.text
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/alerts/confirm/[redacted]" in logged and token not in logged

    assert broadcast(mail_stack.notifications_url) == 1
    alert = wait_for(lambda: [m for m in smtp_sink.mailbox() if m["Subject"] == "Car break-ins on Elm St (RV-02)"])
    assert alert[0]["To"] == "lena@example.org"
    manage_link = mail_link(smtp_sink, base, "/alerts/manage")  # in the alert
    with requests.Session() as later:  # another browser, from the alert's link
        opened = later.get(manage_link, allow_redirects=False, timeout=10)
        assert opened.status_code == 303 and opened.headers["Location"] == "/alerts/manage"
        manage = later.get(base + "/alerts/manage", timeout=10)
        assert "Stop alerts from RV-02" in manage.text and 'value="es" checked' in manage.text
        english = later.post(
            base + "/alerts/manage/language", data={"csrf_token": csrf(manage.text), "language": "en"}, timeout=10
        )
        assert "The language of your messages was saved." in english.text and 'value="en" checked' in english.text
        stopped = later.post(base + "/alerts/manage/stop/RV-02", data={"csrf_token": csrf(manage.text)}, timeout=10)
        assert "You will get no more alerts from that beat." in stopped.text and "None yet." in stopped.text
        assert broadcast(mail_stack.notifications_url) == 0
        forgotten = later.post(base + "/alerts/manage/forget", data={"csrf_token": csrf(manage.text)}, timeout=10)
        assert "it has been forgotten" in forgotten.text
    with requests.Session() as again:
        gone = again.get(manage_link, timeout=10)  # the link of a forgotten address
        assert gone.status_code == 200 and "That link no longer works" in gone.text


def test_what_is_refused_comes_back_beside_its_field_or_as_a_page(mail_stack, smtp_sink):
    base = mail_stack.web_url
    with requests.Session() as browser:
        empty = ask(browser, base, email="")
        assert empty.status_code == 400 and 'id="email-error"' in empty.text and "This is required." in empty.text
        wrong = ask(browser, base, email="not-an-address")
        assert wrong.status_code == 400 and 'id="email-error"' in wrong.text and 'value="not-an-address"' in wrong.text
        unknown = ask(browser, base, beat_code="ZZ-99")
        assert unknown.status_code == 400 and 'id="beat_code-error"' in unknown.text
        page = browser.get(base + "/alerts/confirm/forged.not-a-token", timeout=10)
        forged = browser.post(
            base + "/alerts/confirm", data={"csrf_token": csrf(page.text), "token": "forged.not-a-token"}, timeout=10
        )
        assert forged.status_code == 400 and "This link has expired" in forged.text
        no_form_token = browser.post(base + "/alerts/email", data={"email": "lena@example.org"}, timeout=10)
        assert no_form_token.status_code == 403
        assert browser.get(base + "/alerts/manage", allow_redirects=False, timeout=10).headers["Location"] == "/alerts"
    assert smtp_sink.mailbox() == []  # nothing was asked for: no mail


@pytest.mark.parametrize("mail_stack", [{"NOTIFICATIONS_SUBSCRIBE_RATE_PER_ADDRESS": "1/3600"}], indirect=True)
def test_asking_too_often_is_a_clear_page_and_mails_nobody(mail_stack, smtp_sink):
    """notifications counts asks per client address (here web's own: it does not trust web as a proxy)."""
    base = mail_stack.web_url
    with requests.Session() as browser:
        assert ask(browser, base).status_code == 303
        mail_link(smtp_sink, base, "/alerts/confirm")  # the first ask's confirmation
        browser.headers["Accept-Language"] = "es"
        again = ask(browser, base, email="ben@example.org")
        assert again.status_code == 429
        assert "Demasiadas solicitudes" in again.text and "Espere un poco e inténtelo de nuevo." in again.text
    assert [mail["To"] for mail in smtp_sink.mailbox()] == ["lena@example.org"]


def test_someone_without_an_account_joins_the_neighbourhood_watch_from_the_mail(mail_stack, smtp_sink):
    base = mail_stack.web_url
    with requests.Session() as browser:
        assert ask(browser, base, watch="yes", language="en").status_code == 303
        confirm_link = mail_link(smtp_sink, base, "/alerts/confirm")
        assert "neighbourhood watch" in text_part(smtp_sink.mailbox()[0])
        button = browser.get(confirm_link, timeout=10)
        token = re.search(r'name="token" value="([^"]+)"', button.text)[1]
        managed = browser.post(
            base + "/alerts/confirm", data={"csrf_token": csrf(button.text), "token": token}, timeout=10
        )
        assert "Stop alerts from RV-02" in managed.text and "In its neighbourhood watch" in managed.text


def test_the_pages_speak_spanish(mail_stack):
    with requests.Session() as browser:
        page = browser.get(mail_stack.web_url + "/alerts", headers={"Accept-Language": "es"}, timeout=10)
        assert "Por correo electrónico, sin cuenta" in page.text and "Envíenme el enlace" in page.text
        button = browser.get(mail_stack.web_url + "/alerts/confirm/x.y", headers={"Accept-Language": "es"}, timeout=10)
        assert "Confirmar y empezar a recibir las alertas" in button.text
