"""Email over a real SMTP server: rules, content, exactly-once, retries and the delivery log."""

import itertools

from beat_shared.testing import free_port
from notifications.dependencies import DispatchTimer
from notifications.dispatcher import SEND_CONCURRENCY
from notifications.models import DeliveryAttempt, Message, Notification

CONCERN = "c-4711"


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
    event = kit.acknowledged(CONCERN)
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
    event = kit.acknowledged(CONCERN)
    kit.publish(rabbit_config["AMQP_URI"], event)
    kit.wait_for(lambda: kit.rows(notifications_db, Notification), message="first delivery handled")
    kit.dispatch(service)
    kit.publish(rabbit_config["AMQP_URI"], event)  # the broker redelivers the same event
    marker = kit.acknowledged("c-marker")
    kit.publish(rabbit_config["AMQP_URI"], marker)
    kit.wait_for(lambda: len(kit.rows(notifications_db, Notification)) == 2, message="marker handled")
    kit.dispatch(service)
    kit.dispatch(service)
    assert len(smtp_sink.received()) == 1  # the marker's reporter left no contact
    assert len(kit.rows(notifications_db, Message)) == 1


def test_timer_dispatches_without_help(start_service, stand_ins, smtp_sink, rabbit_config, kit):
    start_service(NOTIFICATIONS_DISPATCH_SECONDS="0.2")
    reporter(stand_ins, language="en")
    kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(CONCERN))
    kit.wait_for(lambda: smtp_sink.mailbox(), timeout=15, message="email sent by the timer")
    assert smtp_sink.mailbox()[0]["Subject"] == "Your concern has been acknowledged"


def test_recorded_notification_wakes_the_dispatcher(start_service, stand_ins, smtp_sink, rabbit_config, kit):
    # The timer alone would not run for an hour: the email goes out because the event woke it.
    start_service(dispatch_on_arrival=True, NOTIFICATIONS_DISPATCH_SECONDS="3600")
    reporter(stand_ins, language="en")
    kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(CONCERN))
    kit.wait_for(lambda: smtp_sink.mailbox(), timeout=15, message="email sent on arrival")
    assert smtp_sink.mailbox()[0]["Subject"] == "Your concern has been acknowledged"


def test_a_full_batch_is_followed_by_another_round_at_once(
    start_service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit
):
    service = start_service(NOTIFICATIONS_DISPATCH_SECONDS="3600", NOTIFICATIONS_BATCH_SIZE="2")
    for number in range(5):
        reporter(stand_ins, f"c-batch-{number}", language="en", email=f"resident{number}@example.org")
        kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(f"c-batch-{number}"))
    kit.wait_for(lambda: len(kit.rows(notifications_db, Notification)) == 5, message="five notifications recorded")
    [timer] = [entrypoint for entrypoint in service.entrypoints if isinstance(entrypoint, DispatchTimer)]
    timer.wake_on_arrival = True
    timer.wake()  # one wake-up; rounds of two follow each other until the work is done
    kit.wait_for(lambda: len(smtp_sink.mailbox()) == 5, timeout=20, message="all five sent in rounds of two")
    # The sink holds a mail before the round records it as delivered; wait for the record too.
    kit.wait_for(
        lambda: {message.status for message in kit.rows(notifications_db, Message)} == {"delivered"},
        timeout=10,
        message="all five recorded as delivered",
    )
    assert len(smtp_sink.mailbox()) == 5  # and no round sent one twice


def test_concurrent_rounds_send_each_email_once(
    start_service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit
):
    # Three rounds at once, two messages each: they claim different rows, nothing goes twice.
    start_service(
        dispatch_on_arrival=True,
        NOTIFICATIONS_DISPATCH_SECONDS="3600",
        NOTIFICATIONS_BATCH_SIZE="2",
        NOTIFICATIONS_DISPATCH_CONCURRENCY="3",
    )
    count = 14
    for number in range(count):
        reporter(stand_ins, f"c-lane-{number}", language="en", email=f"lane{number}@example.org")
        kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(f"c-lane-{number}"))
    kit.wait_for(lambda: len(smtp_sink.received()) >= count, timeout=30, message="every email sent")
    kit.wait_for(
        lambda: {message.status for message in kit.rows(notifications_db, Message)} == {"delivered"},
        timeout=10,
        message="every message recorded as delivered",
    )
    received = smtp_sink.received()
    assert len(received) == count  # every SMTP transaction: no email went out twice
    assert sorted(email["To"] for email in received) == sorted(f"lane{number}@example.org" for number in range(count))
    assert len({email["Message-ID"] for email in received}) == count
    assert {attempt.message_id for attempt in kit.rows(notifications_db, DeliveryAttempt)} == {
        message.id for message in kit.rows(notifications_db, Message)
    }
    attempts = kit.rows(notifications_db, DeliveryAttempt)
    assert len(attempts) == count and {attempt.number for attempt in attempts} == {1}  # one attempt each, the first


