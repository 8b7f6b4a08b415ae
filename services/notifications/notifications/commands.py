"""Changing the notifications database: the use cases, each a function of the unit of work.

Commands receive the session, the time (`now`) and, where they publish, `emit` (the outbox
writer's `add`) first, so a test runs them on SQLite with a fixed time and records the events.
Entrypoints in service.py parse input, call these, and answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.contracts.envelope import CloudEvent
from beat_shared.db import existing, insert_unless_exists
from beat_shared.errors import Conflict, InvalidInput, NotFound
from beat_shared.rows import fields_of
from notifications.domain.broadcasts import broadcast_context
from notifications.domain.preferences import (
    language_of,
    normalise_phone,
    valid_clock_time,
    valid_email,
    valid_timezone,
)
from notifications.domain.rules import TOPICS, NotificationSpec, broadcast_notification, notifications_for
from notifications.domain.subscribers import CONFIRM_DAYS, CONFIRMATION, SUBJECT_PREFIX, manage_token, subject_of
from notifications.domain.tokens import CONFIRM, address_hash, read_subscriber_token, read_unsubscribe_token
from notifications.models import (
    Broadcast,
    InboxItem,
    Message,
    Notification,
    Preference,
    Recipient,
    Subscription,
    Suppression,
    new_id,
)
from notifications.queries import subscriber_by_subject, subscriptions_of

Emit = Callable[[str, str, dict[str, Any]], Any]
RETRYABLE = ("temporary_failure", "permanent_failure")
STATUS_CHANGED = "beat.notification.status_changed"


def status_changed(emit: Emit, message: Message, now: datetime) -> None:
    """Publish a message's new status (on every change: the dispatcher's and an admin's retry)."""
    emit(
        STATUS_CHANGED,
        message.id,
        {
            "notification_id": message.id,
            "channel": message.channel,
            "status": message.status,
            "source_event_id": message.event_id,
            "attempts": message.attempts,
            "occurred_at": utc_iso(now),
        },
    )


def record_event(session: Session, now: datetime, event: CloudEvent) -> int:
    """Write the notifications an event calls for (no network: the dispatcher expands them);
    returns how many were new."""
    return sum(
        add_notification(session, now, spec, event_id=event.id, event_type=event.type)
        for spec in notifications_for(event)
    )


