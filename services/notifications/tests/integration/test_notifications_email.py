"""Email over a real SMTP server: rules, content, exactly-once, retries and the delivery log."""

from beat_shared.contracts import new_event
from notifications.models import Message, Notification

CONCERN = "c-4711"


def acknowledged(concern_id=CONCERN):
    return new_event(
        "beat.concern.acknowledged",
        concern_id,
        {
            "concern_id": concern_id,
            "category_code": "streetlight_out",
            "beat_code": "RV-03",
            "status": "acknowledged",
            "occurred_at": "2026-01-05T09:00:00Z",
            "officer_id": "officer-rv03",
            "submitted_at": "2026-01-04T09:00:00Z",
        },
    )


def reporter(stand_ins, concern_id=CONCERN, language="es", email="maria@example.org"):
    stand_ins.concerns.reporters[concern_id] = {
        "name": "María",
        "email": email,
        "phone": "+15555550100",
        "language": language,
        "contact_preference": "email",
    }


def test_acknowledged_concern_emails_the_reporter_in_their_language(
    service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit
):
    reporter(stand_ins)
    event = acknowledged()
    kit.publish(rabbit_config["AMQP_URI"], event)
    kit.wait_for(lambda: kit.rows(notifications_db, Notification), message="notification recorded")
    outcome = kit.dispatch(service)
    assert outcome["outcomes"] == {"delivered": 1}

    [email] = smtp_sink.mailbox()
    assert email["To"] == "maria@example.org"
    assert email["Subject"] == "Su inquietud ha sido atendida"
    assert email["Content-Language"] == "es"
    assert email["Message-ID"].endswith("@beat.local>")
    assert email["List-Unsubscribe"].startswith("<http://localhost:8003/unsubscribe/")
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Hola María" in kit.text_part(email)
    assert "<p>Hola María" in kit.html_part(email)

    [message] = kit.rows(notifications_db, Message)
    assert (message.status, message.attempts, message.channel) == ("delivered", 1, "email")
    assert message.recipient_key == f"reporter:{CONCERN}"
    assert "maria" not in str(message.address_ref) + str(message.context)  # no contact detail stored


def test_redelivered_event_sends_one_email(service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit):
    reporter(stand_ins)
    event = acknowledged()
    kit.publish(rabbit_config["AMQP_URI"], event)
    kit.wait_for(lambda: kit.rows(notifications_db, Notification), message="first delivery handled")
    kit.dispatch(service)
    kit.publish(rabbit_config["AMQP_URI"], event)  # the broker redelivers the same event
    marker = acknowledged("c-marker")
    kit.publish(rabbit_config["AMQP_URI"], marker)
    kit.wait_for(lambda: len(kit.rows(notifications_db, Notification)) == 2, message="marker handled")
    kit.dispatch(service)
    kit.dispatch(service)
    assert len(smtp_sink.received()) == 1  # the marker's reporter left no contact
    assert len(kit.rows(notifications_db, Message)) == 1


def test_timer_dispatches_without_help(start_service, stand_ins, smtp_sink, rabbit_config, kit):
    start_service(NOTIFICATIONS_DISPATCH_SECONDS="0.2")
    reporter(stand_ins, language="en")
    kit.publish(rabbit_config["AMQP_URI"], acknowledged())
    kit.wait_for(lambda: smtp_sink.mailbox(), timeout=15, message="email sent by the timer")
    assert smtp_sink.mailbox()[0]["Subject"] == "Your concern has been acknowledged"
