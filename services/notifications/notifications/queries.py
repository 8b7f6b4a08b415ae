"""Read models of the notifications service: what pages, screens and the API show.

Functions of the session only; they change nothing (the directory entry a signed-in person
reads is made by `commands.recipient_for`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.db import existing, page_of
from beat_shared.errors import NotFound
from beat_shared.rows import fields_of
from notifications.domain.subscribers import is_subscriber
from notifications.domain.tokens import MANAGE, read_subscriber_token
from notifications.models import (
    Broadcast,
    DeliveryAttempt,
    InboxItem,
    Message,
    Notification,
    Preference,
    Recipient,
    Subscription,
)


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
        **fields_of(
            recipient,
            ("ref", "email", "phone", "language", "timezone", "quiet_start", "quiet_end", "digest", "opted_out"),
        ),
    }


def preferences_of(session: Session, recipient: Recipient) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Preference).where(Preference.recipient_id == recipient.id).order_by(Preference.topic, Preference.channel)
    )
    return [{"topic": p.topic, "channel": p.channel, "enabled": p.enabled} for p in rows]


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


def subscriptions_view(session: Session, recipient: Recipient) -> dict[str, list[str]]:
    """A person's beats, and those whose neighbourhood watch they joined."""
    return {"beat_codes": subscriptions_of(session, recipient), "watch_beat_codes": watched_by(session, recipient)}


def beat_subscribers(session: Session, beat_code: str, watch: bool = False) -> list[str]:
    """Opaque references of the residents following a beat (for survey waves), or of its
    neighbourhood watch."""
    return list(session.scalars(_following(select(Recipient.ref), beat_code, watch).order_by(Recipient.id)))


def beat_subscriber_count(session: Session, beat_code: str, watch: bool = False) -> int:
    """How many beat_subscribers there are, counted by the database (a district may have 50,000)."""
    return session.scalar(_following(select(func.count()).select_from(Recipient), beat_code, watch)) or 0


def _following(query: Select[Any], beat_code: str, watch: bool) -> Select[Any]:
    """The confirmed, not opted-out followers of a beat (or of its neighbourhood watch)."""
    return query.join(Subscription, Subscription.recipient_id == Recipient.id).where(
        Subscription.beat_code == beat_code,
        Subscription.confirmed_at.is_not(None),
        Recipient.opted_out.is_(False),
        *([Subscription.watch.is_(True)] if watch else []),
    )


def get_broadcast(session: Session, broadcast_id: str) -> Broadcast:
    """The broadcast an Idempotency-Key made (kept a day; broadcasts are never deleted)."""
    return existing(session, Broadcast, broadcast_id, "broadcast")


def inbox_page(
    session: Session, subject: str, unread_only: bool, offset: int, limit: int
) -> tuple[list[InboxItem], int]:
    query = select(InboxItem).where(InboxItem.subject == subject)
    if unread_only:
        query = query.where(InboxItem.read_at.is_(None))
    return page_of(session, query, offset, limit, InboxItem.created_at.desc(), InboxItem.id)


def unread_count(session: Session, subject: str) -> int:
    return session.scalar(select(func.count()).where(InboxItem.subject == subject, InboxItem.read_at.is_(None))) or 0


def inbox_view(item: InboxItem) -> dict[str, Any]:
    return {
        **fields_of(item, ("id", "topic", "title", "body")),
        "created_at": utc_iso(item.created_at),
        "read_at": utc_iso(item.read_at) if item.read_at else None,
    }


def message_page(session: Session, filters: dict[str, Any], offset: int, limit: int) -> tuple[list[Message], int]:
    query = select(Message)
    for name in ("status", "channel", "event_id", "recipient_key", "topic"):
        if filters.get(name):
            query = query.where(getattr(Message, name) == filters[name])
    return page_of(session, query, offset, limit, Message.created_at.desc(), Message.id)


def message_view(message: Message, attempts: list[DeliveryAttempt] | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        **fields_of(
            message,
            (
                "id",
                "source_key",
                "event_id",
                "event_type",
                "recipient_key",
                "channel",
                "topic",
                "template",
                "language",
                "urgent",
                "status",
                "attempts",
            ),
        ),
        "next_attempt_at": utc_iso(message.next_attempt_at),
        **fields_of(message, ("last_error", "held_for_digest", "digest_id", "sms_segments")),
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
    message = existing(session, Message, message_id, "message")
    attempts = list(
        session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.message_id == message_id).order_by(DeliveryAttempt.id)
        )
    )
    return message, attempts


def notification_page(
    session: Session, filters: dict[str, Any], offset: int, limit: int
) -> tuple[list[Notification], int]:
    query = select(Notification)
    if filters.get("status"):
        query = query.where(Notification.status == filters["status"])
    return page_of(session, query, offset, limit, Notification.id.desc())


def notification_view(notification: Notification) -> dict[str, Any]:
    return {
        **fields_of(
            notification,
            ("id", "source_key", "event_type", "rule", "topic", "template", "status", "attempts", "last_error"),
        ),
        "created_at": utc_iso(notification.created_at),
    }


def recent_deliveries(session: Session, channels: Sequence[str], limit: int = 100) -> list[dict[str, Any]]:
    """The latest `limit` messages on these channels, newest first, each with its delivery attempts
    (the delivery log's view of a message)."""
    messages = list(
        session.scalars(
            select(Message)
            .where(Message.channel.in_(channels))
            .order_by(Message.created_at.desc(), Message.id)
            .limit(limit)
        )
    )
    attempts: dict[str, list[DeliveryAttempt]] = defaultdict(list)
    if messages:
        query = select(DeliveryAttempt).where(DeliveryAttempt.message_id.in_([m.id for m in messages]))
        for attempt in session.scalars(query.order_by(DeliveryAttempt.id)):
            attempts[attempt.message_id].append(attempt)
    return [message_view(message, attempts[message.id]) for message in messages]


def managed_subscriber(session: Session, now: datetime, secret: str, token: str) -> Recipient:
    """The directory entry a manage link stands for; 404 once it is gone, 400 for a forged token."""
    claims = read_subscriber_token(secret, token, MANAGE, now.timestamp())
    return subscriber_by_subject(session, claims["s"])


def subscriber_view(session: Session, recipient: Recipient) -> dict[str, Any]:
    """What a manage link shows: the language of the mails, the beats followed and watched."""
    return {"language": recipient.language, **subscriptions_view(session, recipient)}


def subscriber_by_subject(session: Session, subject: str) -> Recipient:
    """The directory entry of someone following beats without an account; 404 once it is gone."""
    recipient = session.scalar(select(Recipient).where(Recipient.subject == subject))
    if recipient is None or not is_subscriber(subject):
        raise NotFound("these alerts have been stopped")
    return recipient
