"""Tables of the notifications database (SQLAlchemy 2 typed mappings).

Two stages, so that no network call ever happens inside a write transaction:
an event handler writes `Notification` rows (who should hear about what, as
non-personal references); the dispatcher expands each into `Message` rows, one
per (source key, recipient, channel) — the unique key that makes the effect
exactly-once — and then delivers them, logging each `DeliveryAttempt`.

No contact detail of a resident, officer or agency is stored here except in the
recipient directory (`Recipient`), which people fill in themselves to subscribe.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from beat_shared.db import SerialKey, UtcDateTime, add_platform_tables
from beat_shared.idempotency import add_idempotency_table


def new_id() -> str:
    return str(uuid.uuid4())


CHANNELS = ("email", "sms", "webhook", "inbox")
STATUSES = ("queued", "sending", "delivered", "temporary_failure", "permanent_failure")
NOTIFICATION_STATES = ("pending", "expanded", "failed")


class Base(DeclarativeBase):
    pass


add_platform_tables(Base.metadata)
IDEMPOTENCY_KEYS = add_idempotency_table(Base.metadata)  # broadcasts


class Recipient(Base):
    """A person in our own directory: signed-in residents and staff who set preferences.

    `ref` is the opaque reference other services see (e.g. in survey invitations);
    `subject` is the identity provider's subject of their token.
    """

    __tablename__ = "recipients"

    id: Mapped[SerialKey]
    ref: Mapped[str] = mapped_column(String(36), unique=True, default=new_id)
    subject: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str | None] = mapped_column(String(64))
    quiet_start: Mapped[str | None] = mapped_column(String(5), doc="HH:MM local; non-urgent messages wait")
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False, doc="opt-out of everything")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Subscription(Base):
    """A resident follows a beat's alerts and meeting announcements (signed in, or by e-mail alone)."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("recipient_id", "beat_code", name="uq_subscription"),)

    id: Mapped[SerialKey]
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"), index=True)
    beat_code: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # None while someone who subscribed without an account has not yet followed the link in the
    # confirmation mail (double opt-in); a signed-in person's subscription is confirmed at once.
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Also in the beat's neighbourhood watch: its watch meetings (topic neighbourhood_watch) reach them.
    watch: Mapped[bool] = mapped_column(Boolean, default=False)


class Preference(Base):
    """Whether a recipient wants a topic on a channel; `*` stands for every topic or channel."""

    __tablename__ = "preferences"
    __table_args__ = (UniqueConstraint("recipient_id", "topic", "channel", name="uq_preference"),)

    id: Mapped[SerialKey]
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    enabled: Mapped[bool] = mapped_column(Boolean)


class Suppression(Base):
    """An address that asked not to be contacted (unsubscribe link, SMS STOP).

    Keyed by a keyed hash of the address, so the list holds no readable contact detail
    and covers the address whichever service it came from.
    """

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("address_hash", "channel", "topic", name="uq_suppression"),)

    id: Mapped[SerialKey]
    address_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Notification(Base):
    """Something an audience should hear about, written by an event handler or a broadcast."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("source_key", "rule", name="uq_notification_rule"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
    )

    id: Mapped[SerialKey]
    source_key: Mapped[str] = mapped_column(String(120), doc="the event id (or broadcast id) it answers")
    event_id: Mapped[str | None] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(120))
    rule: Mapped[str] = mapped_column(String(60))
    topic: Mapped[str] = mapped_column(String(40))
    template: Mapped[str] = mapped_column(String(60))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expanded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Message(Base):
    """One delivery to one recipient on one channel; the unit of the delivery log."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("source_key", "recipient_key", "channel", name="uq_message_once"),
        # The claim reads due messages in this order, one status at a time (migration 0006).
        Index("ix_messages_claim", "status", "next_attempt_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), index=True)
    source_key: Mapped[str] = mapped_column(String(120))
    event_id: Mapped[str | None] = mapped_column(String(36), index=True)
    event_type: Mapped[str] = mapped_column(String(120))
    recipient_key: Mapped[str] = mapped_column(String(200), doc="e.g. user:<subject>, reporter:<concern id>")
    channel: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(40))
    template: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(8))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    address_ref: Mapped[dict[str, Any]] = mapped_column(JSON, doc="how to look the address up; never the address")
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempt_base: Mapped[int] = mapped_column(Integer, default=0, doc="attempts before the last manual retry")
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sending_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    held_for_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_id: Mapped[str | None] = mapped_column(String(36), index=True)
    sms_segments: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DeliveryAttempt(Base):
    """One try at delivering a message: when, and what the other side answered."""

    __tablename__ = "delivery_attempts"

    id: Mapped[SerialKey]
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class InboxItem(Base):
    """An in-app message for a signed-in resident or officer."""

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_subject", "subject", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), unique=True)
    subject: Mapped[str] = mapped_column(String(120))
    topic: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Broadcast(Base):
    """A beat alert or meeting announcement an officer sent to a beat's subscribers."""

    __tablename__ = "broadcasts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    beat_code: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    starts_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    venue: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EndpointState(Base):
    """What we learnt about an agency's webhook endpoint: disabled (410) or throttled (429)."""

    __tablename__ = "endpoint_states"

    endpoint_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    throttled_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    disable_reported: Mapped[bool] = mapped_column(Boolean, default=False, doc="referrals was told (RPC)")
