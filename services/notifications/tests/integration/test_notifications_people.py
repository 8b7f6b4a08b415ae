"""Officers, subscribers and their wishes: inbox, SMS, broadcasts, opt-outs, quiet hours, digests."""

from datetime import timedelta

import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_hook

from beat_shared.contracts import new_event
from notifications.models import Broadcast, Message, Notification

OFFICER = {"subject": "officer-rv03", "name": "Officer Diaz", "email": "diaz@police.example", "phone": "+15555550103"}
SUPERVISOR = {"subject": "supervisor-1", "name": "Sgt Park", "email": "park@police.example", "phone": None}


def submitted(concern_id="c-1", beat_code="RV-03"):
    return new_event(
        "beat.concern.submitted",
        concern_id,
        {
            "concern_id": concern_id,
            "category_code": "graffiti",
            "beat_code": beat_code,
            "status": "submitted",
            "occurred_at": "2026-01-05T09:00:00Z",
            "anonymous": True,
            "has_contact": False,
            "outside_beats": False,
            "language": "en",
        },
    )


def handled(kit, url, count=1):
    kit.wait_for(lambda: len(kit.rows(url, Notification)) >= count, message="notification recorded")


def resident(web_session, kit, subject="resident-1", beat="RV-01", **contact):
    headers = kit.token("resident", subject)
    body = {"email": "ana@example.org", "language": "es", **contact}
    assert web_session.put("/me/contact", json=body, headers=headers).status_code == 200
    assert web_session.post("/me/subscriptions", json={"beat_code": beat}, headers=headers).status_code == 201
    return headers


@pytest.fixture
def officer_rv01_on_its_beat(stand_ins):
    """Officers broadcast only to beats they are assigned to (concerns' beat_contacts says which)."""
    officer = {"subject": "officer-rv01", "name": "Officer Delgado", "email": None, "phone": None}
    stand_ins.concerns.beats["RV-01"] = {"officers": [officer], "supervisors": []}


def alert(web_session, kit, beat="RV-01", **extra):
    body = {"kind": "alert", "title": "Car break-ins on Elm St", "body": "Lock your car.", **extra}
    answer = web_session.post(f"/broadcasts/{beat}", json=body, headers=kit.token("officer", "officer-rv01"))
    assert answer.status_code == 201, answer.text
    return answer.json()


def by_channel(kit, url):
    return {m.channel: m for m in kit.rows(url, Message)}


def test_new_concern_reaches_the_beat_officers_by_email_and_inbox(
    service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit, web_session
):
    stand_ins.concerns.beats["RV-03"] = {"officers": [OFFICER], "supervisors": [SUPERVISOR]}
    kit.publish(rabbit_config["AMQP_URI"], submitted())
    handled(kit, notifications_db)
    kit.dispatch(service)

    [email] = smtp_sink.mailbox()
    assert email["To"] == OFFICER["email"] and "RV-03" in email["Subject"]
    staff_page = "http://localhost:8000/staff/concerns/c-1"  # where officers act on it, not its public page
    assert staff_page in email.get_body(("plain",)).get_content()
    officer = kit.token("officer", "officer-rv03")
    assert web_session.get("/inbox/unread-count", headers=officer).json() == {"unread": 1}
    page = web_session.get("/inbox", headers=officer).json()
    assert page["total_items"] == 1 and "graffiti" in page["contents"][0]["title"]
    assert staff_page in page["contents"][0]["body"]
    item_id = page["contents"][0]["id"]
    someone_else = kit.token("officer", "officer-rv04")
    assert web_session.post(f"/inbox/{item_id}/read", headers=someone_else).status_code == 404
    assert web_session.post(f"/inbox/{item_id}/read", headers=officer).json()["read_at"] is not None
    assert web_session.get("/inbox/unread-count", headers=officer).json() == {"unread": 0}
    assert web_session.get("/inbox?unread=true", headers=officer).json()["total_items"] == 0
    assert web_session.get("/inbox").status_code == 401

    # Every status change was published through the outbox.
    from sqlalchemy import text

    from beat_shared.db import make_engine

    engine = make_engine(notifications_db, pool_size=1)
    with engine.connect() as connection:
        types = [row[0] for row in connection.execute(text("SELECT body FROM outbox ORDER BY id"))]
    engine.dispose()
    statuses = [body for body in types if "beat.notification.status_changed" in body]
    assert sum('"status":"delivered"' in body for body in statuses) == 2  # email and inbox
    assert sum('"status":"queued"' in body for body in statuses) == 2


