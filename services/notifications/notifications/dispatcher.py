"""The dispatcher: expands notifications into messages and delivers them, exactly once in effect.

A message's life: committed as `queued` → claimed as `sending` (committed, with a
lease) → the network call, outside any transaction → `delivered`,
`temporary_failure` (with the next attempt's time) or `permanent_failure`
(committed, with a `DeliveryAttempt` row and a `beat.notification.status_changed`
event in the same transaction).

If the process dies between claim and result, the row stays `sending` until its
lease runs out; the next round then sends it again under the same Message-ID /
webhook-id / SMS reference, which the receiver de-duplicates on — or, for an SMS
gateway that cannot de-duplicate, marks it failed rather than risk a second text.
See docs/decisions/notifications-exactly-once.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from typing import Any

import eventlet
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from beat_shared.db import insert_all_unless_exist
from notifications.channels import Outcome
from notifications.channels.email import Email, SmtpTransport
from notifications.channels.sms import SmsGateway, count_segments
from notifications.channels.webhooks import WebhookRequest, WebhookTransport
from notifications.domain import subscribers
from notifications.domain.preferences import digest_due, valid_email, valid_phone, zone
from notifications.domain.tokens import address_hash, unsubscribe_token
from notifications.metrics import SMS_SEGMENTS, record_send, record_transition
from notifications.models import (
    DeliveryAttempt,
    EndpointState,
    InboxItem,
    Message,
    Notification,
    Recipient,
    new_id,
)
from notifications.planning import (
    Suppressions,
    Target,
    insert_new_messages,
    local_targets,
    plan_messages,
    remote_targets,
    subscriber_pages,
)
from notifications.rendering import Rendered, Renderer
from notifications.resolver import ResolutionError, Resolver
from notifications.settings import Settings

log = logging.getLogger(__name__)

SEND_CONCURRENCY = 10
EXPANSION_LEASE_SECONDS = 30
STOP_HINT = {"en": " Reply STOP to opt out.", "es": " Responda PARAR para darse de baja."}
FOOTER = {
    "en": "You receive this from Beat, {city}'s community policing platform.",
    "es": "Recibe este mensaje de Beat, la plataforma de policía comunitaria de {city}.",
}
UNSUBSCRIBE = {"en": "Unsubscribe", "es": "Darse de baja"}
MANAGE = {"en": "Manage your alerts", "es": "Gestionar sus alertas"}

Publish = Callable[[Message, datetime], None]

# Receivers echo addresses in their errors ("550 <ana@example.org>: no such user"); the
# delivery log must not keep them.
_EMAIL_IN_TEXT = re.compile(r"[^\s<>@\"']+@[^\s<>@\"']+")
_PHONE_IN_TEXT = re.compile(r"\+\d[\d\s().-]{6,}\d|\b\d{10,}\b")


def reporter_concern_ids(references: Iterable[Mapping[str, Any]]) -> list[Any]:
    """The concerns whose reporters these audiences or address references are."""
    return [reference.get("concern_id") for reference in references if reference.get("kind") == "reporter"]


def redact(error: str | None) -> str | None:
    """An error text without email addresses or phone numbers in it, at most 2000 characters."""
    if not error:
        return error
    return _PHONE_IN_TEXT.sub("<number>", _EMAIL_IN_TEXT.sub("<address>", error))[:2000]


def message_key(message: Message) -> str:
    """The stable identity of a message, from (source key, recipient, channel)."""
    raw = f"{message.source_key}|{message.recipient_key}|{message.channel}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def email_message_id(message: Message, domain: str) -> str:
    return f"<{message_key(message)}@{domain}>"


def webhook_id(message: Message) -> str:
    return f"msg_{message_key(message)}"


def retry_delay(attempt: int, key: str, base: float, cap: float) -> float:
    """Seconds before the next try after failed attempt number `attempt` (1-based):
    exponential (times 3) up to `cap`, plus up to 25% jitter, seeded per message and
    attempt so that the schedule is reproducible and retries do not stampede."""
    delay = min(base * 3 ** (attempt - 1), cap)
    jitter = random.Random(f"{key}:{attempt}").random() * 0.25
    return delay * (1 + jitter)


def concern_url(portal: str, concern_id: str, recipient_kind: str | None) -> str:
    """Where a message's reader acts on a concern: police staff on its staff page (queue, steps,
    notes), everyone else (its reporter, subscribers) on its public page."""
    page = "staff/concerns" if recipient_kind == "staff" else "concerns"
    return f"{portal}/{page}/{concern_id}"


# Every link to Beat's site (NOTIFICATIONS_PORTAL_URL) a message carries is made by the functions
# below, so that a test can check each one opens a page of the web service.


def page_links(portal: str, context: dict[str, Any], recipient_kind: str | None) -> dict[str, str]:
    """The links a message's template is given: the pages where its reader acts."""
    links = {}
    if context.get("concern_id"):
        links["concern_url"] = concern_url(portal, context["concern_id"], recipient_kind)
    if context.get("merged_into"):
        links["merged_url"] = f"{portal}/concerns/{context['merged_into']}"
    if context.get("meeting_id"):  # a meeting's page: agenda now, summary and agreed actions after it
        links["meeting_url"] = f"{portal}/meetings/{context['meeting_id']}"
    if recipient_kind == "agency":  # an agency acts on a referral in its inbox on Beat's site
        referral_id = context.get("referral_id")
        links["inbox_url"] = f"{portal}/agency/referrals" + (f"/{referral_id}" if referral_id else "")
    return links


