"""The notifications service's use cases: plain functions over a session and a time.

No nameko here; entrypoints in service.py parse input, call these, and answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.contracts.envelope import CloudEvent
from beat_shared.db import insert_unless_exists, page_of
from beat_shared.errors import Conflict, InvalidInput, NotFound
from notifications.models import (
    Broadcast,
    DeliveryAttempt,
    InboxItem,
    Message,
    Notification,
    Preference,
    Recipient,
    Subscription,
    Suppression,
    new_id,
)
from notifications.preferences import language_of, normalise_phone, valid_clock_time, valid_email, valid_timezone
from notifications.rules import TOPICS, NotificationSpec, broadcast_notification, notifications_for
from notifications.tokens import address_hash, read_unsubscribe_token

RETRYABLE = ("temporary_failure", "permanent_failure")


# --- events → notifications ------------------------------------------------------------------


def record_event(session: Session, event: CloudEvent, now: datetime) -> int:
    """Write the notifications an event calls for (no network: the dispatcher expands them);
    returns how many were new."""
    return sum(
        add_notification(session, spec, now, event_id=event.id, event_type=event.type)
        for spec in notifications_for(event)
    )


def add_notification(
    session: Session, spec: NotificationSpec, now: datetime, event_id: str | None, event_type: str
) -> bool:
    """Add it unless the rule already has one for this source (e.g. a consent withdrawal is
    published once per agency); True if it was added."""
    row = {
        "source_key": spec.source_key,
        "event_id": event_id,
        "event_type": event_type,
        "rule": spec.rule,
        "topic": spec.topic,
        "template": spec.template,
        "urgent": spec.urgent,
        "audience": spec.audience,
        "context": spec.context,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    return insert_unless_exists(session, Notification, row)


# --- the recipient directory -----------------------------------------------------------------


def recipient_for(session: Session, subject: str, role: str, now: datetime, create: bool = True) -> Recipient | None:
    by_subject = select(Recipient).where(Recipient.subject == subject)
    recipient = session.scalar(by_subject)
    if recipient is None and create:
        # A page's calls made at once (contact, preferences, subscriptions) each make a new person's
        # entry: ON CONFLICT keeps one and every call reads it, none fails on the unique subject.
        entry = {"ref": new_id(), "subject": subject, "role": role, "language": "en", "digest": False}
        insert_unless_exists(session, Recipient, {**entry, "opted_out": False, "created_at": now, "updated_at": now})
        recipient = session.scalar(by_subject)
    return recipient


def update_contact(session: Session, subject: str, role: str, changes: dict[str, Any], now: datetime) -> Recipient:
    """Set a signed-in person's own contact details and delivery settings; validates each."""
    recipient = recipient_for(session, subject, role, now)
    assert recipient is not None
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


def recipient_view(recipient: Recipient | None) -> dict[str, Any]:
    """A person's directory entry as they see it (defaults when they have none yet)."""
    if recipient is None:
        return {
            "ref": None,
            "email": None,
            "phone": None,
            "language": "en",
            "timezone": None,
            "quiet_start": None,
            "quiet_end": None,
            "digest": False,
            "opted_out": False,
        }
    return {
        "ref": recipient.ref,
        "email": recipient.email,
        "phone": recipient.phone,
        "language": recipient.language,
        "timezone": recipient.timezone,
        "quiet_start": recipient.quiet_start,
        "quiet_end": recipient.quiet_end,
        "digest": recipient.digest,
        "opted_out": recipient.opted_out,
    }


def set_opt_out(session: Session, subject: str, role: str, opted_out: bool, now: datetime) -> Recipient:
    recipient = recipient_for(session, subject, role, now)
    assert recipient is not None
    recipient.opted_out = opted_out
    recipient.updated_at = now
    return recipient


def preferences_of(session: Session, recipient: Recipient) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Preference).where(Preference.recipient_id == recipient.id).order_by(Preference.topic, Preference.channel)
    )
    return [{"topic": p.topic, "channel": p.channel, "enabled": p.enabled} for p in rows]


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


def subscribe(session: Session, recipient: Recipient, beat_code: str, now: datetime, watch: bool | None = None) -> bool:
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


