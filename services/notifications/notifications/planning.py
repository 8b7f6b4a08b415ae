"""From a notification to messages: who exactly, on which channels, and when.

`remote_targets` asks the owning services who an audience is (RPC, outside any
transaction); `local_targets` reads our own directory; `plan_messages` applies
preferences, opt-outs, suppressions, quiet hours and digests and plans one `Message`
per (source key, recipient, channel); `insert_new_messages` stores a batch's planned
messages in one statement, leaving out those that already exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from beat_shared.db import insert_all_unless_exist
from notifications.domain.preferences import language_of, quiet_until, wants, zone
from notifications.domain.rules import DEFAULT_CHANNELS
from notifications.domain.subscribers import is_subscriber
from notifications.domain.tokens import address_hash
from notifications.models import Message, Notification, Preference, Recipient, Subscription, Suppression, new_id
from notifications.resolver import Resolver
from notifications.settings import Settings

# A beat's subscribers are planned this many at a time; also the most values one IN (...) is given.
PAGE_SIZE = 500

# Topics that may wait for a daily digest (never a resident's own concern, a survey or an alarm).
DIGESTIBLE = ("new_concerns", "referral_updates", "beat_alerts", "meetings")


@dataclass
class Target:
    """One recipient an audience expanded to, with the channels they can be reached on.

    `addresses` maps channel → address (None for the inbox); addresses are used to
    check suppressions and are never stored. `fixed` targets (a concern's reporter, an
    agency, a webhook endpoint) get exactly the channels listed; people with a subject
    get what their preferences allow.
    """

    recipient_key: str
    address_ref: dict[str, Any]
    addresses: dict[str, str | None]
    language: str = "en"
    subject: str | None = None
    fixed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def remote_targets(notification: Notification, resolver: Resolver) -> list[Target] | None:
    """Targets of audiences other services know; None for audiences in our own directory.

    Raises ResolutionError when a service cannot answer now.
    """
    audience = notification.audience
    kind = audience["kind"]
    if kind == "reporter":
        return _reporter(audience["concern_id"], resolver)
    if kind == "staff":
        contacts = resolver.beat_contacts(audience["beat_code"])
        people = contacts.get(audience["group"]) or []
        return [_staff(person, audience["beat_code"]) for person in people if person.get("subject")]
    if kind == "agency":
        return _agency(audience["agency_id"], notification.topic, resolver)
    return None


def _reporter(concern_id: str, resolver: Resolver) -> list[Target]:
    contact = resolver.reporter_contact(concern_id)
    if not contact:
        return []  # the reporter left no way to reach them
    preference = contact.get("contact_preference") or "email"
    order = {"email": ("email", "sms"), "sms": ("sms", "email")}.get(preference, ())
    channel = next((c for c in order if contact.get("phone" if c == "sms" else "email")), None)
    if channel is None:
        return []
    address = contact["phone"] if channel == "sms" else contact["email"]
    return [
        Target(
            f"reporter:{concern_id}",
            {"kind": "reporter", "concern_id": concern_id},
            {channel: address},
            language_of(contact.get("language")),
            fixed=True,
        )
    ]


def _staff(person: dict[str, Any], beat_code: str) -> Target:
    subject = person["subject"]
    addresses: dict[str, str | None] = {"inbox": None}
    if person.get("email"):
        addresses["email"] = person["email"]
    if person.get("phone"):
        addresses["sms"] = person["phone"]
    return Target(
        f"user:{subject}",
        {"kind": "staff", "beat_code": beat_code, "subject": subject},
        addresses,
        "en",
        subject=subject,
    )


def _agency(agency_id: str, topic: str, resolver: Resolver) -> list[Target]:
    targets = []
    contact = resolver.agency_contact(agency_id)
    if contact and contact.get("email") and "email" in DEFAULT_CHANNELS[topic]:
        targets.append(
            Target(
                f"agency:{agency_id}",
                {"kind": "agency", "agency_id": agency_id},
                {"email": contact["email"]},
                language_of(contact.get("language")),
                fixed=True,
            )
        )
    if "webhook" in DEFAULT_CHANNELS[topic]:
        for endpoint in resolver.webhook_endpoints(agency_id):
            if endpoint.get("active", True):
                targets.append(
                    Target(
                        f"endpoint:{endpoint['endpoint_id']}",
                        {"kind": "endpoint", "agency_id": agency_id, "endpoint_id": endpoint["endpoint_id"]},
                        {"webhook": None},
                        fixed=True,
                    )
                )
    return targets


def directory_target(recipient: Recipient) -> Target:
    # Someone who follows a beat by e-mail alone has no account, so no inbox to read.
    addresses: dict[str, str | None] = {} if is_subscriber(recipient.subject) else {"inbox": None}
    if recipient.email:
        addresses["email"] = recipient.email
    if recipient.phone:
        addresses["sms"] = recipient.phone
    return Target(
        f"user:{recipient.subject}",
        {"kind": "directory", "subject": recipient.subject},
        addresses,
        recipient.language,
        subject=recipient.subject,
    )


def subscriber_pages(session: Session, audience: dict[str, Any], size: int | None = None) -> Iterator[list[Target]]:
    """A beat's confirmed subscribers (or its watch), `size` at a time in recipient order: a
    district of 50,000 is planned and stored page by page, never held in memory whole. The next
    page starts after the last recipient of this one, so a caller may commit between pages."""
    size = size or PAGE_SIZE
    query = (
        select(Recipient)
        .join(Subscription, Subscription.recipient_id == Recipient.id)
        .where(
            Subscription.beat_code == audience["beat_code"],
            Subscription.confirmed_at.is_not(None),
            *([Subscription.watch.is_(True)] if audience.get("watch") else []),
        )
        .order_by(Recipient.id)
        .limit(size)
    )
    after = 0
    while True:
        recipients = list(session.scalars(query.where(Recipient.id > after)))
        if not recipients:
            return
        after = recipients[-1].id  # read now: a commit between pages expires the objects
        yield [directory_target(recipient) for recipient in recipients]
        if len(recipients) < size:
            return


def local_targets(session: Session, notification: Notification) -> list[Target]:
    audience = notification.audience
    if audience["kind"] == "subscribers":
        return [target for page in subscriber_pages(session, audience) for target in page]
    if audience["kind"] == "subscriber":  # the confirmation mail: to the address that asked, and only there
        recipient = session.scalar(select(Recipient).where(Recipient.ref == audience["ref"]))
        if recipient is None or not recipient.email:
            return []
        target = directory_target(recipient)
        return [replace(target, addresses={"email": recipient.email}, fixed=True)]
    if audience["kind"] == "directory":
        recipient = session.scalar(select(Recipient).where(Recipient.ref == audience["ref"]))
        return [directory_target(recipient)] if recipient else []
    raise ValueError(f"unknown audience kind {audience['kind']!r}")


class Suppressions:
    """Which addresses asked not to get a topic (or anything) on a channel, read for a whole
    batch in one query and kept for one round (it was one query per address)."""

    def __init__(self, session: Session, secret: str) -> None:
        self.session = session
        self.secret = secret
        self._known: dict[str, set[tuple[str, str]]] = {}  # address hash -> {(channel, topic)}

    def hash(self, channel: str, address: str) -> str:
        return address_hash(self.secret, channel, address)

    def load(self, hashes: Iterable[str]) -> None:
        wanted = set(hashes) - self._known.keys()
        if not wanted:
            return
        for hashed in wanted:
            self._known[hashed] = set()
        rows = self.session.execute(
            select(Suppression.address_hash, Suppression.channel, Suppression.topic).where(
                Suppression.address_hash.in_(sorted(wanted))
            )
        )
        for hashed, channel, topic in rows:
            self._known[hashed].add((channel, topic))

    def load_targets(self, targets: Iterable[Target]) -> None:
        addresses = ((channel, address) for target in targets for channel, address in target.addresses.items())
        self.load(self.hash(channel, address) for channel, address in addresses if address)

    def blocks(self, hashed: str, channel: str, topic: str) -> bool:
        self.load([hashed])
        found = self._known[hashed]
        return (channel, topic) in found or (channel, "*") in found


@dataclass
class Plan:
    messages: list[Message] = field(default_factory=list)  # not stored yet: see insert_new_messages
    skipped: list[str] = field(default_factory=list)


def plan_messages(
    session: Session,
    notification: Notification,
    targets: list[Target],
    now: datetime,
    settings: Settings,
    suppressions: Suppressions | None = None,
) -> Plan:
    """The messages these targets should get (read within the caller's transaction, not stored)."""
    plan = Plan()
    suppressions = suppressions or Suppressions(session, settings.signing_secret)
    suppressions.load_targets(targets)
    recipients, preferences_of = _directory(session, [target.subject for target in targets if target.subject])
    for target in targets:
        recipient = recipients.get(target.subject) if target.subject else None
        if recipient is not None and recipient.opted_out:
            plan.skipped.append(f"{target.recipient_key}: opted out of everything")
            continue
        preferences = preferences_of.get(recipient.id, []) if recipient is not None else []
        for channel, address in target.addresses.items():
            if not target.fixed and not wants(
                preferences, notification.topic, channel, channel in DEFAULT_CHANNELS.get(notification.topic, ())
            ):
                continue
            if address and suppressions.blocks(suppressions.hash(channel, address), channel, notification.topic):
                plan.skipped.append(f"{target.recipient_key}/{channel}: address unsubscribed")
                continue
            plan.messages.append(_message(notification, target, channel, recipient, now, settings))
    return plan


def _directory(
    session: Session, subjects: list[str]
) -> tuple[dict[str, Recipient], dict[int, list[tuple[str, str, bool]]]]:
    """The directory entries of these subjects and their preferences, read a page at a time (two
    queries per page; it was two per recipient)."""
    recipients: dict[str, Recipient] = {}
    for chunk in _chunks(sorted(set(subjects))):
        recipients.update(
            (found.subject, found) for found in session.scalars(select(Recipient).where(Recipient.subject.in_(chunk)))
        )
    preferences: dict[int, list[tuple[str, str, bool]]] = defaultdict(list)
    wanted = Preference.recipient_id, Preference.topic, Preference.channel, Preference.enabled
    for chunk in _chunks([recipient.id for recipient in recipients.values()]):
        for recipient_id, topic, channel, enabled in session.execute(
            select(*wanted).where(Preference.recipient_id.in_(chunk))
        ):
            preferences[recipient_id].append((topic, channel, enabled))
    return recipients, preferences


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    size = PAGE_SIZE
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _message(
    notification: Notification,
    target: Target,
    channel: str,
    recipient: Recipient | None,
    now: datetime,
    settings: Settings,
) -> Message:
    language = recipient.language if recipient is not None else target.language
    not_before, held = now, False
    if recipient is not None and channel in ("email", "sms") and not notification.urgent:
        if recipient.digest and channel == "email" and notification.topic in DIGESTIBLE:
            held = True
        else:
            tz = zone(recipient.timezone, settings.timezone)
            not_before = quiet_until(now, tz, recipient.quiet_start, recipient.quiet_end) or now
    return Message(
        notification_id=notification.id,
        source_key=notification.source_key,
        event_id=notification.event_id,
        event_type=notification.event_type,
        recipient_key=target.recipient_key,
        channel=channel,
        topic=notification.topic,
        template=notification.template,
        language=language_of(language),
        urgent=notification.urgent,
        address_ref=target.address_ref,
        context=notification.context,
        status="queued",
        attempts=0,
        attempt_base=0,
        next_attempt_at=not_before,
        held_for_digest=held,
        created_at=now,
        updated_at=now,
    )


def insert_new_messages(session: Session, planned: list[Message]) -> list[Message]:
    """Store the planned messages unless one with the same (source key, recipient, channel)
    exists; returns those stored. The unique constraint decides, so a concurrent dispatcher's
    duplicate is simply not added. The message objects stay outside the session (they are
    only read afterwards)."""
    for message in planned:
        message.id = new_id()
    columns = [column.key for column in Message.__table__.columns]
    rows = [{column: getattr(message, column) for column in columns} for message in planned]
    stored = insert_all_unless_exist(session, Message, rows)
    return [message for message in planned if message.id in stored]