def test_a_round_asks_concerns_about_its_reporters_in_one_call(
    service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit
):
    for number in range(5):
        reporter(stand_ins, f"c-ask-{number}", language="en", email=f"ask{number}@example.org")
        kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(f"c-ask-{number}"))
    kit.wait_for(lambda: len(kit.rows(notifications_db, Notification)) == 5, message="notifications recorded")
    assert kit.dispatch(service)["outcomes"] == {"delivered": 5}
    assert stand_ins.concerns.calls == {"reporter_contacts": 1}  # expanding and sending reuse the answer
    assert sorted(email["To"] for email in smtp_sink.mailbox()) == [f"ask{number}@example.org" for number in range(5)]


def test_reporters_are_asked_one_by_one_when_the_batch_question_fails(
    service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit
):
    stand_ins.concerns.batch_fails = True  # e.g. an older concerns without reporter_contacts
    for number in range(3):
        reporter(stand_ins, f"c-old-{number}", language="en", email=f"old{number}@example.org")
        kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(f"c-old-{number}"))
    kit.wait_for(lambda: len(kit.rows(notifications_db, Notification)) == 3, message="notifications recorded")
    assert kit.dispatch(service)["outcomes"] == {"delivered": 3}
    assert stand_ins.concerns.calls["reporter_contact"] == 3
    assert len(smtp_sink.mailbox()) == 3


def test_a_round_reuses_its_smtp_connections(service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit):
    for number in range(SEND_CONCURRENCY + 5):
        reporter(stand_ins, f"c-many-{number}", language="en", email=f"resident{number}@example.org")
        kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(f"c-many-{number}"))
    expected = SEND_CONCURRENCY + 5
    kit.wait_for(lambda: len(kit.rows(notifications_db, Notification)) == expected, message="notifications recorded")
    outcome = kit.dispatch(service)
    assert outcome["outcomes"] == {"delivered": expected}
    assert len(smtp_sink.mailbox()) == expected
    # One connection per concurrent sender at most, each carrying several emails.
    assert smtp_sink.connections() <= SEND_CONCURRENCY


def test_consecutive_rounds_share_an_smtp_connection(
    service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit
):
    for number in range(3):
        reporter(stand_ins, f"c-round-{number}", language="en", email=f"round{number}@example.org")
        kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(f"c-round-{number}"))
        kit.wait_for(lambda n=number + 1: len(kit.rows(notifications_db, Notification)) == n, message="recorded")
        assert kit.dispatch(service)["outcomes"] == {"delivered": 1}  # one round per email
    assert len(smtp_sink.mailbox()) == 3
    assert smtp_sink.connections() == 1  # connect, EHLO and QUIT once, not once per round


def message_row(kit, url):
    [message] = kit.rows(url, Message)
    return message


def run_until_settled(service, clock, kit, url, limit=20):
    """Dispatch, then jump the clock to each next attempt, until the message settles."""
    for _ in range(limit):
        kit.dispatch(service)
        message = message_row(kit, url)
        if message.status in ("delivered", "permanent_failure"):
            return message
        clock._now = max(clock.now(), message.next_attempt_at)
    raise AssertionError("the message never settled")