def subscriptions_of(session: Session, recipient: Recipient) -> list[str]:
    return list(
        session.scalars(
            select(Subscription.beat_code)
            .where(Subscription.recipient_id == recipient.id, Subscription.confirmed_at.is_not(None))
            .order_by(Subscription.beat_code)
        )
    )


def watched_by(session: Session, recipient: Recipient) -> list[str]:
    """The beats whose neighbourhood watch the person joined."""
    return list(
        session.scalars(
            select(Subscription.beat_code)
            .where(
                Subscription.recipient_id == recipient.id,
                Subscription.confirmed_at.is_not(None),
                Subscription.watch.is_(True),
            )
            .order_by(Subscription.beat_code)
        )
    )


def beat_subscribers(session: Session, beat_code: str, watch: bool = False) -> list[str]:
    """Opaque references of the residents following a beat (for survey waves), or of its
    neighbourhood watch."""
    return list(
        session.scalars(
            select(Recipient.ref)
            .join(Subscription, Subscription.recipient_id == Recipient.id)
            .where(
                Subscription.beat_code == beat_code,
                Subscription.confirmed_at.is_not(None),
                Recipient.opted_out.is_(False),
                *([Subscription.watch.is_(True)] if watch else []),
            )
            .order_by(Recipient.id)
        )
    )


# --- suppressions: unsubscribe links and SMS STOP ---------------------------------------------


def suppress(session: Session, hashed: str, channel: str, topic: str, reason: str, now: datetime) -> None:
    """Record the suppression (once: a second STOP or a concurrent one changes nothing)."""
    row = {"address_hash": hashed, "channel": channel, "topic": topic, "reason": reason, "created_at": now}
    insert_unless_exists(session, Suppression, row)


def unsubscribe_by_token(session: Session, secret: str, token: str, everything: bool, now: datetime) -> dict[str, str]:
    claims = read_unsubscribe_token(secret, token)
    topic = "*" if everything else claims["t"]
    suppress(session, claims["h"], claims["c"], topic, "unsubscribe_link", now)
    return {"channel": claims["c"], "topic": topic}


def sms_keyword(session: Session, secret: str, phone: str, word: str, now: datetime) -> None:
    """STOP suppresses the number for every SMS; START lifts that."""
    hashed = address_hash(secret, "sms", phone)
    if word == "stop":
        suppress(session, hashed, "sms", "*", "sms_stop", now)
    else:
        for row in session.scalars(
            select(Suppression).where(Suppression.address_hash == hashed, Suppression.channel == "sms")
        ):
            session.delete(row)


# --- broadcasts ------------------------------------------------------------------------------------


def get_broadcast(session: Session, broadcast_id: str) -> Broadcast:
    found = session.get(Broadcast, broadcast_id)
    assert found is not None, "an idempotency key names a broadcast that is gone"
    return found


def broadcast_context(beat_code: str, body: dict[str, Any]) -> dict[str, Any]:
    """What a broadcast's templates are given; refuses a meeting without its time and place."""
    kind = body["kind"]
    if kind == "meeting" and (not body.get("starts_at") or not body.get("venue")):
        raise InvalidInput("a meeting needs starts_at and venue", {"starts_at": ["required for meetings"]})
    return {
        "beat_code": beat_code,
        "kind": "community_meeting" if kind == "meeting" else "alert",
        "title": body["title"],
        "body": body.get("body") or "",
        "urgent": bool(body.get("urgent")),
        "starts_at": utc_iso(body["starts_at"]) if body.get("starts_at") else None,
        "ends_at": utc_iso(body["ends_at"]) if body.get("ends_at") else None,
        "venue": body.get("venue"),
    }


def broadcast(session: Session, beat_code: str, body: dict[str, Any], officer: str, now: datetime) -> Broadcast:
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
    add_notification(session, spec, now, event_id=None, event_type=f"beat.broadcast.{kind}")
    return record


# --- the inbox -------------------------------------------------------------------------------------