def test_overdue_concern_is_urgent_for_supervisors(service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit):
    stand_ins.concerns.beats["RV-03"] = {"officers": [OFFICER], "supervisors": [SUPERVISOR]}
    event = new_event(
        "beat.concern.overdue",
        "c-2",
        {
            "concern_id": "c-2",
            "category_code": "noise",
            "beat_code": "RV-03",
            "status": "submitted",
            "occurred_at": "2026-01-05T09:00:00Z",
            "due_at": "2026-01-05T08:00:00Z",
        },
    )
    kit.publish(rabbit_config["AMQP_URI"], event)
    handled(kit, notifications_db)
    kit.dispatch(service)
    [email] = smtp_sink.mailbox()
    assert email["To"] == SUPERVISOR["email"] and email["Subject"].startswith("Overdue")
    assert all(m.urgent and m.recipient_key == "user:supervisor-1" for m in kit.rows(notifications_db, Message))


@pytest.mark.usefixtures("officer_rv01_on_its_beat")
def test_subscriber_gets_an_officers_alert_by_email_inbox_and_sms(
    service, stand_ins, smtp_sink, http_receiver, notifications_db, kit, web_session, rabbit_config
):
    headers = resident(web_session, kit, phone="+1 (555) 555-0199")
    preference = {"topic": "beat_alerts", "channel": "sms", "enabled": True}
    assert web_session.put("/me/preferences", json=preference, headers=headers).status_code == 200
    assert alert(web_session, kit)["subscribers"] == 1
    kit.dispatch(service)

    messages = by_channel(kit, notifications_db)
    assert {channel: m.status for channel, m in messages.items()} == {
        "email": "delivered",
        "inbox": "delivered",
        "sms": "delivered",
    }
    [email] = smtp_sink.mailbox()
    assert email["Subject"] == "Car break-ins on Elm St (RV-01)" and email["Content-Language"] == "es"
    [sms] = http_receiver.requests
    assert sms.path == "/sms" and sms.json()["to"] == "+15555550199"
    assert sms.json()["body"].startswith("Alerta sector RV-01") and "PARAR" in sms.json()["body"]
    assert sms.headers["idempotency-key"] == sms.json()["reference"]
    assert messages["sms"].sms_segments == 1
    assert web_session.get("/inbox/unread-count", headers=headers).json() == {"unread": 1}

    contact = web_session.get("/me/contact", headers=headers).json()
    with ServiceRpcProxy("notifications", {"AMQP_URI": rabbit_config["AMQP_URI"]}) as proxy:
        assert proxy.beat_subscribers("RV-01") == [contact["ref"]]
        assert proxy.beat_subscribers("RV-02") == []


@pytest.mark.usefixtures("officer_rv01_on_its_beat")
def test_sms_stop_opts_the_number_out_and_start_back_in(
    service, stand_ins, http_receiver, notifications_db, kit, web_session
):
    headers = resident(web_session, kit, phone="+15555550199")
    web_session.put("/me/preferences", json={"topic": "*", "channel": "sms", "enabled": True}, headers=headers)
    gateway = {"X-Gateway-Token": "gateway-token"}
    wrong = web_session.post("/sms/inbound", json={"from": "+15555550199", "text": "STOP"}, headers={})
    assert wrong.status_code == 401
    stop = web_session.post("/sms/inbound", json={"from": "+15555550199", "text": " stop "}, headers=gateway)
    assert stop.json() == {"action": "stop"}
    alert(web_session, kit)
    kit.dispatch(service)
    assert set(by_channel(kit, notifications_db)) == {"email", "inbox"}  # no SMS to a stopped number
    assert http_receiver.requests == []

    web_session.post("/sms/inbound", json={"from": "+15555550199", "text": "START"}, headers=gateway)
    alert(web_session, kit, title="Second alert")
    kit.dispatch(service)
    assert len(http_receiver.requests) == 1


