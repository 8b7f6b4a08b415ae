"""Following a beat without an account: by e-mail, confirmed from the mail (double opt-in), managed
and stopped from the link in every mail.

Such a subscriber is a directory entry (`Recipient`) whose subject is `email:<keyed hash of the
address>`: the same address always finds the same entry, and nothing outside this table can read
the address from the subject. Their subscription waits (`confirmed_at` empty) until the link in the
confirmation mail is followed; unconfirmed ones are forgotten after CONFIRM_DAYS. The links carry
signed tokens (`tokens.subscriber_token`); the pages send them back in a body or a header, never in
a URL of the API.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from beat_shared.errors import InvalidInput, NotFound
from notifications.commands import add_notification, recipient_for
from notifications.domain.preferences import language_of, valid_email
from notifications.domain.rules import NotificationSpec
from notifications.domain.tokens import CONFIRM, MANAGE, address_hash, read_subscriber_token, subscriber_token
from notifications.models import Preference, Recipient, Subscription
from notifications.queries import subscriptions_of, subscriptions_view

SUBJECT_PREFIX = "email:"
CONFIRM_DAYS = 7  # a confirmation link works this long; unconfirmed subscriptions are then forgotten
CONFIRMATION = "subscriber_confirmation"  # the rule, topic stem and template of the confirmation mail


def subject_of(secret: str, email: str) -> str:
    return SUBJECT_PREFIX + address_hash(secret, "email", email)[:40]


def is_subscriber(subject: str) -> bool:
    return subject.startswith(SUBJECT_PREFIX)


def ask(
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


def confirmation_link_token(secret: str, subject: str, beat_code: str, asked_at: datetime, watch: bool) -> str:
    expires = int((asked_at + timedelta(days=CONFIRM_DAYS)).timestamp())
    return subscriber_token(secret, CONFIRM, subject, beat_code, expires, watch)


def manage_token(secret: str, subject: str) -> str:
    return subscriber_token(secret, MANAGE, subject)


def confirm(session: Session, now: datetime, secret: str, token: str) -> dict[str, Any]:
    """Follow the confirmation link: the subscription starts (again is fine). Answers the beat and
    the token that manages this address's alerts."""
    claims = read_subscriber_token(secret, token, CONFIRM, now.timestamp())
    recipient = _recipient(session, claims["s"])
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


def managed(session: Session, secret: str, token: str) -> Recipient:
    """The directory entry a manage link stands for; 404 once it is gone."""
    claims = read_subscriber_token(secret, token, MANAGE, time.time())
    return _recipient(session, claims["s"])


def view(session: Session, recipient: Recipient) -> dict[str, Any]:
    return {"language": recipient.language, **subscriptions_view(session, recipient)}


def set_language(session: Session, now: datetime, recipient: Recipient, language: str) -> None:
    """The language of a subscriber's mails (one Beat writes in; English otherwise)."""
    recipient.language, recipient.updated_at = language_of(language), now


def stop_beat(session: Session, recipient: Recipient, beat_code: str) -> None:
    """Stop one beat's alerts; a beat already stopped is fine (a second click, an old mail)."""
    session.execute(
        delete(Subscription).where(Subscription.recipient_id == recipient.id, Subscription.beat_code == beat_code)
    )


def forget(session: Session, recipient: Recipient) -> None:
    """Stop everything and forget the address (explicit deletes: SQLite does not cascade)."""
    session.execute(delete(Subscription).where(Subscription.recipient_id == recipient.id))
    session.execute(delete(Preference).where(Preference.recipient_id == recipient.id))
    session.delete(recipient)


def forget_unconfirmed(session: Session, now: datetime) -> int:
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


def _recipient(session: Session, subject: str) -> Recipient:
    recipient = session.scalar(select(Recipient).where(Recipient.subject == subject))
    if recipient is None or not is_subscriber(subject):
        raise NotFound("these alerts have been stopped")
    return recipient
