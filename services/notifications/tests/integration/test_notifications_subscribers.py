"""Following a beat by e-mail without an account: a confirmation mail (double opt-in), the alerts
once confirmed, and managing or stopping them with the token of the link in every mail; the beat's
neighbourhood watch, joined signed in or from the mail, and its meetings."""

import re

import pytest
from nameko.testing.services import entrypoint_hook

from beat_shared.contracts import new_event
from notifications.models import Message, Notification, Recipient, Subscription

HEADER = "X-Subscriber-Token"


@pytest.fixture
def officer_rv01(stand_ins):
    officer = {"subject": "officer-rv01", "name": "Officer Delgado", "email": None, "phone": None}
    stand_ins.concerns.beats["RV-01"] = {"officers": [officer], "supervisors": []}


def ask(web_session, email="lena@example.org", beat="RV-01", language="en", watch=False):
    body = {"email": email, "beat_code": beat, "language": language, "watch": watch}
    return web_session.post("/subscribers", json=body)


def alert(web_session, kit, beat="RV-01"):
    body = {"kind": "alert", "title": "Car break-ins on Elm St", "body": "Lock your car."}
    answer = web_session.post(f"/broadcasts/{beat}", json=body, headers=kit.token("officer", "officer-rv01"))
    assert answer.status_code == 201, answer.text
    return answer.json()


def link_token(mail, path):
    """The token of the link to `path` in a mail's text."""
    return re.search(rf"http://localhost:8000{path}/([A-Za-z0-9_.-]+)", mail.get_body(("plain",)).get_content())[1]


@pytest.mark.usefixtures("officer_rv01")
def test_an_address_confirmed_from_its_mail_gets_the_beats_alerts_and_manages_them(
    service, smtp_sink, notifications_db, kit, web_session
):
    asked = ask(web_session, language="es")
    assert asked.status_code == 202 and asked.json() == {"status": "confirmation_sent"}
    assert alert(web_session, kit)["subscribers"] == 0  # not before the address confirms
    kit.dispatch(service)
    [confirmation] = smtp_sink.mailbox()
    assert (
        confirmation["To"] == "lena@example.org" and confirmation["Subject"] == "Confirme sus alertas del sector RV-01"
    )
    assert "Gestionar" not in confirmation.get_body(("plain",)).get_content()  # no manage link before confirming
    confirm = link_token(confirmation, "/alerts/confirm")

    confirmed = web_session.post("/subscribers/confirm", json={"token": confirm})
    assert confirmed.status_code == 200 and confirmed.json()["beat_code"] == "RV-01"
    manage = confirmed.json()["manage_token"]
    assert web_session.post("/subscribers/confirm", json={"token": confirm}).status_code == 200  # twice is fine
    assert web_session.get("/subscribers/me", headers={HEADER: manage}).json() == {
        "language": "es",
        "beat_codes": ["RV-01"],
        "watch_beat_codes": [],
    }

    assert alert(web_session, kit)["subscribers"] == 1
    kit.dispatch(service)
    mails = smtp_sink.mailbox()  # the sink keeps no order: find the alert by its subject
    [alert_mail] = [m for m in mails if m["Subject"] == "Car break-ins on Elm St (RV-01)"]
    assert len(mails) == 2
    assert link_token(alert_mail, "/alerts/manage") == manage  # every alert mail carries the manage link
    assert {m.channel for m in kit.rows(notifications_db, Message)} == {"email"}  # no inbox without an account

    english = web_session.put("/subscribers/me/language", json={"language": "en"}, headers={HEADER: manage})
    assert english.json()["language"] == "en"
    stopped = web_session.delete("/subscribers/me/beats/RV-01", headers={HEADER: manage})
    assert stopped.status_code == 200 and stopped.json()["beat_codes"] == []
    assert alert(web_session, kit)["subscribers"] == 0
    again = web_session.delete("/subscribers/me/beats/RV-01", headers={HEADER: manage})  # stopped already: fine
    assert again.status_code == 200 and again.json()["beat_codes"] == []


