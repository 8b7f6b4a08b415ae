"""A dispatcher round on SQLite (the embedded default), with a small fake resolver."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from beat_shared.db import make_engine
from beat_shared.migrations import upgrade
from notifications import commands
from notifications.dispatcher import Dispatcher
from notifications.models import InboxItem, Message
from notifications.settings import Settings

NOW = datetime(2026, 1, 5, 23, 0, tzinfo=UTC)


class NoOtherServices:
    """Subscribers live in our own directory: no other service is asked anything."""

    def __getattr__(self, name):
        raise AssertionError(f"unexpected call to {name}")


def test_broadcast_round_trip_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/n.db"
    upgrade("notifications", url)
    engine = make_engine(url)
    published = []
    settings = Settings.from_config({"NOTIFICATIONS_TIMEZONE": "UTC", "NOTIFICATIONS_SMTP_PORT": "1"})
    with Session(engine, expire_on_commit=False) as session:
        resident = commands.recipient_for(session, NOW, "resident-1", "resident")
        changes = {"email": "ana@example.org", "quiet_start": "22:00", "quiet_end": "07:00", "timezone": "UTC"}
        recipient = commands.update_contact(session, NOW, resident, changes)
        commands.subscribe(session, NOW, recipient, "RV-01")
        commands.broadcast(session, NOW, "RV-01", {"kind": "alert", "title": "Road closed"}, "officer-rv01")
        session.commit()

        def publish(message, now):
            published.append((message.channel, message.status))

        report = Dispatcher(session, NoOtherServices(), settings, NOW, publish).run_round()
        assert report.expanded == 1
        [item] = session.scalars(select(InboxItem))
        assert item.title == "Road closed (RV-01)"
        email = session.scalar(select(Message).where(Message.channel == "email"))
        assert email.status == "queued" and email.next_attempt_at == NOW + timedelta(hours=8)  # quiet hours
        assert ("inbox", "delivered") in published and ("email", "queued") in published
    engine.dispose()


def test_a_message_that_cannot_be_rendered_fails_alone(tmp_path):
    from notifications.domain.rules import broadcast_notification

    url = f"sqlite:///{tmp_path}/n.db"
    upgrade("notifications", url)
    engine = make_engine(url)
    settings = Settings.from_config({"NOTIFICATIONS_TIMEZONE": "UTC"})
    with Session(engine, expire_on_commit=False) as session:
        recipient = commands.recipient_for(session, NOW, "resident-1", "resident")
        commands.subscribe(session, NOW, recipient, "RV-01")
        broken = broadcast_notification("b-1", "RV-01", "alert", False, {"beat_code": "RV-01"})  # no title
        commands.add_notification(session, NOW, broken, event_id=None, event_type="beat.broadcast.alert")
        commands.broadcast(session, NOW, "RV-01", {"kind": "alert", "title": "Fine"}, "officer-rv01")
        session.commit()
        Dispatcher(session, NoOtherServices(), settings, NOW, lambda message, now: None).run_round()
        statuses = {m.source_key: (m.status, m.last_error) for m in session.scalars(select(Message))}
    engine.dispose()
    assert statuses["b-1"] == ("permanent_failure", "could not prepare the message: UndefinedError")
    assert [status for key, (status, _) in statuses.items() if key != "b-1"] == ["delivered"]