@pytest.mark.usefixtures("officer_rv01_on_its_beat")
def test_a_stop_after_queueing_still_stops_the_held_sms(
    service, stand_ins, http_receiver, smtp_sink, notifications_db, kit, web_session, clock
):
    # Quiet hours hold the SMS and the email until 07:00; the number texts STOP meanwhile.
    clock._now = clock.now().replace(hour=23, minute=0, second=0)
    headers = resident(web_session, kit, phone="+15555550177", timezone="UTC", quiet_start="22:00", quiet_end="07:00")
    web_session.put("/me/preferences", json={"topic": "*", "channel": "sms", "enabled": True}, headers=headers)
    alert(web_session, kit)
    kit.dispatch(service)
    assert {m.channel: m.status for m in kit.rows(notifications_db, Message)} == {
        "sms": "queued",
        "email": "queued",
        "inbox": "delivered",
    }
    gateway = {"X-Gateway-Token": "gateway-token"}
    web_session.post("/sms/inbound", json={"from": "+15555550177", "text": "STOP"}, headers=gateway)

    clock._now = by_channel(kit, notifications_db)["sms"].next_attempt_at
    kit.dispatch(service)
    sms, email = by_channel(kit, notifications_db)["sms"], by_channel(kit, notifications_db)["email"]
    assert sms.status == "permanent_failure" and sms.last_error == "the address unsubscribed before sending"
    assert http_receiver.requests == []  # nothing reached the SMS gateway
    assert email.status == "delivered" and len(smtp_sink.mailbox()) == 1  # the email was not stopped


@pytest.mark.usefixtures("officer_rv01_on_its_beat")
def test_opt_out_everywhere_and_per_topic_preferences(
    service, stand_ins, smtp_sink, notifications_db, kit, web_session, rabbit_config
):
    headers = resident(web_session, kit)
    assert web_session.post("/me/opt-out", headers=headers).json()["opted_out"] is True
    alert(web_session, kit)
    kit.dispatch(service)
    assert kit.rows(notifications_db, Message) == []
    with ServiceRpcProxy("notifications", {"AMQP_URI": rabbit_config["AMQP_URI"]}) as proxy:
        assert proxy.beat_subscribers("RV-01") == []

    web_session.delete("/me/opt-out", headers=headers)
    web_session.put(
        "/me/preferences", json={"topic": "beat_alerts", "channel": "email", "enabled": False}, headers=headers
    )
    alert(web_session, kit, title="Second alert")
    kit.dispatch(service)
    assert set(by_channel(kit, notifications_db)) == {"inbox"}
    assert smtp_sink.mailbox() == []
    listed = web_session.get("/me/preferences", headers=headers).json()
    assert listed["preferences"] == [{"topic": "beat_alerts", "channel": "email", "enabled": False}]


@pytest.mark.usefixtures("officer_rv01_on_its_beat")
def test_quiet_hours_hold_routine_messages_but_not_urgent_ones(
    service, stand_ins, smtp_sink, notifications_db, kit, web_session, clock
):
    clock._now = clock.now().replace(hour=23, minute=0, second=0)
    resident(web_session, kit, timezone="UTC", quiet_start="22:00", quiet_end="07:00")
    alert(web_session, kit, title="Routine alert")
    kit.dispatch(service)
    email = by_channel(kit, notifications_db)["email"]
    assert email.status == "queued"
    assert email.next_attempt_at == (clock.now() + timedelta(days=1)).replace(hour=7, minute=0)
    assert smtp_sink.mailbox() == []

    alert(web_session, kit, title="Urgent alert", urgent=True)
    kit.dispatch(service)
    assert [m["Subject"] for m in smtp_sink.mailbox()] == ["URGENTE: Urgent alert (RV-01)"]

    clock._now = email.next_attempt_at
    kit.dispatch(service)
    assert len(smtp_sink.mailbox()) == 2


@pytest.mark.usefixtures("officer_rv01_on_its_beat")
def test_daily_digest_gathers_routine_emails(service, stand_ins, smtp_sink, notifications_db, kit, web_session, clock):
    clock._now = clock.now().replace(hour=5, minute=0, second=0)
    headers = resident(web_session, kit, timezone="UTC", digest=True, language="en")
    alert(web_session, kit, title="Bike thefts")
    web_session.post(
        "/broadcasts/RV-01",
        json={"kind": "meeting", "title": "Beat meeting", "starts_at": "2026-02-01T18:00:00Z", "venue": "Library"},
        headers=kit.token("officer", "officer-rv01"),
    )
    kit.dispatch(service)
    assert smtp_sink.mailbox() == []  # held for the digest
    assert web_session.get("/inbox/unread-count", headers=headers).json() == {"unread": 2}  # the inbox is not held

    clock._now = clock.now().replace(hour=7)
    kit.dispatch(service)
    [digest] = smtp_sink.mailbox()
    assert digest["Subject"] == "Your daily Beat digest (2 updates)"
    assert "Bike thefts" in kit.text_part(digest) and "Beat meeting" in kit.text_part(digest)
    emails = [m for m in kit.rows(notifications_db, Message) if m.channel == "email"]
    assert {m.status for m in emails} == {"delivered"} and len(emails) == 3

    clock._now = clock.now().replace(hour=9)
    alert(web_session, kit, title="Later today")
    kit.dispatch(service)
    assert len(smtp_sink.mailbox()) == 1  # today's digest has gone: this waits for tomorrow's