@pytest.mark.usefixtures("officer_rv01")
def test_asking_again_sends_one_confirmation_a_day_and_nothing_once_confirmed(
    service, smtp_sink, notifications_db, kit, web_session
):
    assert ask(web_session).status_code == 202
    assert ask(web_session, email="  LENA@example.org ").status_code == 202  # the same address
    kit.dispatch(service)
    [confirmation] = smtp_sink.mailbox()
    [entry] = kit.rows(notifications_db, Recipient)
    assert entry.subject.startswith("email:") and "lena" not in entry.subject  # the subject names no address
    web_session.post("/subscribers/confirm", json={"token": link_token(confirmation, "/alerts/confirm")})
    assert ask(web_session, language="es").status_code == 202  # same answer: it tells nobody who follows
    kit.dispatch(service)
    assert len(smtp_sink.mailbox()) == 1
    assert kit.rows(notifications_db, Recipient)[0].language == "en"  # a stranger cannot change it


def test_bad_requests_are_refused_with_their_field(service, web_session):
    assert ask(web_session, email="not-an-address").json()["error"]["details"] == {
        "email": ["not a valid email address"]
    }
    unknown = ask(web_session, beat="ZZ-99")
    assert unknown.status_code == 400 and "beat_code" in unknown.json()["error"]["details"]
    assert web_session.post("/subscribers/confirm", json={"token": "forged.forged-token"}).status_code == 400
    assert web_session.get("/subscribers/me").status_code == 401  # no token: nothing to manage
    assert web_session.get("/subscribers/me", headers={HEADER: "forged.forged-token"}).status_code == 400


@pytest.mark.usefixtures("officer_rv01")
def test_one_kind_of_link_cannot_stand_for_another(service, smtp_sink, kit, web_session):
    ask(web_session)
    kit.dispatch(service)
    confirm = link_token(smtp_sink.mailbox()[0], "/alerts/confirm")
    assert web_session.get("/subscribers/me", headers={HEADER: confirm}).status_code == 400
    manage = web_session.post("/subscribers/confirm", json={"token": confirm}).json()["manage_token"]
    assert web_session.post("/subscribers/confirm", json={"token": manage}).status_code == 400


@pytest.mark.usefixtures("officer_rv01")
def test_an_unconfirmed_address_is_forgotten_after_a_week_and_its_link_then_fails(
    service, smtp_sink, clock, notifications_db, kit, web_session
):
    ask(web_session)
    kit.dispatch(service)
    confirm = link_token(smtp_sink.mailbox()[0], "/alerts/confirm")
    clock.advance(days=8)
    with entrypoint_hook(service, "forget_unconfirmed_subscribers") as forget:
        assert forget() == 1
    assert kit.rows(notifications_db, Subscription) == [] and kit.rows(notifications_db, Recipient) == []
    expired = web_session.post("/subscribers/confirm", json={"token": confirm})
    assert expired.status_code == 400 and "expired" in expired.text


@pytest.mark.usefixtures("officer_rv01")
def test_stopping_everything_forgets_the_address(service, smtp_sink, notifications_db, kit, web_session):
    ask(web_session)
    kit.dispatch(service)
    confirm = link_token(smtp_sink.mailbox()[0], "/alerts/confirm")
    manage = web_session.post("/subscribers/confirm", json={"token": confirm}).json()["manage_token"]
    assert web_session.delete("/subscribers/me", headers={HEADER: manage}).status_code == 204
    assert kit.rows(notifications_db, Recipient) == [] and kit.rows(notifications_db, Subscription) == []
    assert web_session.get("/subscribers/me", headers={HEADER: manage}).status_code == 404
    assert alert(web_session, kit)["subscribers"] == 0


def meeting(kind: str, meeting_id: str):
    when = "2026-03-05T18:00:00Z"
    data = {
        "meeting_id": meeting_id,
        "beat_code": "RV-01",
        "kind": kind,
        "title": "Elm Street watch walk" if kind == "neighbourhood_watch" else "Beat meeting",
        "starts_at": when,
        "ends_at": "2026-03-05T19:00:00Z",
        "occurred_at": when,
        "venue": "Elm Street corner",
    }
    return new_event("beat.meeting.scheduled", meeting_id, data)