def inbox_page(
    session: Session, subject: str, unread_only: bool, offset: int, limit: int
) -> tuple[list[InboxItem], int]:
    query = select(InboxItem).where(InboxItem.subject == subject)
    if unread_only:
        query = query.where(InboxItem.read_at.is_(None))
    return page_of(session, query, offset, limit, InboxItem.created_at.desc(), InboxItem.id)


def unread_count(session: Session, subject: str) -> int:
    return session.scalar(select(func.count()).where(InboxItem.subject == subject, InboxItem.read_at.is_(None))) or 0


def mark_read(session: Session, subject: str, item_id: str, now: datetime) -> InboxItem:
    item = session.get(InboxItem, item_id)
    if item is None or item.subject != subject:  # someone else's item is simply not there
        raise NotFound("no such inbox item")
    if item.read_at is None:
        item.read_at = now
    return item


def mark_all_read(session: Session, subject: str, now: datetime) -> int:
    result = session.execute(
        update(InboxItem).where(InboxItem.subject == subject, InboxItem.read_at.is_(None)).values(read_at=now)
    )
    return result.rowcount or 0


def inbox_view(item: InboxItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "topic": item.topic,
        "title": item.title,
        "body": item.body,
        "created_at": utc_iso(item.created_at),
        "read_at": utc_iso(item.read_at) if item.read_at else None,
    }


# --- the delivery log ------------------------------------------------------------------------------


def message_page(session: Session, filters: dict[str, Any], offset: int, limit: int) -> tuple[list[Message], int]:
    query = select(Message)
    for name in ("status", "channel", "event_id", "recipient_key", "topic"):
        if filters.get(name):
            query = query.where(getattr(Message, name) == filters[name])
    return page_of(session, query, offset, limit, Message.created_at.desc(), Message.id)


def message_view(message: Message, attempts: list[DeliveryAttempt] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": message.id,
        "source_key": message.source_key,
        "event_id": message.event_id,
        "event_type": message.event_type,
        "recipient_key": message.recipient_key,
        "channel": message.channel,
        "topic": message.topic,
        "template": message.template,
        "language": message.language,
        "urgent": message.urgent,
        "status": message.status,
        "attempts": message.attempts,
        "next_attempt_at": utc_iso(message.next_attempt_at),
        "last_error": message.last_error,
        "held_for_digest": message.held_for_digest,
        "digest_id": message.digest_id,
        "sms_segments": message.sms_segments,
        "created_at": utc_iso(message.created_at),
        "delivered_at": utc_iso(message.delivered_at) if message.delivered_at else None,
    }
    if attempts is not None:
        view["delivery_attempts"] = [
            {
                "number": a.number,
                "started_at": utc_iso(a.started_at),
                "outcome": a.outcome,
                "status_code": a.status_code,
                "error": a.error,
                "next_attempt_at": utc_iso(a.next_attempt_at) if a.next_attempt_at else None,
            }
            for a in attempts
        ]
    return view


def message_with_attempts(session: Session, message_id: str) -> tuple[Message, list[DeliveryAttempt]]:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    attempts = list(
        session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.message_id == message_id).order_by(DeliveryAttempt.id)
        )
    )
    return message, attempts


def retry_message(session: Session, message_id: str, now: datetime) -> Message:
    """Queue a failed message again now, with a fresh budget of attempts (same id: no duplicate)."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"no message {message_id}")
    if message.status not in RETRYABLE:
        raise Conflict(f"only failed messages can be retried; this one is {message.status}")
    message.status = "queued"
    message.attempt_base = message.attempts
    message.next_attempt_at = now
    message.updated_at = now
    return message


def notification_page(session: Session, status: str | None, offset: int, limit: int) -> tuple[list[Notification], int]:
    query = select(Notification)
    if status:
        query = query.where(Notification.status == status)
    return page_of(session, query, offset, limit, Notification.id.desc())


def notification_view(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "source_key": notification.source_key,
        "event_type": notification.event_type,
        "rule": notification.rule,
        "topic": notification.topic,
        "template": notification.template,
        "status": notification.status,
        "attempts": notification.attempts,
        "last_error": notification.last_error,
        "created_at": utc_iso(notification.created_at),
    }