def test_unsubscribe_link_stops_that_topic_for_that_address(
    service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit, web_session
):
    contact = {"name": None, "email": "sam@example.org", "phone": None, "language": "en", "contact_preference": "email"}
    stand_ins.concerns.reporters["c-1"] = contact
    stand_ins.concerns.reporters["c-2"] = contact
    event = new_event(
        "beat.concern.resolved",
        "c-1",
        {
            "concern_id": "c-1",
            "category_code": "graffiti",
            "beat_code": "RV-02",
            "status": "resolved",
            "occurred_at": "2026-01-05T09:00:00Z",
            "submitted_at": "2026-01-04T09:00:00Z",
            "acknowledged_at": None,
            "has_contact": True,
            "language": "en",
        },
    )
    kit.publish(rabbit_config["AMQP_URI"], event)
    handled(kit, notifications_db)
    kit.dispatch(service)
    [email] = smtp_sink.mailbox()
    link = email["List-Unsubscribe"].strip("<>").replace("http://localhost:8003", "")
    assert web_session.get(link).status_code == 200
    assert web_session.post(link).json() == {"channel": "email", "topic": "concern_updates"}
    assert web_session.post(link[:-3] + "xyz").status_code == 400  # a forged link

    later = new_event("beat.concern.resolved", "c-2", {**event.data, "concern_id": "c-2"})
    kit.publish(rabbit_config["AMQP_URI"], later)
    handled(kit, notifications_db, 2)
    kit.dispatch(service)
    assert len(smtp_sink.mailbox()) == 1
    [skipped] = [n for n in kit.rows(notifications_db, Notification) if n.source_key == later.id]
    assert skipped.status == "expanded" and "unsubscribed" in skipped.last_error


def test_survey_invitations_by_directory_reference_and_to_a_reporter(
    service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit, web_session
):
    resident(web_session, kit, language="en")
    ref = web_session.get("/me/contact", headers=kit.token("resident", "resident-1")).json()["ref"]
    stand_ins.surveys.links["inv-1"] = {"url": "http://localhost:8004/s/tok1", "expires_at": "2026-02-01T00:00:00Z"}
    stand_ins.surveys.links["inv-2"] = None  # withdrawn before we sent it
    stand_ins.concerns.reporters["c-9"] = {
        "name": "Lee",
        "email": "lee@example.org",
        "phone": None,
        "language": "en",
        "contact_preference": "email",
    }
    base = {"survey_id": "s-1", "beat_code": "RV-01", "language": "en", "expires_at": "2026-02-01T00:00:00Z"}
    wave = {
        **base,
        "invitation_id": "inv-1",
        "wave_id": "w-1",
        "kind": "wave",
        "concern_id": None,
        "recipient_ref": ref,
    }
    post = {
        **base,
        "invitation_id": "inv-2",
        "wave_id": None,
        "kind": "post_contact",
        "concern_id": "c-9",
        "recipient_ref": None,
    }
    for data in (wave, post):
        kit.publish(
            rabbit_config["AMQP_URI"],
            new_event(
                "beat.survey.invitation_created", data["invitation_id"], {**data, "occurred_at": "2026-01-05T09:00:00Z"}
            ),
        )
    handled(kit, notifications_db, 2)
    kit.dispatch(service)
    [email] = smtp_sink.mailbox()
    assert email["To"] == "ana@example.org" and "http://localhost:8004/s/tok1" in kit.text_part(email)
    [failed] = [m for m in kit.rows(notifications_db, Message) if m.recipient_key == "reporter:c-9"]
    assert failed.status == "permanent_failure" and "no longer valid" in failed.last_error