def test_smtp_451_is_retried_on_schedule_then_fails_permanently_and_can_be_retried(
    service, stand_ins, smtp_sink, rabbit_config, notifications_db, clock, kit, web_session
):
    reporter(stand_ins)
    smtp_sink.set_mode("451")
    started = clock.now()
    kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(CONCERN))
    kit.wait_for(lambda: kit.rows(notifications_db, Notification), message="notification recorded")

    message = run_until_settled(service, clock, kit, notifications_db)
    assert message.status == "permanent_failure"
    assert message.attempts == 9
    assert "451" in message.last_error and "gave up after 9 attempts" in message.last_error
    attempts = kit.rows(notifications_db, DeliveryAttempt)
    assert [a.outcome for a in attempts] == ["temporary_failure"] * 8 + ["permanent_failure"]
    gaps = [(b.started_at - a.started_at).total_seconds() for a, b in itertools.pairwise(attempts)]
    for number, gap in enumerate(gaps, start=1):
        base = min(60 * 3 ** (number - 1), 28800)
        assert base <= gap <= base * 1.25, (number, gap)
    total_hours = (attempts[-1].started_at - started).total_seconds() / 3600
    assert 20 <= total_hours <= 28  # about a day
    assert smtp_sink.received() == []  # never accepted, never lost: it is in the log

    admin = kit.token("admin", "admin-1")
    listed = web_session.get("/messages?status=permanent_failure", headers=admin).json()
    assert listed["total_items"] == 1 and listed["contents"][0]["id"] == message.id
    detail = web_session.get(f"/messages/{message.id}", headers=admin).json()
    assert len(detail["delivery_attempts"]) == 9 and detail["delivery_attempts"][0]["status_code"] == 451

    smtp_sink.set_mode("ok")
    retried = web_session.post(f"/messages/{message.id}/retry", headers=admin)
    assert retried.status_code == 200 and retried.json()["status"] == "queued"
    kit.dispatch(service)
    assert message_row(kit, notifications_db).status == "delivered"
    assert len(smtp_sink.mailbox()) == 1
    again = web_session.post(f"/messages/{message.id}/retry", headers=admin)
    assert again.status_code == 409  # delivered messages are not sent twice
    assert web_session.get("/messages", headers=kit.token("resident", "r-1")).status_code == 403


def test_smtp_550_fails_permanently_at_once(service, stand_ins, smtp_sink, rabbit_config, notifications_db, kit):
    reporter(stand_ins)
    smtp_sink.set_mode("550")
    kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(CONCERN))
    kit.wait_for(lambda: kit.rows(notifications_db, Notification), message="notification recorded")
    kit.dispatch(service)
    message = message_row(kit, notifications_db)
    assert (message.status, message.attempts) == ("permanent_failure", 1)
    assert "550" in message.last_error


def test_closed_smtp_port_is_a_temporary_failure(start_service, stand_ins, rabbit_config, notifications_db, clock, kit):
    service = start_service(NOTIFICATIONS_SMTP_PORT=str(free_port()))  # a port nobody listens on
    reporter(stand_ins)
    kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(CONCERN))
    kit.wait_for(lambda: kit.rows(notifications_db, Notification), message="notification recorded")
    kit.dispatch(service)
    message = message_row(kit, notifications_db)
    assert message.status == "temporary_failure"
    assert "unreachable" in message.last_error
    assert message.next_attempt_at > clock.now()


def test_restart_in_the_middle_of_sending_does_not_send_a_second_email(
    start_service, stand_ins, smtp_sink, rabbit_config, notifications_db, clock, kit
):
    reporter(stand_ins)
    smtp_sink.set_mode("hold")  # the server takes the message, then keeps us waiting for its answer
    first = start_service(NOTIFICATIONS_DISPATCH_SECONDS="0.2")
    kit.publish(rabbit_config["AMQP_URI"], kit.acknowledged(CONCERN))
    kit.wait_for(lambda: smtp_sink.received(), timeout=15, message="the server has the message")
    first.kill()  # the process dies before it hears the server's 250
    assert message_row(kit, notifications_db).status == "sending"
    smtp_sink.release()

    second = start_service()
    kit.dispatch(second)  # within the lease: a live sender may still be busy with it
    assert message_row(kit, notifications_db).status == "sending"
    clock.advance(seconds=121)
    kit.dispatch(second)

    message = message_row(kit, notifications_db)
    assert (message.status, message.attempts) == ("delivered", 2)
    received = smtp_sink.received()
    assert {email["Message-ID"] for email in received} == {received[0]["Message-ID"]}  # one identity
    assert len(smtp_sink.mailbox()) == 1  # the receiver de-duplicates on it: one email
    attempts = kit.rows(notifications_db, DeliveryAttempt)
    assert "interrupted while sending" in attempts[0].error
