"""Notifications' use cases on SQLite with their events recorded: what each writes, refuses and
announces, in milliseconds, beside the integration tests over the broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from beat_shared.contracts import new_event
from beat_shared.db import make_engine, unit_of_work
from beat_shared.errors import Conflict, InvalidInput, NotFound
from beat_shared.testing import RecordedEvents
from notifications import commands, queries
from notifications.domain.subscribers import CONFIRMATION, confirmation_link_token, subject_of
from notifications.domain.tokens import address_hash, unsubscribe_token
from notifications.models import Base, Broadcast, InboxItem, Message, Notification, Recipient, Suppression

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "test-signing-secret"
SUBMITTED = {
    "concern_id": "c-1",
    "category_code": "graffiti",
    "beat_code": "RV-01",
    "status": "submitted",
    "occurred_at": "2026-03-02T09:00:00Z",
    "anonymous": False,
    "has_contact": True,
    "outside_beats": False,
    "language": "en",
}


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/notifications.db", pool_size=1)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _message(session: Any, status: str, subject: str = "officer-1") -> Message:
    message = Message(
        source_key="s-1",
        event_type="beat.concern.submitted",
        recipient_key=f"user:{subject}",
        channel="email",
        topic="new_concerns",
        template="concern_new_in_beat",
        language="en",
        address_ref={"kind": "user"},
        context={},
        status=status,
        attempts=9,
        next_attempt_at=NOW - timedelta(days=1),
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
    )
    session.add(message)
    session.flush()
    return message


def test_an_event_is_recorded_as_its_notifications_once_however_often_it_arrives(engine):
    event = new_event("beat.concern.submitted", "c-1", SUBMITTED)
    with unit_of_work(engine) as session:
        first = commands.record_event(session, NOW, event)
        again = commands.record_event(session, NOW, event)
        rows = list(session.scalars(select(Notification)))
    assert first == len(rows) >= 1 and again == 0
    assert {row.event_id for row in rows} == {event.id} and {row.status for row in rows} == {"pending"}


def test_a_broadcast_is_stored_with_one_notification_and_a_meeting_needs_its_time_and_place(engine):
    with unit_of_work(engine) as session:
        record = commands.broadcast(session, NOW, "RV-01", {"kind": "alert", "title": "Road closed"}, "officer-1")
        [notification] = session.scalars(select(Notification))
        with pytest.raises(InvalidInput, match="starts_at and venue"):
            commands.broadcast(session, NOW, "RV-01", {"kind": "meeting", "title": "Beat meeting"}, "officer-1")
        broadcasts = session.scalar(select(func.count()).select_from(Broadcast))
    assert record.created_by == "officer-1" and broadcasts == 1
    assert notification.event_type == "beat.broadcast.alert" and notification.context["title"] == "Road closed"


def test_a_failed_message_is_queued_again_and_its_new_status_announced(engine):
    recorded = RecordedEvents()
    with unit_of_work(engine) as session:
        message = commands.retry_message(session, NOW, recorded, _message(session, "permanent_failure").id)
    assert (message.status, message.attempt_base, message.next_attempt_at) == ("queued", 9, NOW)
    [(event_type, subject, data)] = recorded.events
    assert event_type == "beat.notification.status_changed" and subject == message.id
    assert data == {
        "notification_id": message.id,
        "channel": "email",
        "status": "queued",
        "source_event_id": None,
        "attempts": 9,
        "occurred_at": "2026-03-02T09:00:00Z",
    }


def test_only_a_failed_message_can_be_retried_and_a_refusal_announces_nothing(engine):
    recorded = RecordedEvents()
    with unit_of_work(engine) as session:
        delivered = _message(session, "delivered")
        with pytest.raises(Conflict, match="only failed messages"):
            commands.retry_message(session, NOW, recorded, delivered.id)
        with pytest.raises(NotFound):
            commands.retry_message(session, NOW, recorded, "no-such-message")
    assert recorded.events == []


def test_contact_details_are_checked_field_by_field_and_kept_when_valid(engine):
    with unit_of_work(engine) as session:
        person = commands.recipient_for(session, NOW, "resident-1", "resident")
        assert commands.recipient_for(session, NOW, "resident-1", "resident").id == person.id  # made once
        with pytest.raises(InvalidInput) as refused:
            commands.update_contact(session, NOW, person, {"email": "no", "phone": "12", "timezone": "Mars/Base"})
        assert set(refused.value.details) == {"email", "phone", "timezone"}
        changes = {"email": "ana@example.org", "phone": "+15555550123", "language": "es-MX", "digest": True}
        commands.update_contact(session, NOW, person, changes)
        view = queries.recipient_view(person)
    assert (view["email"], view["phone"], view["language"], view["digest"]) == (
        "ana@example.org",
        "+15555550123",
        "es",
        True,
    )


def test_following_a_beat_once_joining_its_watch_and_stopping(engine):
    with unit_of_work(engine) as session:
        person = commands.recipient_for(session, NOW, "resident-1", "resident")
        assert commands.subscribe(session, NOW, person, "RV-01") is True
        assert commands.subscribe(session, NOW, person, "RV-01", watch=True) is False  # already following
        assert queries.subscriptions_view(session, person) == {"beat_codes": ["RV-01"], "watch_beat_codes": ["RV-01"]}
        assert queries.beat_subscribers(session, "RV-01", watch=True) == [person.ref]
        commands.unsubscribe_beat(session, person, "RV-01")
        with pytest.raises(NotFound):
            commands.unsubscribe_beat(session, person, "RV-01")
        assert queries.subscriptions_view(session, person) == {"beat_codes": [], "watch_beat_codes": []}


def test_sms_stop_suppresses_the_number_once_and_start_lifts_it(engine):
    hashed = address_hash(SECRET, "sms", "+15555550123")
    with unit_of_work(engine) as session:
        commands.sms_keyword(session, NOW, SECRET, "+15555550123", "stop")
        commands.sms_keyword(session, NOW, SECRET, "+15555550123", "stop")
        stopped = [(row.address_hash, row.topic, row.reason) for row in session.scalars(select(Suppression))]
        commands.sms_keyword(session, NOW, SECRET, "+15555550123", "start")
        left = session.scalar(select(func.count()).select_from(Suppression))
    assert stopped == [(hashed, "*", "sms_stop")] and left == 0


def test_an_unsubscribe_link_stops_its_topic_or_everything(engine):
    token = unsubscribe_token(SECRET, "hash-of-ana", "email", "beat_alerts")
    with unit_of_work(engine) as session:
        one = commands.unsubscribe_by_token(session, NOW, SECRET, token, everything=False)
        every = commands.unsubscribe_by_token(session, NOW, SECRET, token, everything=True)
        with pytest.raises(InvalidInput):
            commands.unsubscribe_by_token(session, NOW, SECRET, token + "x", everything=False)
        topics = sorted(session.scalars(select(Suppression.topic)))
    assert one == {"channel": "email", "topic": "beat_alerts"} and every == {"channel": "email", "topic": "*"}
    assert topics == ["*", "beat_alerts"]


def test_a_person_reads_only_their_own_inbox_items(engine):
    with unit_of_work(engine) as session:
        for n, subject in enumerate(("officer-1", "officer-1", "officer-2")):
            message = _message(session, "delivered", f"{subject}-{n}")
            session.add(
                InboxItem(
                    message_id=message.id, subject=subject, topic="new_concerns", title="t", body="", created_at=NOW
                )
            )
        session.flush()
        theirs = session.scalars(select(InboxItem).where(InboxItem.subject == "officer-2")).one()
        with pytest.raises(NotFound):
            commands.mark_read(session, NOW, "officer-1", theirs.id)
        assert commands.mark_all_read(session, NOW, "officer-1") == 2
        assert queries.unread_count(session, "officer-1") == 0 and queries.unread_count(session, "officer-2") == 1


def test_an_address_asks_once_a_day_confirms_from_its_link_and_unconfirmed_ones_are_forgotten(engine):
    with unit_of_work(engine) as session:
        assert commands.ask_to_subscribe(session, NOW, SECRET, "ana@example.org", "RV-01", "es") is True
        assert commands.ask_to_subscribe(session, NOW, SECRET, " ana@example.org", "RV-01", "es") is False  # same day
        with pytest.raises(InvalidInput):
            commands.ask_to_subscribe(session, NOW, SECRET, "not-an-address", "RV-01", "en")
        [asked] = session.scalars(select(Notification).where(Notification.template == CONFIRMATION))
        subject = subject_of(SECRET, "ana@example.org")
        link = confirmation_link_token(SECRET, subject, "RV-01", NOW, False)
        answer = commands.confirm_subscription(session, NOW + timedelta(hours=1), SECRET, link)
        person = queries.managed_subscriber(session, NOW, SECRET, answer["manage_token"])
        view = queries.subscriber_view(session, person)
        commands.ask_to_subscribe(session, NOW, SECRET, "ben@example.org", "RV-02", "en")
        forgotten = commands.forget_unconfirmed_subscribers(session, NOW + timedelta(days=8))
        followers = session.scalar(select(func.count()).select_from(Recipient))
    assert asked.audience == {"kind": "subscriber", "ref": person.ref} and answer["beat_code"] == "RV-01"
    assert view == {"language": "es", "beat_codes": ["RV-01"], "watch_beat_codes": []}
    assert forgotten == 1 and followers == 1  # ben never confirmed: his address is gone, ana's stays


def test_a_broadcast_counts_the_confirmed_followers_it_would_reach(engine):
    """The count a broadcast answers with is the database's: the confirmed followers who did not opt
    out (the watch's alone for a watch alert), the same people beat_subscribers lists."""
    with unit_of_work(engine) as session:
        watcher, follower, opted_out = (
            commands.recipient_for(session, NOW, f"resident-{n}", "resident") for n in (1, 2, 3)
        )
        commands.subscribe(session, NOW, watcher, "RV-01", watch=True)
        commands.subscribe(session, NOW, follower, "RV-01")
        commands.subscribe(session, NOW, opted_out, "RV-01")
        commands.set_opt_out(session, NOW, opted_out, True)
        commands.ask_to_subscribe(session, NOW, "secret", "unconfirmed@example.org", "RV-01", "en")
        commands.subscribe(session, NOW, follower, "RV-02")
        for watch in (False, True):
            listed = queries.beat_subscribers(session, "RV-01", watch=watch)
            assert queries.beat_subscriber_count(session, "RV-01", watch=watch) == len(listed)
        assert sorted(queries.beat_subscribers(session, "RV-01")) == sorted([watcher.ref, follower.ref])
        assert queries.beat_subscriber_count(session, "RV-01", watch=True) == 1
        assert queries.beat_subscriber_count(session, "RV-03") == 0