def confirm_url(portal: str, token: str) -> str:
    """A subscriber's confirmation link: its page shows a button (opening it confirms nothing)."""
    return f"{portal}/alerts/confirm/{token}"


def manage_url(portal: str, token: str) -> str:
    """The link in every mail to someone without an account: where they manage their alerts."""
    return f"{portal}/alerts/manage/{token}"


@dataclass
class Prepared:
    """A claimed message made ready to send (address looked up, content rendered)."""

    message: Message
    email: Email | None = None
    sms: tuple[str, str, str] | None = None  # to, body, reference
    webhook: WebhookRequest | None = None
    inbox: Rendered | None = None
    address_hash: str | None = None
    outcome: Outcome | None = None  # decided without sending (e.g. no address any more)
    segments: int | None = None


@dataclass
class RoundReport:
    expanded: int = 0
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Dispatcher:
    """One dispatcher round's work, on one session; commits between steps so that no
    network call (RPC, SMTP, HTTP) happens inside a database transaction."""

    def __init__(
        self,
        session: Session,
        resolver: Resolver,
        settings: Settings,
        now: datetime,
        publish: Publish,
        renderer: Renderer | None = None,
        email: SmtpTransport | None = None,
    ) -> None:
        self.session = session
        self.resolver = resolver
        self.settings = settings
        self.now = now
        self.publish = publish
        self.renderer = renderer or Renderer()
        self._rendered: dict[tuple[str, str, str], Rendered] = {}  # this round's renders
        # The service's transport keeps SMTP connections between rounds; without one the round
        # has its own and closes it when it is done.
        self._owns_email = email is None
        self.email = email or SmtpTransport(settings)
        self.sms = SmsGateway(settings)
        self.webhooks = WebhookTransport(settings)

    # --- the round -----------------------------------------------------------------------

    def run_round(self, housekeeping: bool = True) -> RoundReport:
        """Expand, claim, send and record; with `housekeeping` also reconcile interrupted sends,
        gather digests and report disabled endpoints (the timer asks for that once per interval,
        not in every round a new event started)."""
        report = RoundReport()
        if housekeeping:
            self.reconcile_interrupted()
        report.expanded = self.expand_due()
        if housekeeping:
            self.build_digests()
        claimed = self.claim_due()
        report.claimed = len(claimed)
        if claimed:
            prepared = self._prepare_all(claimed)
            results = self._send_all(prepared)
            for _prepared, outcome in results:
                report.outcomes[outcome.status] += 1
            self.record(results)
        if housekeeping:
            self._report_disabled_endpoints()
            self.email.close_stale()  # a quiet service does not hold connections to the relay
        return report

    def _transition(self, message: Message, status: str) -> None:
        message.status = status
        message.updated_at = self.now
        record_transition(message.channel, status)
        self.publish(message, self.now)

    # --- 1. interrupted sends --------------------------------------------------------------

    def reconcile_interrupted(self) -> int:
        """Messages left `sending` past their lease (the process died mid-send)."""
        session = self.session
        stale = list(
            session.scalars(
                select(Message)
                .where(Message.status == "sending", Message.sending_until < self.now)
                .limit(500)
                .with_for_update(skip_locked=True)  # another round or replica reconciling them has them
            )
        )
        for message in stale:
            if message.attempts - message.attempt_base >= self.settings.max_attempts:
                error = f"interrupted while sending, {message.attempts} attempts spent; giving up"
                self._log_attempt(message, Outcome.permanent(error))
                message.last_error = error
                self._transition(message, "permanent_failure")
            elif message.channel == "sms" and not self.settings.sms_idempotent:
                error = "interrupted while sending; the gateway cannot de-duplicate, so it is not resent"
                self._log_attempt(message, Outcome.permanent(error))
                message.last_error = error
                self._transition(message, "permanent_failure")
            else:
                error = "interrupted while sending; resending under the same id for the receiver to de-duplicate"
                self._log_attempt(message, Outcome.temporary(error), self.now)
                message.last_error = error
                message.next_attempt_at = self.now
                self._transition(message, "temporary_failure")
            message.sending_until = None
        session.commit()
        if stale:
            log.warning("reconciled %d interrupted message(s)", len(stale))
        return len(stale)

    # --- 2. notifications → messages ------------------------------------------------------

    def expand_due(self) -> int:
        session = self.session
        due = list(
            session.scalars(
                select(Notification)
                .where(Notification.status == "pending", Notification.next_attempt_at <= self.now)
                .order_by(Notification.id)
                .limit(self.settings.batch_size)
                .with_for_update(skip_locked=True)  # PostgreSQL: replicas take different rows
            )
        )
        # A short lease: other dispatchers leave these alone while this one asks who the
        # recipients are (no transaction open then); a crash here delays them by the lease.
        for notification in due:
            notification.next_attempt_at = self.now + timedelta(seconds=EXPANSION_LEASE_SECONDS)
        session.commit()
        if not due:
            return 0
        resolved = self._resolve_all(due)
        # As they are now, in one query; the lease keeps other dispatchers off them meanwhile.
        latest = {
            row.id: row
            for row in session.scalars(
                select(Notification)
                .where(Notification.id.in_([notification.id for notification in due]))
                .execution_options(populate_existing=True)
            )
        }
        suppressions = Suppressions(session, self.settings.signing_secret)
        suppressions.load_targets(
            target for targets in resolved.values() if isinstance(targets, list) for target in targets
        )
        expanded, planned = 0, []
        with session.no_autoflush:  # the status changes below go in one batch, not one per read
            for notification in due:
                current = latest.get(notification.id)
                if current is None or current.status != "pending":  # another dispatcher did it
                    continue
                targets = resolved[notification.id]
                if isinstance(targets, Exception):
                    self._expansion_failed(current, str(targets))
                    continue
                if targets is None and current.audience["kind"] == "subscribers":
                    skipped = self._expand_by_pages(current, planned)
                else:
                    if targets is None:
                        targets = local_targets(session, current)
                    plan = plan_messages(session, current, targets, self.now, self.settings, suppressions)
                    planned.extend(plan.messages)
                    skipped = plan.skipped
                current.status = "expanded"
                current.expanded_at = self.now
                current.last_error = "; ".join(skipped)[:2000] or None
                expanded += 1
        self._store(planned)
        session.commit()  # and in one transaction: one commit, not one per notification
        return expanded

    def _store(self, planned: list[Message]) -> None:
        """The planned messages in one statement, each new one announced as queued."""
        for message in insert_new_messages(self.session, planned):
            record_transition(message.channel, "queued")
            self.publish(message, self.now)
        planned.clear()

    def _expand_by_pages(self, notification: Notification, planned: list[Message]) -> list[str]:
        """A beat's subscribers, page by page: each page's messages are stored and committed (with
        what the round planned before them), so memory stays flat however large the beat, and the
        other rounds send the first pages while the rest are planned. Each page extends the lease, so
        no other dispatcher takes the notification meanwhile; after a crash it is planned again from
        the start and the unique key leaves out what was stored."""
        skipped: list[str] = []
        for number, targets in enumerate(subscriber_pages(self.session, notification.audience)):
            suppressions = Suppressions(self.session, self.settings.signing_secret)  # one page's addresses
            plan = plan_messages(self.session, notification, targets, self.now, self.settings, suppressions)
            planned.extend(plan.messages)
            skipped.extend(plan.skipped[: max(0, 50 - len(skipped))])  # the error column keeps 2000 characters
            self._store(planned)
            notification.next_attempt_at = self.now + timedelta(seconds=EXPANSION_LEASE_SECONDS * (number + 2))
            self.session.commit()
            if number >= 3 and number & (number + 1) == 0:  # after pages 4, 8, 16, …: the table doubled
                self._refresh_message_statistics()
        return skipped

    def _refresh_message_statistics(self) -> None:
        """ANALYZE the messages table (PostgreSQL) while a broadcast fills it. With statistics from
        before the broadcast the planner expects a few due messages and sorts all of them for every
        claim (0.27 to 0.37 s a round at 70,000 queued, measured) instead of reading the index in order
        (under 1 ms); autovacuum comes too late on a busy server (not within 8 minutes in the
        benchmark)."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("ANALYZE messages"))
            self.session.commit()

    def _resolve_all(self, due: list[Notification]) -> dict[int, list[Target] | Exception | None]:
        """Ask the owning services about every audience of the batch at once (RPC, no transaction
        open): a round waits for the slowest answer rather than for the sum of them all."""
        self._prefetch_reporters(notification.audience for notification in due)

        def resolve(notification: Notification) -> tuple[int, list[Target] | Exception | None]:
            try:
                return notification.id, remote_targets(notification, self.resolver)
            except (ResolutionError, KeyError, TypeError) as error:
                return notification.id, error

        return dict(eventlet.GreenPool(SEND_CONCURRENCY).imap(resolve, due))

    def _prefetch_reporters(self, references: Iterable[Mapping[str, Any]]) -> None:
        """One question to concerns for the batch's reporters instead of one per message."""
        concern_ids = reporter_concern_ids(references)
        if concern_ids:
            self.resolver.prefetch_reporter_contacts(concern_ids)

    def _expansion_failed(self, notification: Notification, error: str) -> None:
        notification_id = notification.id
        notification.attempts += 1
        notification.last_error = redact(error)
        if notification.attempts >= self.settings.max_attempts:
            notification.status = "failed"
            log.error("notification %s failed for good: %s", notification_id, error)
        else:
            delay = retry_delay(
                notification.attempts,
                notification.source_key,
                self.settings.retry_base_seconds,
                self.settings.retry_max_seconds,
            )
            notification.next_attempt_at = self.now + timedelta(seconds=delay)
            log.warning("notification %s not expanded yet: %s", notification_id, error)

    # --- 3. daily digests -----------------------------------------------------------------

    def build_digests(self) -> int:
        """Gather each recipient's held messages into one digest email once a day."""
        session = self.session
        held = list(
            session.scalars(
                select(Message)
                .where(Message.held_for_digest.is_(True), Message.digest_id.is_(None), Message.status == "queued")
                .order_by(Message.created_at)
                .with_for_update(skip_locked=True)  # another round or replica gathering them has them
            )
        )
        by_recipient: dict[str, list[Message]] = defaultdict(list)
        for message in held:
            by_recipient[message.recipient_key].append(message)
        built = 0
        for recipient_key, messages in by_recipient.items():
            subject = recipient_key.removeprefix("user:")
            recipient = session.scalar(select(Recipient).where(Recipient.subject == subject))
            tz = zone(recipient.timezone if recipient else None, self.settings.timezone)
            day = digest_due(self.now, tz, self.settings.digest_hour)
            if day is None:
                continue
            source_key = f"digest:{day}"
            already = session.scalar(
                select(Message.id).where(
                    Message.source_key == source_key, Message.recipient_key == recipient_key, Message.channel == "email"
                )
            )
            if already is not None:  # today's digest went out; these wait for tomorrow's
                continue
            digest = Message(
                source_key=source_key,
                event_type="beat.notification.digest",
                recipient_key=recipient_key,
                channel="email",
                topic="digest",
                template="digest",
                language=messages[0].language,
                address_ref=messages[0].address_ref,
                context={"count": len(messages)},
                status="queued",
                attempts=0,
                attempt_base=0,
                next_attempt_at=self.now,
                created_at=self.now,
                updated_at=self.now,
            )
            session.add(digest)
            session.flush()
            for message in messages:
                message.digest_id = digest.id
            record_transition("email", "queued")
            self.publish(digest, self.now)
            built += 1
        session.commit()
        return built

    # --- 4. claiming ------------------------------------------------------------------------

    def claim_due(self) -> list[Message]:
        """Mark due messages `sending` (atomically: a row another dispatcher took is skipped)."""
        session = self.session
        batch = self.settings.batch_size
        # One status at a time: each is one range of the index (status, next_attempt_at, created_at),
        # read in order and only as far as the batch. Both at once (IN) made PostgreSQL sort every
        # due message per round: 0.37 s with 75,000 queued after a district-wide broadcast.
        candidates = sorted(
            (
                message
                for status in ("queued", "temporary_failure")
                for message in session.scalars(
                    select(Message)
                    .where(
                        Message.status == status,
                        Message.next_attempt_at <= self.now,
                        Message.held_for_digest.is_(False),
                    )
                    .order_by(Message.next_attempt_at, Message.created_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)  # PostgreSQL: replicas claim different rows, no waiting
                )
            ),
            key=lambda message: (message.next_attempt_at, message.created_at),
        )[:batch]  # the rows read beyond the batch are unlocked when the claim commits
        claimable = [m for m in candidates if m.channel != "webhook" or self._endpoint_open(m)]
        taken = self._mark_sending([message.id for message in claimable])
        claimed = [message for message in claimable if message.id in taken]
        for message in claimed:
            record_transition(message.channel, "sending")
            self.publish(message, self.now)
        self._local_details = self._load_local_details(claimed)
        session.commit()
        return claimed

    def _mark_sending(self, ids: list[str]) -> set[str]:
        """One UPDATE for the batch; the status condition skips a row another dispatcher took
        meanwhile (SQLite has no row locks). Returns the ids taken; RETURNING refreshes their
        objects in the session, so no second read is needed."""
        if not ids:
            return set()
        taken = self.session.scalars(
            update(Message)
            .where(Message.id.in_(ids), Message.status.in_(("queued", "temporary_failure")))
            .values(
                status="sending",
                attempts=Message.attempts + 1,
                sending_until=self.now + timedelta(seconds=self.settings.sending_lease_seconds),
                updated_at=self.now,
            )
            .returning(Message)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        return {message.id for message in taken}

    def _reload(self, ids: set[str] | list[str]) -> dict[str, Message]:
        """These messages as the database has them now, in one query (objects updated in place)."""
        if not ids:
            return {}
        query = select(Message).where(Message.id.in_(ids)).execution_options(populate_existing=True)
        return {message.id: message for message in self.session.scalars(query)}

    def _endpoint_open(self, message: Message) -> bool:
        state = self.session.get(EndpointState, message.address_ref.get("endpoint_id", ""))
        if state is None:
            return True
        if state.disabled_at is not None:
            message.last_error = f"endpoint disabled: {state.disabled_reason}"
            self._transition(message, "permanent_failure")
            return False
        if state.throttled_until is not None and state.throttled_until > self.now:
            message.next_attempt_at = state.throttled_until  # waits, without spending an attempt
            return False
        return True

    def _load_local_details(self, claimed: list[Message]) -> dict[str, Any]:
        """What sending needs from our own tables, read before the transaction ends."""
        subjects = {m.address_ref.get("subject") for m in claimed if m.address_ref.get("subject")}
        found = self.session.scalars(select(Recipient).where(Recipient.subject.in_(subjects))) if subjects else []
        recipients = {r.subject: {"email": r.email, "phone": r.phone, "timezone": r.timezone} for r in found}
        digests: dict[str, list[dict[str, Any]]] = {}
        for message in claimed:
            if message.template == "digest":
                digests[message.id] = [
                    {"template": m.template, "language": m.language, "context": m.context}
                    for m in self.session.scalars(
                        select(Message).where(Message.digest_id == message.id).order_by(Message.created_at)
                    )
                ]
        return {"recipients": recipients, "digests": digests}

    # --- 5. preparing: addresses and content (RPC, no transaction) -----------------------

    def _prepare_all(self, claimed: list[Message]) -> list[Prepared]:
        self._prefetch_reporters(message.address_ref for message in claimed)
        prepared = [self.prepare(message) for message in claimed]
        # A STOP or unsubscribe may have arrived since the message was queued.
        suppressions = Suppressions(self.session, self.settings.signing_secret)
        suppressions.load(item.address_hash for item in prepared if item.address_hash)
        for item in prepared:
            if (
                item.address_hash
                and item.outcome is None
                and suppressions.blocks(item.address_hash, item.message.channel, item.message.topic)
            ):
                item.outcome = Outcome.permanent("the address unsubscribed before sending")
        self.session.commit()
        return prepared

    def prepare(self, message: Message) -> Prepared:
        item = Prepared(message)
        try:
            if message.channel == "webhook":
                self._prepare_webhook(item)
                return item
            address, name, tz = self._address(message)
            context = self._context(message, name, tz)
            if message.channel == "inbox":
                item.inbox = self._render(message.template, message.language, context)
                return item
            if address is None:
                item.outcome = Outcome.permanent(f"the recipient has no {message.channel} address any more")
                return item
            item.address_hash = address_hash(self.settings.signing_secret, message.channel, address)
            if message.channel == "email":
                self._prepare_email(item, address, context)
            elif message.channel == "sms":
                self._prepare_sms(item, address, context)
        except ResolutionError as error:
            item.outcome = Outcome.temporary(str(error))
        except _Gone as gone:
            item.outcome = Outcome.permanent(str(gone))
        except Exception as error:  # a bug in one message must not stall the others
            log.exception("could not prepare message %s", message.id)
            item.outcome = Outcome.permanent(f"could not prepare the message: {type(error).__name__}")
        return item

    def _address(self, message: Message) -> tuple[str | None, str | None, str]:
        """(address for the channel, the person's name if known, their time zone)."""
        ref = message.address_ref
        kind = ref["kind"]
        field_name = "phone" if message.channel == "sms" else "email"
        tz = self.settings.timezone
        local = self._local_details["recipients"].get(ref.get("subject") or "")
        if local and local.get("timezone"):
            tz = local["timezone"]
        if kind == "reporter":
            contact = self.resolver.reporter_contact(ref["concern_id"])
            if not contact:
                raise _Gone("the reporter's contact details are no longer available")
            return contact.get(field_name), contact.get("name"), tz
        if kind == "agency":
            contact = self.resolver.agency_contact(ref["agency_id"])
            if not contact:
                raise _Gone("the agency is no longer known")
            return contact.get(field_name), contact.get("name"), tz
        if kind == "staff":
            if message.channel == "inbox":
                return None, None, tz
            contacts = self.resolver.beat_contacts(ref["beat_code"])
            for person in [*contacts.get("officers", []), *contacts.get("supervisors", [])]:
                if person.get("subject") == ref["subject"]:
                    return person.get(field_name), person.get("name"), tz
            raise _Gone("the officer is no longer on this beat's team")
        if kind == "directory":
            if message.channel == "inbox":
                return None, None, tz
            if local is None:
                raise _Gone("the recipient left the directory")
            return local.get(field_name), None, tz
        raise _Gone(f"unknown address kind {kind!r}")

    def _context(self, message: Message, name: str | None, tz: str) -> dict[str, Any]:
        context = dict(message.context)
        context.update(recipient_name=name, tz=tz)
        portal = self.settings.portal_url
        kind = message.address_ref.get("kind")
        context.update(page_links(portal, context, kind))
        if context.get("concern_id") and kind == "reporter":
            context["public_note"] = self._step_note(context)
        if message.template == "survey_invitation":
            link = self.resolver.invitation_link(context["invitation_id"])
            if not link:
                raise _Gone("the survey invitation is no longer valid")
            context["survey_url"] = link["url"]
            context["expires_at"] = link.get("expires_at") or context.get("expires_at")
        if message.template == "digest":
            context["entries"] = self._digest_entries(message, name, tz)
        if message.template == subscribers.CONFIRMATION:  # signed when sent: no token is stored
            token = subscribers.confirmation_link_token(
                self.settings.signing_secret,
                message.address_ref["subject"],
                context["beat_code"],
                message.created_at,
                bool(context.get("watch")),
            )
            context["confirm_url"] = confirm_url(portal, token)
        return context

    def _step_note(self, context: dict[str, Any]) -> str | None:
        """The officer's public note of the step this message is about. Events carry no notes, so it
        comes from the reporter claim check (asked for this round anyway): the note whose step's time
        is the event's occurred_at. Read when sending, never stored here."""
        contact = self.resolver.reporter_contact(context["concern_id"]) or {}
        notes = contact.get("public_notes") or []
        return next((entry["note"] for entry in notes if entry.get("at") == context.get("occurred_at")), None)

    def _digest_entries(self, message: Message, name: str | None, tz: str) -> list[dict[str, str]]:
        entries = []
        for held in self._local_details["digests"].get(message.id, []):
            held_context = {**held["context"], "recipient_name": name, "tz": tz}
            if held_context.get("concern_id"):
                held_context["concern_url"] = concern_url(
                    self.settings.portal_url, held_context["concern_id"], message.address_ref.get("kind")
                )
            rendered = self.renderer.render(held["template"], message.language, held_context)
            entries.append({"subject": rendered.subject, "text": rendered.sms})
        return entries

    def _rendered_for(self, item: Prepared, valid: bool, problem: str, context: dict[str, Any]) -> Rendered | None:
        """The message rendered for its address, or None with a permanent failure when the address is not valid."""
        if not valid:
            item.outcome = Outcome.permanent(problem)
            return None
        return self._render(item.message.template, item.message.language, context)

    def _render(self, template: str, language: str, context: dict[str, Any]) -> Rendered:
        """Rendered once per round for each distinct context: a broadcast's messages differ only by
        language and time zone, so a round of 50 renders a few times instead of 50."""
        key = (template, language, json.dumps(context, sort_keys=True, default=str))
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._rendered[key] = self.renderer.render(template, language, context)
        return rendered

    def _prepare_email(self, item: Prepared, address: str, context: dict[str, Any]) -> None:
        message = item.message
        rendered = self._rendered_for(item, valid_email(address), "the email address is not valid", context)
        if rendered is None:
            return
        token = unsubscribe_token(self.settings.signing_secret, item.address_hash or "", "email", message.topic)
        unsubscribe_url = f"{self.settings.public_url}/unsubscribe/{token}"
        lang = rendered.language
        from_city = FOOTER[lang].format(city=self.settings.city_name)  # BEAT_CITY_NAME
        text = f"{rendered.text}\n--\n{from_city}\n{UNSUBSCRIBE[lang]}: {unsubscribe_url}\n"
        manage = ""
        subject = message.address_ref.get("subject") or ""
        if subscribers.is_subscriber(subject) and message.template != subscribers.CONFIRMATION:
            # Someone without an account manages their alerts from the link in each mail.
            manage_link = subscribers.manage_token(self.settings.signing_secret, subject)
            link = manage_url(self.settings.portal_url, manage_link)
            text += f"{MANAGE[lang]}: {link}\n"
            manage = f' <a href="{link}">{MANAGE[lang]}</a>'
        footer = f'{escape(from_city)} <a href="{unsubscribe_url}">{UNSUBSCRIBE[lang]}</a>{manage}'
        html = (
            f'<!doctype html><html lang="{lang}"><body>{rendered.html}'
            f'<hr><p style="font-size:small">{footer}</p>'
            "</body></html>"
        )
        item.email = Email(
            to=address,
            subject=rendered.subject,
            text=text,
            html=html,
            message_id=email_message_id(message, self.settings.message_id_domain),
            language=lang,
            unsubscribe_url=unsubscribe_url,
            date=message.created_at,
        )

    def _prepare_sms(self, item: Prepared, address: str, context: dict[str, Any]) -> None:
        message = item.message
        rendered = self._rendered_for(
            item, valid_phone(address), "the phone number is not valid (E.164 expected)", context
        )
        if rendered is None:
            return
        body = rendered.sms + STOP_HINT[rendered.language]
        item.segments = count_segments(body).segments
        item.sms = (address, body, f"sms_{message_key(message)}")

    def _prepare_webhook(self, item: Prepared) -> None:
        message = item.message
        ref = message.address_ref
        endpoint = next(
            (
                e
                for e in self.resolver.webhook_endpoints(ref["agency_id"])
                if e.get("endpoint_id") == ref["endpoint_id"]
            ),
            None,
        )
        if endpoint is None or not endpoint.get("active", True):
            item.outcome = Outcome.permanent("the webhook endpoint is no longer registered or active")
            return
        secrets = tuple(endpoint.get("secrets") or ())
        if not secrets:
            item.outcome = Outcome.permanent("the webhook endpoint has no signing secret")
            return
        body = json.dumps(message.context["webhook"], separators=(",", ":"), sort_keys=True).encode()
        item.webhook = WebhookRequest(endpoint["url"], secrets, webhook_id(message), int(self.now.timestamp()), body)

    # --- 6. sending (network, no transaction) ---------------------------------------------

    def _send_all(self, prepared: list[Prepared]) -> list[tuple[Prepared, Outcome]]:
        pool = eventlet.GreenPool(SEND_CONCURRENCY)
        try:
            return list(pool.imap(lambda item: (item, self._send(item)), prepared))
        finally:
            self.sms.close()
            if self._owns_email:
                self.email.close()
            else:
                self.email.close_stale()

    def _send(self, item: Prepared) -> Outcome:
        if item.outcome is not None:
            return item.outcome
        channel = item.message.channel
        try:
            with record_send(channel):
                if item.email is not None:
                    return self.email.send(item.email)
                if item.sms is not None:
                    return self.sms.send(*item.sms)
                if item.webhook is not None:
                    return self.webhooks.send(item.webhook, self.now)
        except Exception as error:  # whatever happened on the wire, try again later
            log.exception("sending message %s failed unexpectedly", item.message.id)
            return Outcome.temporary(f"unexpected error while sending: {type(error).__name__}")
        if item.inbox is not None:
            return Outcome.delivered()  # written when the result is recorded
        return Outcome.permanent("nothing to send")

    # --- 7. recording -------------------------------------------------------------------------

    def record(self, results: list[tuple[Prepared, Outcome]]) -> None:
        session = self.session
        current = self._reload([item.message.id for item, _ in results])
        inbox_items = []
        for item, outcome in results:
            message = current.get(item.message.id)
            if message is None or message.status != "sending":
                continue  # reconciled meanwhile (lease ran out); that round owns it now
            message.sending_until = None
            if item.segments is not None:
                message.sms_segments = item.segments
                if outcome.status == "delivered":
                    SMS_SEGMENTS.inc(item.segments)
            if outcome.status == "delivered" and item.inbox is not None:
                inbox_items.append(self._inbox_item(message, item.inbox))
            self._apply(message, outcome)
        # One statement for the round's inbox items (and one batch for its message updates, which
        # an INSERT per item in the loop would have flushed one by one); once per message, even
        # when resent.
        insert_all_unless_exist(session, InboxItem, inbox_items)
        session.commit()

    def _apply(self, message: Message, outcome: Outcome) -> None:
        if outcome.status == "delivered":
            message.delivered_at = self.now
            message.last_error = None
            self._log_attempt(message, outcome)
            self._transition(message, "delivered")
            self._settle_digest(message, "delivered")
            return
        if outcome.disable_endpoint:
            self._disable_endpoint(message, outcome.error or "410 Gone")
        if outcome.status == "temporary_failure":
            spent = message.attempts - message.attempt_base
            if spent < self.settings.max_attempts:
                delay = retry_delay(
                    spent, message_key(message), self.settings.retry_base_seconds, self.settings.retry_max_seconds
                )
                if outcome.retry_after is not None:
                    delay = max(delay, outcome.retry_after)
                message.next_attempt_at = self.now + timedelta(seconds=delay)
                if outcome.throttle:
                    self._throttle_endpoint(message, message.next_attempt_at)
                message.last_error = redact(outcome.error)
                self._log_attempt(message, outcome, message.next_attempt_at)
                self._transition(message, "temporary_failure")
                return
            outcome = Outcome.permanent(f"gave up after {spent} attempts: {outcome.error}", outcome.status_code)
        message.last_error = redact(outcome.error)
        self._log_attempt(message, outcome)
        self._transition(message, "permanent_failure")
        self._settle_digest(message, "permanent_failure")

    def _log_attempt(self, message: Message, outcome: Outcome, next_attempt_at: datetime | None = None) -> None:
        self.session.add(
            DeliveryAttempt(
                message_id=message.id,
                number=message.attempts,
                started_at=self.now,
                outcome=outcome.status,
                status_code=outcome.status_code,
                error=redact(outcome.error),
                next_attempt_at=next_attempt_at,
            )
        )

    def _inbox_item(self, message: Message, rendered: Rendered) -> dict[str, Any]:
        return {
            "id": new_id(),
            "message_id": message.id,
            "subject": message.address_ref["subject"],
            "topic": message.topic,
            "title": rendered.subject[:300],
            "body": rendered.text,
            "created_at": self.now,
        }

    def _settle_digest(self, digest: Message, status: str) -> None:
        if digest.template != "digest":
            return
        for held in self.session.scalars(select(Message).where(Message.digest_id == digest.id)):
            held.held_for_digest = False
            if status == "delivered":
                held.delivered_at = self.now
            else:
                held.last_error = f"the digest failed: {digest.last_error}"
            self._transition(held, status)

    def _endpoint_state(self, endpoint_id: str) -> EndpointState:
        state = self.session.get(EndpointState, endpoint_id)
        if state is None:
            state = EndpointState(endpoint_id=endpoint_id, disable_reported=False)
            self.session.add(state)
        return state

    def _disable_endpoint(self, message: Message, reason: str) -> None:
        state = self._endpoint_state(message.address_ref["endpoint_id"])
        if state.disabled_at is None:
            state.disabled_at = self.now
            state.disabled_reason = reason[:300]
            state.disable_reported = False

    def _throttle_endpoint(self, message: Message, until: datetime) -> None:
        state = self._endpoint_state(message.address_ref["endpoint_id"])
        if state.throttled_until is None or state.throttled_until < until:
            state.throttled_until = until

    def _report_disabled_endpoints(self) -> None:
        """Tell referrals about endpoints that answered 410 (after our own commit)."""
        pending = list(
            self.session.scalars(
                select(EndpointState).where(
                    EndpointState.disabled_at.is_not(None), EndpointState.disable_reported.is_(False)
                )
            )
        )
        self.session.commit()
        for state in pending:
            try:
                self.resolver.disable_webhook(state.endpoint_id, state.disabled_reason or "410 Gone")
            except ResolutionError as error:
                log.warning("could not report disabled endpoint %s yet: %s", state.endpoint_id, error)
                continue
            self.session.execute(
                update(EndpointState)
                .where(EndpointState.endpoint_id == state.endpoint_id)
                .values(disable_reported=True)
            )
            self.session.commit()


class _Gone(Exception):
    """The recipient cannot be reached any more: a permanent failure, not a retry."""