@pytest.mark.usefixtures("officer_rv01")
def test_the_watchs_meetings_and_messages_reach_the_beats_neighbourhood_watch_only(
    service, smtp_sink, notifications_db, kit, web_session, rabbit_config
):
    watcher, neighbour = kit.token("resident", "resident-1"), kit.token("resident", "resident-2")
    for headers, email, watch in ((watcher, "ana@example.org", True), (neighbour, "ben@example.org", None)):
        assert web_session.put("/me/contact", json={"email": email}, headers=headers).status_code == 200
        body = {"beat_code": "RV-01", **({"watch": watch} if watch is not None else {})}
        assert web_session.post("/me/subscriptions", json=body, headers=headers).status_code == 201
    assert web_session.get("/me/subscriptions", headers=watcher).json() == {
        "beat_codes": ["RV-01"],
        "watch_beat_codes": ["RV-01"],
    }
    ask(web_session, watch=True)  # someone without an account joins the watch too, from the mail
    kit.dispatch(service)
    [confirmation] = smtp_sink.mailbox()
    assert "neighbourhood watch" in confirmation.get_body(("plain",)).get_content()
    manage = web_session.post("/subscribers/confirm", json={"token": link_token(confirmation, "/alerts/confirm")})
    viewed = web_session.get("/subscribers/me", headers={HEADER: manage.json()["manage_token"]}).json()
    assert viewed["watch_beat_codes"] == ["RV-01"]

    kit.publish(rabbit_config["AMQP_URI"], meeting("neighbourhood_watch", "m-1"))
    kit.wait_for(lambda: kit.rows(notifications_db, Notification, Notification.topic == "neighbourhood_watch"))
    kit.dispatch(service)
    walk = [m["To"] for m in smtp_sink.mailbox() if m["Subject"].startswith("Elm Street watch walk")]
    assert sorted(walk) == ["ana@example.org", "lena@example.org"]  # not the neighbour outside the watch

    kit.publish(rabbit_config["AMQP_URI"], meeting("community_meeting", "m-2"))
    kit.wait_for(lambda: kit.rows(notifications_db, Notification, Notification.topic == "meetings"))
    kit.dispatch(service)
    everyone = [m["To"] for m in smtp_sink.mailbox() if m["Subject"].startswith("Beat meeting")]
    assert sorted(everyone) == ["ana@example.org", "ben@example.org", "lena@example.org"]

    body = {"kind": "watch", "title": "Watch walk moved to Thursday", "body": "Same place, 7pm."}
    officer = kit.token("officer", "officer-rv01")
    preview = web_session.post("/broadcasts/RV-01/preview", json=body, headers=officer)
    assert preview.status_code == 200 and preview.json()["subscribers"] == 2
    sent = web_session.post("/broadcasts/RV-01", json=body, headers=officer)
    assert sent.status_code == 201 and sent.json()["subscribers"] == 2  # the watch, not every subscriber
    kit.dispatch(service)
    moved = [m["To"] for m in smtp_sink.mailbox() if m["Subject"].startswith("Watch walk moved")]
    assert sorted(moved) == ["ana@example.org", "lena@example.org"]

    left = web_session.post("/me/subscriptions", json={"beat_code": "RV-01", "watch": False}, headers=watcher)
    assert left.status_code == 200 and left.json() == {"beat_codes": ["RV-01"], "watch_beat_codes": []}


@pytest.mark.usefixtures("officer_rv01")
def test_asks_are_limited_per_client_address(start_service, smtp_sink, kit, web_session):
    """Each ask mails a confirmation: past NOTIFICATIONS_SUBSCRIBE_RATE_PER_ADDRESS a client gets a 429
    (the clock is frozen, so no budget comes back) and nobody is mailed; behind a trusted proxy each
    client counts for itself."""
    service = start_service(NOTIFICATIONS_SUBSCRIBE_RATE_PER_ADDRESS="2/3600", BEAT_TRUSTED_PROXIES="127.0.0.1/32")
    assert ask(web_session, email="one@example.org").status_code == 202
    assert ask(web_session, email="two@example.org").status_code == 202
    refused = ask(web_session, email="three@example.org")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    error = refused.json()["error"]
    assert error["code"] == "rate_limited" and "too many requests from this address" in error["message"]
    assert ask(web_session, email="not-an-address").status_code == 429  # counted before the body is read
    neighbour = web_session.post(
        "/subscribers",
        json={"email": "four@example.org", "beat_code": "RV-01", "language": "en", "watch": False},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert neighbour.status_code == 202  # another resident behind the ingress: their own budget
    kit.dispatch(service)
    assert sorted(mail["To"] for mail in smtp_sink.mailbox()) == [
        "four@example.org",
        "one@example.org",
        "two@example.org",
    ]