def add_notification(
    session: Session, now: datetime, spec: NotificationSpec, event_id: str | None, event_type: str
) -> bool:
    """Add it unless the rule already has one for this source (e.g. a consent withdrawal is
    published once per agency); True if it was added."""
    row = {
        "source_key": spec.source_key,
        "event_id": event_id,
        "event_type": event_type,
        **fields_of(spec, ("rule", "topic", "template", "urgent", "audience", "context")),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    return insert_unless_exists(session, Notification, row)


def recipient_for(session: Session, now: datetime, subject: str, role: str) -> Recipient:
    """A person's directory entry, made on first use."""
    by_subject = select(Recipient).where(Recipient.subject == subject)
    recipient = session.scalar(by_subject)
    if recipient is None:
        # A page's calls made at once (contact, preferences, subscriptions) each make a new person's
        # entry: ON CONFLICT keeps one and every call reads it, none fails on the unique subject.
        entry = {"ref": new_id(), "subject": subject, "role": role, "language": "en", "digest": False}
        insert_unless_exists(session, Recipient, {**entry, "opted_out": False, "created_at": now, "updated_at": now})
        recipient = session.scalars(by_subject).one()
    return recipient


def update_contact(session: Session, now: datetime, recipient: Recipient, changes: dict[str, Any]) -> Recipient:
    """Set a person's own contact details and delivery settings; raises InvalidInput naming each
    field that is not valid."""
    problems: dict[str, list[str]] = {}
    if "email" in changes:
        email = (changes["email"] or "").strip() or None
        if email is not None and not valid_email(email):
            problems["email"] = ["not a valid email address"]
        recipient.email = email
    if "phone" in changes:
        phone = changes["phone"]
        try:
            recipient.phone = normalise_phone(phone) if phone else None
        except InvalidInput:
            problems["phone"] = ["not an international (E.164) phone number, e.g. +15555550123"]
    if "language" in changes:
        recipient.language = language_of(changes["language"])
    if "timezone" in changes:
        if changes["timezone"] and not valid_timezone(changes["timezone"]):
            problems["timezone"] = ["not an IANA time zone, e.g. America/Chicago"]
        recipient.timezone = changes["timezone"] or None
    for key in ("quiet_start", "quiet_end"):
        if key in changes:
            if changes[key] and not valid_clock_time(changes[key]):
                problems[key] = ["a local time as HH:MM"]
            setattr(recipient, key, changes[key] or None)
    if "digest" in changes:
        recipient.digest = bool(changes["digest"])
    if problems:
        raise InvalidInput("some contact details are not valid", problems)
    recipient.updated_at = now
    return recipient


def set_opt_out(session: Session, now: datetime, recipient: Recipient, opted_out: bool) -> Recipient:
    """Stop (or resume) every notification to this person on every channel."""
    recipient.opted_out = opted_out
    recipient.updated_at = now
    return recipient


def set_preference(session: Session, recipient: Recipient, topic: str, channel: str, enabled: bool) -> None:
    if topic != "*" and topic not in TOPICS:
        raise InvalidInput(f"unknown topic {topic!r}", {"topic": [f"one of {', '.join(TOPICS)} or *"]})
    preference = session.scalar(
        select(Preference).where(
            Preference.recipient_id == recipient.id, Preference.topic == topic, Preference.channel == channel
        )
    )
    if preference is None:
        session.add(Preference(recipient_id=recipient.id, topic=topic, channel=channel, enabled=enabled))
    else:
        preference.enabled = enabled
    session.flush()


def subscribe(session: Session, now: datetime, recipient: Recipient, beat_code: str, watch: bool | None = None) -> bool:
    """Follow a beat's alerts and meetings (and, with `watch`, join its neighbourhood watch, or with
    watch=False leave it); False if already following."""
    exists = session.scalar(
        select(Subscription).where(Subscription.recipient_id == recipient.id, Subscription.beat_code == beat_code)
    )
    if exists is not None:
        if watch is not None:
            exists.watch = watch
        return False
    session.add(
        Subscription(
            recipient_id=recipient.id, beat_code=beat_code, created_at=now, confirmed_at=now, watch=bool(watch)
        )
    )
    session.flush()
    return True


def unsubscribe_beat(session: Session, recipient: Recipient, beat_code: str) -> None:
    subscription = session.scalar(
        select(Subscription).where(Subscription.recipient_id == recipient.id, Subscription.beat_code == beat_code)
    )
    if subscription is None:
        raise NotFound(f"you do not follow beat {beat_code}")
    session.delete(subscription)


def suppress(session: Session, now: datetime, hashed: str, channel: str, topic: str, reason: str) -> None:
    """Record the suppression (once: a second STOP or a concurrent one changes nothing)."""
    row = {"address_hash": hashed, "channel": channel, "topic": topic, "reason": reason, "created_at": now}
    insert_unless_exists(session, Suppression, row)


def unsubscribe_by_token(session: Session, now: datetime, secret: str, token: str, everything: bool) -> dict[str, str]:
    """Suppress the address of an unsubscribe link for its topic (or everything); raises InvalidInput
    for a forged or broken token."""
    claims = read_unsubscribe_token(secret, token)
    topic = "*" if everything else claims["t"]
    suppress(session, now, claims["h"], claims["c"], topic, "unsubscribe_link")
    return {"channel": claims["c"], "topic": topic}


def sms_keyword(session: Session, now: datetime, secret: str, phone: str, word: str) -> None:
    """STOP suppresses the number for every SMS; START lifts that."""
    hashed = address_hash(secret, "sms", phone)
    if word == "stop":
        suppress(session, now, hashed, "sms", "*", "sms_stop")
    else:
        for row in session.scalars(
            select(Suppression).where(Suppression.address_hash == hashed, Suppression.channel == "sms")
        ):
            session.delete(row)


def broadcast(session: Session, now: datetime, beat_code: str, body: dict[str, Any], officer: str) -> Broadcast:
    """An officer's alert or meeting announcement to a beat's subscribers."""
    kind = body["kind"]
    context = broadcast_context(beat_code, body)
    record = Broadcast(
        beat_code=beat_code,
        kind=kind,
        title=body["title"],
        body=context["body"],
        urgent=context["urgent"],
        starts_at=body.get("starts_at"),
        venue=body.get("venue"),
        created_by=officer,
        created_at=now,
    )
    session.add(record)
    session.flush()
    spec = broadcast_notification(record.id, beat_code, kind, record.urgent, context)
    add_notification(session, now, spec, event_id=None, event_type=f"beat.broadcast.{kind}")
    return record


def mark_read(session: Session, now: datetime, subject: str, item_id: str) -> InboxItem:
    """Mark one of the person's own inbox items read; raises NotFound for anyone else's."""
    item = session.get(InboxItem, item_id)
    if item is None or item.subject != subject:  # someone else's item is simply not there
        raise NotFound("no such inbox item")
    if item.read_at is None:
        item.read_at = now
    return item


def mark_all_read(session: Session, now: datetime, subject: str) -> int:
    result = session.execute(
        update(InboxItem).where(InboxItem.subject == subject, InboxItem.read_at.is_(None)).values(read_at=now)
    )
    return result.rowcount or 0


def retry_message(session: Session, now: datetime, emit: Emit, message_id: str) -> Message:
    """Queue a failed message again now, with a fresh budget of attempts (same id: no duplicate),
    and publish its new status. Raises NotFound, or Conflict when it has not failed."""
    message = existing(session, Message, message_id, "message")
    if message.status not in RETRYABLE:
        raise Conflict(f"only failed messages can be retried; this one is {message.status}")
    message.status = "queued"
    message.attempt_base = message.attempts
    message.next_attempt_at = now
    message.updated_at = now
    status_changed(emit, message, now)
    return message


# --- following a beat without an account (double opt-in) -------------------------------------


def ask_to_subscribe(
    session: Session, now: datetime, secret: str, email: str, beat_code: str, language: str, watch: bool = False
) -> bool:
    """Someone asks to follow a beat by e-mail (with `watch`, in its neighbourhood watch too); True
    if a confirmation mail was queued. Nothing is sent again for what the address already follows,
    nor more than once a day for the same request: joining the watch is confirmed from the mail too."""
    email = email.strip()
    if not valid_email(email):
        raise InvalidInput("not a valid email address", {"email": ["not a valid email address"]})
    recipient = recipient_for(session, now, subject_of(secret, email), "resident")
    subscription = session.scalar(
        select(Subscription).where(Subscription.recipient_id == recipient.id, Subscription.beat_code == beat_code)
    )
    if subscription is not None and subscription.confirmed_at is not None and (subscription.watch or not watch):
        return False
    if not subscriptions_of(session, recipient):  # a stranger must not change a confirmed subscriber's language
        recipient.email, recipient.language, recipient.updated_at = email, language_of(language), now
    if subscription is None:
        session.add(Subscription(recipient_id=recipient.id, beat_code=beat_code, created_at=now, confirmed_at=None))
    spec = NotificationSpec(
        f"subscribe:{recipient.ref}:{beat_code}:{'watch' if watch else 'alerts'}:{now.date().isoformat()}",
        CONFIRMATION,
        CONFIRMATION,
        CONFIRMATION,
        {"kind": "subscriber", "ref": recipient.ref},
        {"beat_code": beat_code, "watch": watch},
    )
    return add_notification(session, now, spec, event_id=None, event_type="beat.subscriber.asked")


def confirm_subscription(session: Session, now: datetime, secret: str, token: str) -> dict[str, Any]:
    """Follow the confirmation link: the subscription starts (again is fine). Answers the beat and
    the token that manages this address's alerts."""
    claims = read_subscriber_token(secret, token, CONFIRM, now.timestamp())
    recipient = subscriber_by_subject(session, claims["s"])
    subscription = session.scalar(
        select(Subscription).where(Subscription.recipient_id == recipient.id, Subscription.beat_code == claims["b"])
    )
    if subscription is None:
        raise InvalidInput("this confirmation link has expired", {"token": ["expired: ask again"]})
    if subscription.confirmed_at is None:
        subscription.confirmed_at = now
    if claims.get("w"):
        subscription.watch = True
    return {"beat_code": claims["b"], "manage_token": manage_token(secret, recipient.subject)}


def set_subscriber_language(session: Session, now: datetime, recipient: Recipient, language: str) -> None:
    """The language of a subscriber's mails (one Beat writes in; English otherwise)."""
    recipient.language, recipient.updated_at = language_of(language), now


def stop_subscriber_beat(session: Session, recipient: Recipient, beat_code: str) -> None:
    """Stop one beat's alerts; a beat already stopped is fine (a second click, an old mail)."""
    session.execute(
        delete(Subscription).where(Subscription.recipient_id == recipient.id, Subscription.beat_code == beat_code)
    )


def forget_subscriber(session: Session, recipient: Recipient) -> None:
    """Stop everything and forget the address (explicit deletes: SQLite does not cascade)."""
    session.execute(delete(Subscription).where(Subscription.recipient_id == recipient.id))
    session.execute(delete(Preference).where(Preference.recipient_id == recipient.id))
    session.delete(recipient)


def forget_unconfirmed_subscribers(session: Session, now: datetime) -> int:
    """Subscriptions never confirmed within CONFIRM_DAYS, and the addresses left with none."""
    cutoff = now - timedelta(days=CONFIRM_DAYS)
    gone = session.execute(
        delete(Subscription).where(Subscription.confirmed_at.is_(None), Subscription.created_at < cutoff)
    ).rowcount
    followed = select(Subscription.recipient_id)
    session.execute(
        delete(Recipient).where(Recipient.subject.like(f"{SUBJECT_PREFIX}%"), Recipient.id.not_in(followed))
    )
    return gone or 0