def test_unreachable_owner_service_delays_the_notification(
    start_service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit, clock
):
    service = start_service(NOTIFICATIONS_RPC_TIMEOUT="0.5")
    stand_ins.concerns.beats = None  # the stand-in now fails every beat_contacts call
    kit.publish(rabbit_config["AMQP_URI"], submitted())
    handled(kit, notifications_db)
    kit.dispatch(service)
    [notification] = kit.rows(notifications_db, Notification)
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert "concerns.beat_contacts" in notification.last_error
    stand_ins.concerns.beats = {"RV-03": {"officers": [OFFICER], "supervisors": []}}
    clock._now = notification.next_attempt_at
    kit.dispatch(service)
    assert len(smtp_sink.mailbox()) == 1


@pytest.mark.usefixtures("officer_rv01_on_its_beat")
def test_a_retried_alert_reaches_the_beat_once(service, smtp_sink, notifications_db, kit, web_session, clock):
    resident(web_session, kit, timezone="UTC")
    officer = {**kit.token("officer", "officer-rv01"), "Idempotency-Key": "alert-elm-st-0001"}
    body = {"kind": "alert", "title": "Car break-ins on Elm St", "body": "Lock your car."}
    first = web_session.post("/broadcasts/RV-01", json=body, headers=officer)
    again = web_session.post("/broadcasts/RV-01", json=body, headers=officer)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.json() == first.json()
    reused = web_session.post("/broadcasts/RV-01", json={**body, "title": "Another alert"}, headers=officer)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "unprocessable"
    elsewhere = web_session.post("/broadcasts/RV-02", json=body, headers=officer)  # same key, another beat
    assert elsewhere.status_code == 403  # not assigned there: refused before the key is looked at
    kit.dispatch(service)
    assert len(smtp_sink.mailbox()) == 1
    assert len(kit.rows(notifications_db, Notification)) == 1

    clock.advance(hours=25)
    with entrypoint_hook(service, "forget_idempotency_keys") as forget_keys:
        assert forget_keys() == 1  # the only key kept: the refused requests stored none


@pytest.mark.usefixtures("officer_rv01_on_its_beat")
def test_a_broadcast_preview_says_what_each_language_reads_and_who_it_reaches(
    service, notifications_db, kit, web_session
):
    resident(web_session, kit, subject="resident-1")
    resident(web_session, kit, subject="resident-2", email="ben@example.org", language="en")
    resident(web_session, kit, subject="resident-3", beat="RV-02")  # another beat: not counted
    officer = kit.token("officer", "officer-rv01")
    body = {"kind": "alert", "title": "Car break-ins on Elm St", "body": "Lock your car.", "urgent": True}
    answer = web_session.post("/broadcasts/RV-01/preview", json=body, headers=officer)
    assert answer.status_code == 200, answer.text
    preview = answer.json()
    assert preview["subscribers"] == 2 and preview["beat_code"] == "RV-01" and preview["kind"] == "alert"
    by_language = {item["language"]: item for item in preview["previews"]}
    assert set(by_language) == {"en", "es"}
    assert by_language["en"]["subject"] == "URGENT: Car break-ins on Elm St (RV-01)"
    assert "Lock your car." in by_language["en"]["text"] and "Lock your car." in by_language["es"]["text"]
    assert by_language["es"]["sms"].startswith("Alerta sector RV-01") and by_language["es"]["sms_segments"] >= 1
    supervisor = web_session.post("/broadcasts/RV-01/preview", json=body, headers=kit.token("supervisor", "sup-1"))
    assert supervisor.status_code == 200 and supervisor.json()["subscribers"] == 2
    # Refusals, and nothing sent or stored by any preview.
    refused = {
        "elsewhere": web_session.post("/broadcasts/RV-05/preview", json=body, headers=officer),
        "resident": web_session.post("/broadcasts/RV-01/preview", json=body, headers=kit.token("resident", "r-9")),
        "anonymous": web_session.post("/broadcasts/RV-01/preview", json=body),
        "no title": web_session.post("/broadcasts/RV-01/preview", json={"kind": "alert"}, headers=officer),
        "meeting": web_session.post(
            "/broadcasts/RV-01/preview", json={"kind": "meeting", "title": "x"}, headers=officer
        ),
        "beat": web_session.post("/broadcasts/not a beat/preview", json=body, headers=officer),
    }
    statuses = {name: answer.status_code for name, answer in refused.items()}
    assert statuses == {
        "elsewhere": 403,
        "resident": 403,
        "anonymous": 401,
        "no title": 400,
        "meeting": 400,
        "beat": 400,
    }
    assert kit.rows(notifications_db, Broadcast) == [] and kit.rows(notifications_db, Notification) == []
