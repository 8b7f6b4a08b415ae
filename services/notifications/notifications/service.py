"""The notifications service's entrypoints (thin: parse, call the domain, answer)."""

from __future__ import annotations

import contextlib
import hmac
import html
import logging
import math
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from weakref import WeakSet

from eventlet.queue import Empty, Full, LightQueue
from eventlet.semaphore import Semaphore
from nameko.containers import WorkerContext
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.rpc import RpcProxy
from werkzeug.wrappers import Request, Response

from beat_shared import idempotency
from beat_shared.clock import ClockProvider
from beat_shared.config import is_production, setting_from
from beat_shared.contracts.envelope import CloudEvent
from beat_shared.db import Database, ExcInfo, settle_unit_of_work
from beat_shared.dev_mail import caught_mail
from beat_shared.entrypoints import TransactionalTimer, rpc, timer
from beat_shared.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from beat_shared.fields import schema_instance
from beat_shared.http import http, json_response, page_body, page_request, read_json
from beat_shared.inbox import event_handler
from beat_shared.outbox import Outbox
from beat_shared.platform import PlatformEndpoints
from beat_shared.ratelimit_provider import AddressLimiter
from beat_shared.roles import ADMINS, OFFICERS
from beat_shared.service_index import Page
from notifications import broadcast_preview, commands, dev_outbox, queries, schemas, subscribers
from notifications.channels.email import SmtpTransport
from notifications.channels.sms import count_segments, keyword
from notifications.channels.webhooks import validate_url
from notifications.dispatcher import Dispatcher
from notifications.domain.preferences import LANGUAGES, language_of, normalise_phone
from notifications.domain.rules import TOPICS
from notifications.metrics import refresh_status_gauge
from notifications.models import IDEMPOTENCY_KEYS, Base, Message
from notifications.rendering import SAMPLE_CONTEXTS, Renderer
from notifications.resolver import ResolutionError, RpcResolver
from notifications.settings import Settings

PEOPLE = ("resident", "officer", "supervisor")
DEV_OUTBOX_CHANNELS = ("sms", "webhook")  # e-mail is read from the mail catcher, as it arrived
RENDERER = Renderer()

log = logging.getLogger(__name__)


class SettingsProvider(DependencyProvider):
    """The service's settings, read once from the container config."""

    def setup(self) -> None:
        self.settings = Settings.from_config(self.container.config)

    def get_dependency(self, worker_ctx: WorkerContext) -> Settings:
        return self.settings


class SmtpConnections(DependencyProvider):
    """One SMTP transport per process: its connections outlive a dispatcher round, so a round
    does not pay the connect, EHLO, STARTTLS, login and QUIT again."""

    def setup(self) -> None:
        self.transport = SmtpTransport(Settings.from_config(self.container.config))

    def stop(self) -> None:
        self.transport.close()

    def get_dependency(self, worker_ctx: WorkerContext) -> SmtpTransport:
        return self.transport


class DispatchTimer(TransactionalTimer):
    """The dispatcher's timer: a round every NOTIFICATIONS_DISPATCH_SECONDS (retries, quiet
    hours, digests), at once when a notification was recorded (`wake`), and again straight
    away while the last round left work behind (a full batch).

    Up to NOTIFICATIONS_DISPATCH_CONCURRENCY rounds run at once: a round spends most of its time
    waiting (RPC for audiences, SMTP, webhooks, commits), and rounds claim different rows (the
    same `FOR UPDATE SKIP LOCKED` claims and expansion lease that keep replicas apart), so a
    second round sends while the first waits.

    Without the wake-up a resident's email waited up to a whole interval after its event
    arrived, and a busy service sent at most one batch per interval (bench/pipeline.py).
    """

    wake_on_arrival = True  # tests that drive rounds themselves switch it off

    def setup(self) -> None:
        settings = Settings.from_config(self.container.config)
        self.interval = settings.dispatch_seconds
        self._wakeups: LightQueue = LightQueue(maxsize=1)
        self._lanes = Semaphore(settings.dispatch_concurrency)
        self._housekept_at = -math.inf

    def wake(self) -> None:
        """Start a round now (or as soon as a lane is free); wake-ups coalesce."""
        if self.wake_on_arrival:
            self._signal()

    def _signal(self) -> None:
        if self._wakeups.qsize() == 0:
            with contextlib.suppress(Full):
                self._wakeups.put_nowait(True)

    def stop(self) -> None:
        self.should_stop.send(True)
        self._signal()
        self.gt.wait()  # the rounds in flight finish: the container waits for its running workers

    def _run(self) -> None:
        while not self.should_stop.ready():
            # A free lane first, then a wake-up: wake-ups while every lane is busy stay one
            # pending round (they coalesce), not one round each.
            self._lanes.acquire()
            with contextlib.suppress(Empty):
                self._wakeups.get(timeout=self.interval)
            if self.should_stop.ready():
                self._lanes.release()
                break
            self.handle_timer_tick()

    def handle_timer_tick(self) -> None:
        # Housekeeping (interrupted sends, digests, disabled endpoints) once per interval: under
        # load a round starts for every few events, and these steps would cost each of them.
        housekeeping = time.monotonic() - self._housekept_at >= self.interval
        if housekeeping:
            self._housekept_at = time.monotonic()
        self.container.spawn_worker(self, (), {"housekeeping": housekeeping}, handle_result=self.handle_result)

    def handle_result(self, worker_ctx: WorkerContext, result: Any, exc_info: ExcInfo) -> tuple[Any, ExcInfo]:
        # As TransactionalTimer, but without nameko's Timer event, which allows one round at a time.
        exc_info = settle_unit_of_work(worker_ctx, exc_info)
        self._lanes.release()
        if exc_info is None and isinstance(result, dict) and result.get("more"):
            self._signal()
        return result, exc_info


dispatch_timer = DispatchTimer.decorator


class DispatchWakeup(DependencyProvider):
    """`self.wake_dispatcher()` asks for a dispatcher round once this worker's transaction
    has committed (nameko calls `worker_result` after the entrypoint settled it)."""

    def setup(self) -> None:
        self._asked: WeakSet[WorkerContext] = WeakSet()

    def get_dependency(self, worker_ctx: WorkerContext) -> Callable[[], None]:
        return partial(self._asked.add, worker_ctx)

    def worker_result(self, worker_ctx: WorkerContext, result: Any = None, exc_info: ExcInfo = None) -> None:
        if worker_ctx in self._asked and exc_info is None:
            for entrypoint in self.container.entrypoints:
                if isinstance(entrypoint, DispatchTimer):
                    entrypoint.wake()

    def worker_teardown(self, worker_ctx: WorkerContext) -> None:
        self._asked.discard(worker_ctx)


JSON_ERROR = {"application/json": {"schema": "Error"}}


class NotificationsService(PlatformEndpoints):
    """E-mail, SMS, signed webhooks and the in-app inbox: who hears about what, and the delivery log."""

    name = "notifications"
    index_pages = (Page("Development outbox: what was sent", "/dev/outbox", development_only=True),)

    db = Database(Base.metadata)
    outbox = Outbox()
    clock = ClockProvider()
    settings = SettingsProvider()
    concerns = RpcProxy("concerns")
    referrals = RpcProxy("referrals")
    surveys = RpcProxy("surveys")
    wake_dispatcher = DispatchWakeup()
    smtp = SmtpConnections()
    config = Config()
    # Each ask mails a confirmation: counted per client address, so nobody floods an inbox or the relay.
    subscribe_limiter = AddressLimiter(lambda config: Settings.from_config(config).subscribe_rate)

    # --- events: write notifications (no network here; the dispatcher delivers) ---------------

    def _record(self, event: CloudEvent) -> None:
        if commands.record_event(self.db, event, self.clock.now()):
            self.wake_dispatcher()

    @event_handler("concerns", "beat.concern.submitted")
    def on_concern_submitted(self, event: CloudEvent) -> None:
        self._record(event)

    @event_handler("concerns", "beat.concern.acknowledged")
    def on_concern_acknowledged(self, event: CloudEvent) -> None:
        self._record(event)

    @event_handler("concerns", "beat.concern.status_changed")
    def on_concern_status_changed(self, event: CloudEvent) -> None:
        self._record(event)

    @event_handler("concerns", "beat.concern.resolved")
    def on_concern_resolved(self, event: CloudEvent) -> None:
        self._record(event)

    @event_handler("concerns", "beat.concern.closed")
    def on_concern_closed(self, event: CloudEvent) -> None:
        self._record(event)

    @event_handler("concerns", "beat.concern.merged")
    def on_concern_merged(self, event: CloudEvent) -> None:
        self._record(event)

    @event_handler("concerns", "beat.concern.overdue")
    def on_concern_overdue(self, event: CloudEvent) -> None:
        self._record(event)

    @event_handler("concerns", "beat.meeting.scheduled")
    def on_meeting_scheduled(self, event: CloudEvent) -> None:
        self._record(event)

    @event_handler("referrals", "beat.referral.sent")
    def on_referral_sent(self, event: CloudEvent) -> None:
        self._record(event)

    @event_handler("referrals", "beat.referral.reminder_due")
    def on_referral_reminder_due(self, event: CloudEvent) -> None:
        self._record(event)

    @event_handler("referrals", "beat.referral.expired")
    def on_referral_expired(self, event: CloudEvent) -> None:
        self._record(event)

    @event_handler("referrals", "beat.consent.withdrawn")
    def on_consent_withdrawn(self, event: CloudEvent) -> None:
        self._record(event)

    @event_handler("surveys", "beat.survey.invitation_created")
    def on_survey_invitation_created(self, event: CloudEvent) -> None:
        self._record(event)

    # --- the dispatcher ------------------------------------------------------------------------

    @dispatch_timer(interval=2)
    def dispatch(self, housekeeping: bool = True) -> dict[str, Any]:
        """One dispatcher round (also callable from tests with a frozen clock)."""
        now = self.clock.now()
        resolver = RpcResolver(self.concerns, self.referrals, self.surveys, self.settings.rpc_timeout)
        dispatcher = Dispatcher(self.db, resolver, self.settings, now, self._status_changed, RENDERER, self.smtp)
        report = dispatcher.run_round(housekeeping)
        refresh_status_gauge(self.db)
        self.db.commit()
        batch = self.settings.batch_size
        return {
            "expanded": report.expanded,
            "claimed": report.claimed,
            "outcomes": dict(report.outcomes),
            "more": report.expanded >= batch or report.claimed >= batch,  # a full batch: go again at once
        }

    def _status_changed(self, message: Message, now: datetime) -> None:
        commands.status_changed(self.outbox.add, message, now)

    # --- RPC -------------------------------------------------------------------------------------

    @rpc(read_only=True)
    def beat_subscribers(self, beat_code: str) -> list[str]:
        """Opaque recipient references of a beat's subscribers (surveys uses them for waves)."""
        return queries.beat_subscribers(self.db, beat_code)

    # --- the signed-in person's own settings ---------------------------------------------------

    @http(
        "GET",
        "/me/contact",
        roles=PEOPLE,
        summary="My contact details and delivery settings",
        response_schema=schemas.ContactView,
        tags=["me"],
    )
    def get_contact(self, request: Request) -> Response:
        principal = request.principal
        recipient = commands.recipient_for(self.db, principal.subject, principal.role, self.clock.now())
        return json_response(queries.recipient_view(recipient))

    @http(
        "PUT",
        "/me/contact",
        roles=PEOPLE,
        summary="Set my contact details, language, quiet hours and digest",
        request_schema=schemas.ContactInput,
        response_schema=schemas.ContactView,
        tags=["me"],
    )
    def put_contact(self, request: Request) -> Response:
        body = read_json(request, schemas.ContactInput)
        principal = request.principal
        recipient = commands.update_contact(self.db, principal.subject, principal.role, body, self.clock.now())
        return json_response(queries.recipient_view(recipient))

    @http(
        "GET",
        "/me/preferences",
        roles=PEOPLE,
        summary="My preferences per topic and channel",
        response_schema=schemas.PreferencesView,
        tags=["me"],
    )
    def get_preferences(self, request: Request) -> Response:
        principal = request.principal
        recipient = commands.recipient_for(self.db, principal.subject, principal.role, self.clock.now())
        return json_response(self._preferences_body(recipient))

    @http(
        "PUT",
        "/me/preferences",
        roles=PEOPLE,
        summary="Switch a topic on or off on a channel (* = all)",
        request_schema=schemas.PreferenceInput,
        response_schema=schemas.PreferencesView,
        tags=["me"],
    )
    def put_preference(self, request: Request) -> Response:
        body = read_json(request, schemas.PreferenceInput)
        principal = request.principal
        recipient = commands.recipient_for(self.db, principal.subject, principal.role, self.clock.now())
        commands.set_preference(self.db, recipient, body["topic"], body["channel"], body["enabled"])
        return json_response(self._preferences_body(recipient))

    def _preferences_body(self, recipient: Any) -> dict[str, Any]:
        return {
            "opted_out": recipient.opted_out,
            "topics": list(TOPICS),
            "preferences": queries.preferences_of(self.db, recipient),
        }

    @http(
        "POST",
        "/me/opt-out",
        roles=PEOPLE,
        summary="Opt out of every notification on every channel",
        response_schema=schemas.ContactView,
        tags=["me"],
    )
    def opt_out(self, request: Request) -> Response:
        principal = request.principal
        recipient = commands.set_opt_out(self.db, principal.subject, principal.role, True, self.clock.now())
        return json_response(queries.recipient_view(recipient))

    @http(
        "DELETE", "/me/opt-out", roles=PEOPLE, summary="Opt back in", response_schema=schemas.ContactView, tags=["me"]
    )
    def opt_in(self, request: Request) -> Response:
        principal = request.principal
        recipient = commands.set_opt_out(self.db, principal.subject, principal.role, False, self.clock.now())
        return json_response(queries.recipient_view(recipient))

    @http(
        "GET",
        "/me/subscriptions",
        roles=PEOPLE,
        summary="Beats whose alerts I follow",
        response_schema=schemas.SubscriptionsView,
        tags=["me"],
    )
    def get_subscriptions(self, request: Request) -> Response:
        principal = request.principal
        recipient = commands.recipient_for(self.db, principal.subject, principal.role, self.clock.now())
        return json_response(_subscriptions(self.db, recipient))

    @http(
        "POST",
        "/me/subscriptions",
        roles=PEOPLE,
        summary="Follow a beat's alerts and meeting announcements",
        request_schema=schemas.SubscriptionInput,
        response_schema=schemas.SubscriptionsView,
        status=201,
        tags=["me"],
        responses={
            "200": {
                "description": "already following this beat",
                "content": {"application/json": {"schema": schemas.SubscriptionsView}},
            }
        },
    )
    def subscribe(self, request: Request) -> Response:
        body = read_json(request, schemas.SubscriptionInput)
        self._require_known_beat(body["beat_code"])
        principal = request.principal
        recipient = commands.recipient_for(self.db, principal.subject, principal.role, self.clock.now())
        created = commands.subscribe(self.db, recipient, body["beat_code"], self.clock.now(), watch=body["watch"])
        return json_response(_subscriptions(self.db, recipient), 201 if created else 200)

    @http(
        "DELETE",
        "/me/subscriptions/<beat_code>",
        roles=PEOPLE,
        summary="Stop following a beat",
        response_schema=schemas.SubscriptionsView,
        tags=["me"],
    )
    def unsubscribe_beat(self, request: Request, beat_code: str) -> Response:
        principal = request.principal
        recipient = commands.recipient_for(self.db, principal.subject, principal.role, self.clock.now())
        commands.unsubscribe_beat(self.db, recipient, beat_code)
        return json_response(_subscriptions(self.db, recipient))

    # --- following a beat without an account (double opt-in) -----------------------------------------

    @http(
        "POST",
        "/subscribers",
        auth="none",
        summary="Follow a beat's alerts by e-mail without an account: a confirmation mail is sent",
        request_schema=schemas.SubscriberInput,
        response_schema=schemas.SubscriberAsked,
        status=202,
        tags=["subscribers"],
        responses=schemas.SUBSCRIBE_LIMIT_RESPONSES,
    )
    def ask_to_subscribe(self, request: Request) -> Response:
        now = self.clock.now()
        self.subscribe_limiter(request.remote_addr, now)
        body = read_json(request, schemas.SubscriberInput)
        self._require_known_beat(body["beat_code"])
        secret = self.settings.signing_secret
        subscribers.ask(self.db, secret, body["email"], body["beat_code"], body["language"], now, body["watch"])
        return json_response({"status": "confirmation_sent"}, 202)

    @http(
        "POST",
        "/subscribers/confirm",
        auth="none",
        summary="Confirm a subscription with the token of the confirmation mail's link",
        request_schema=schemas.ConfirmationInput,
        response_schema=schemas.ConfirmationView,
        tags=["subscribers"],
    )
    def confirm_subscription(self, request: Request) -> Response:
        body = read_json(request, schemas.ConfirmationInput)
        return json_response(
            subscribers.confirm(self.db, self.settings.signing_secret, body["token"], self.clock.now())
        )

    @http(
        "GET",
        "/subscribers/me",
        auth="none",
        summary="The alerts a manage link stands for",
        response_schema=schemas.SubscriberView,
        tags=["subscribers"],
        headers={schemas.SUBSCRIBER_TOKEN_HEADER: "the manage token from a mail's link"},
        responses=schemas.MANAGE_TOKEN_RESPONSES,
    )
    def get_subscriber(self, request: Request) -> Response:
        return json_response(subscribers.view(self.db, self._subscriber(request)))

    @http(
        "PUT",
        "/subscribers/me/language",
        auth="none",
        summary="The language of a subscriber's mails",
        request_schema=schemas.SubscriberLanguageInput,
        response_schema=schemas.SubscriberView,
        tags=["subscribers"],
        headers={schemas.SUBSCRIBER_TOKEN_HEADER: "the manage token from a mail's link"},
        responses=schemas.MANAGE_TOKEN_RESPONSES,
    )
    def set_subscriber_language(self, request: Request) -> Response:
        recipient = self._subscriber(request)
        recipient.language = language_of(read_json(request, schemas.SubscriberLanguageInput)["language"])
        return json_response(subscribers.view(self.db, recipient))

    @http(
        "DELETE",
        "/subscribers/me/beats/<beat_code>",
        auth="none",
        summary="Stop one beat's alerts",
        response_schema=schemas.SubscriberView,
        tags=["subscribers"],
        headers={schemas.SUBSCRIBER_TOKEN_HEADER: "the manage token from a mail's link"},
        responses=schemas.MANAGE_TOKEN_RESPONSES,
    )
    def stop_subscriber_beat(self, request: Request, beat_code: str) -> Response:
        recipient = self._subscriber(request)
        subscribers.stop_beat(self.db, recipient, beat_code)
        return json_response(subscribers.view(self.db, recipient))

    @http(
        "DELETE",
        "/subscribers/me",
        auth="none",
        summary="Stop every alert and forget the address",
        status=204,
        tags=["subscribers"],
        headers={schemas.SUBSCRIBER_TOKEN_HEADER: "the manage token from a mail's link"},
        responses=schemas.MANAGE_TOKEN_RESPONSES,
    )
    def forget_subscriber(self, request: Request) -> Response:
        subscribers.forget(self.db, self._subscriber(request))
        return Response(status=204)

    @timer(interval=3600)
    def forget_unconfirmed_subscribers(self) -> int:
        """Subscriptions never confirmed within a week, and the addresses left with none."""
        return subscribers.forget_unconfirmed(self.db, self.clock.now())

    def _subscriber(self, request: Request) -> Any:
        """The directory entry of the manage token in the request's header (never in its URL)."""
        token = request.headers.get(schemas.SUBSCRIBER_TOKEN_HEADER, "")
        if not token:
            raise Unauthenticated(f"send the manage token of a mail's link in {schemas.SUBSCRIBER_TOKEN_HEADER}")
        return subscribers.managed(self.db, self.settings.signing_secret, token)

    # --- the in-app inbox ----------------------------------------------------------------------

    @http(
        "GET",
        "/inbox",
        roles=PEOPLE,
        summary="My in-app messages, newest first",
        query_schema=schemas.InboxQuery,
        response_schema=schemas.InboxPage,
        tags=["inbox"],
    )
    def inbox(self, request: Request) -> Response:
        page = page_request(request.args)
        unread_only = request.args.get("unread", "").lower() in ("1", "true", "yes")
        items, total = queries.inbox_page(self.db, request.principal.subject, unread_only, page.offset, page.size)
        return json_response(page_body([queries.inbox_view(item) for item in items], total, page))

    @http(
        "GET",
        "/inbox/unread-count",
        roles=PEOPLE,
        summary="How many of my in-app messages are unread",
        response_schema=schemas.UnreadCount,
        tags=["inbox"],
    )
    def inbox_unread(self, request: Request) -> Response:
        return json_response({"unread": queries.unread_count(self.db, request.principal.subject)})

    @http(
        "POST",
        "/inbox/<item_id>/read",
        roles=PEOPLE,
        summary="Mark one in-app message read",
        response_schema=schemas.InboxItemView,
        tags=["inbox"],
    )
    def inbox_mark_read(self, request: Request, item_id: str) -> Response:
        item = commands.mark_read(self.db, request.principal.subject, item_id, self.clock.now())
        return json_response(queries.inbox_view(item))

    @http(
        "POST",
        "/inbox/read-all",
        roles=PEOPLE,
        summary="Mark all my in-app messages read",
        response_schema=schemas.UnreadCount,
        tags=["inbox"],
    )
    def inbox_mark_all_read(self, request: Request) -> Response:
        commands.mark_all_read(self.db, request.principal.subject, self.clock.now())
        return json_response({"unread": 0})

    # --- officers' broadcasts ---------------------------------------------------------------------

    @http(
        "POST",
        "/broadcasts/<beat_code>",
        roles=OFFICERS,
        summary="Send a beat alert or meeting announcement to the beat's subscribers",
        request_schema=schemas.BroadcastInput,
        response_schema=schemas.BroadcastView,
        status=201,
        tags=["broadcasts"],
        headers=idempotency.HEADER_DOC,
        responses=idempotency.RESPONSES_DOC,
    )
    def broadcast(self, request: Request, beat_code: str) -> Response:
        if not schemas.BEAT_CODE.regex.match(beat_code):
            raise InvalidInput("not a beat code", {"beat_code": ["a beat code like RV-01"]})
        body = read_json(request, schemas.BroadcastInput)
        if request.principal.role == "officer":
            self._require_assignment(request.principal.subject, beat_code)
        now = self.clock.now()
        # A retried alert must not reach the beat twice.
        claimed = idempotency.claim_request(self.db, IDEMPOTENCY_KEYS, request, {"beat": beat_code, **body}, now)
        if claimed is not None and claimed.resource_id is not None:
            record, replayed = (
                queries.get_broadcast(self.db, claimed.resource_id),
                {idempotency.REPLAYED_HEADER: "true"},
            )
        else:
            record, replayed = commands.broadcast(self.db, beat_code, body, request.principal.subject, now), {}
            if claimed is not None:
                idempotency.remember(self.db, IDEMPOTENCY_KEYS, claimed, record.id)
        subscribers = len(queries.beat_subscribers(self.db, beat_code, watch=body["kind"] == "watch"))
        return json_response(
            {"id": record.id, "beat_code": beat_code, "kind": record.kind, "subscribers": subscribers}, 201, replayed
        )

    @http(
        "POST",
        "/broadcasts/<beat_code>/preview",
        roles=OFFICERS,
        summary="What a broadcast would say in each language, and how many subscribers it would reach (nothing sent)",
        request_schema=schemas.BroadcastInput,
        response_schema=schemas.BroadcastPreviewView,
        tags=["broadcasts"],
    )
    def preview_broadcast(self, request: Request, beat_code: str) -> Response:
        if not schemas.BEAT_CODE.regex.match(beat_code):
            raise InvalidInput("not a beat code", {"beat_code": ["a beat code like RV-01"]})
        body = read_json(request, schemas.BroadcastInput)
        if request.principal.role == "officer":
            self._require_assignment(request.principal.subject, beat_code)
        subscribers = len(queries.beat_subscribers(self.db, beat_code, watch=body["kind"] == "watch"))
        return json_response(broadcast_preview.preview(RENDERER, beat_code, body, subscribers))

    @timer(interval=3600)
    def forget_idempotency_keys(self) -> int:
        """Broadcasts' Idempotency-Keys are kept a day."""
        return idempotency.forget_expired(self.db, IDEMPOTENCY_KEYS, self.clock.now())

    def _require_known_beat(self, beat_code: str) -> None:
        """Concerns owns the beats. When it cannot say, the subscription is kept: following an
        unknown beat only ever means receiving nothing, and a resident should not be turned away."""
        resolver = RpcResolver(self.concerns, self.referrals, self.surveys, self.settings.rpc_timeout)
        try:
            known = resolver.beat_exists(beat_code)
        except ResolutionError as error:
            log.warning("subscription to %s kept unchecked: %s", beat_code, error)
            return
        if not known:
            raise InvalidInput(f"there is no beat {beat_code}", {"beat_code": ["unknown beat"]})

    def _require_assignment(self, subject: str, beat_code: str) -> None:
        """Officers alert only the subscribers of beats they are assigned to (concerns owns the
        assignments); when concerns cannot say, the broadcast is refused rather than let through."""
        resolver = RpcResolver(self.concerns, self.referrals, self.surveys, self.settings.rpc_timeout)
        try:
            officers = resolver.beat_contacts(beat_code)["officers"]
        except ResolutionError:
            raise PermissionDenied("your assignment to this beat cannot be confirmed right now; try again later")
        if subject not in {officer.get("subject") for officer in officers}:
            raise PermissionDenied(f"only officers of {beat_code} (or supervisors) may broadcast to it")

    # --- the delivery log ----------------------------------------------------------------------------

    @http(
        "GET",
        "/messages",
        roles=("admin", "supervisor"),
        summary="The delivery log, newest first",
        query_schema=schemas.MessageQuery,
        response_schema=schemas.MessagePage,
        tags=["delivery log"],
    )
    def list_messages(self, request: Request) -> Response:
        filters = schemas.MessageQuery().load(request.args.to_dict())
        page = page_request(request.args)
        rows, total = queries.message_page(self.db, filters, page.offset, page.size)
        return json_response(page_body([queries.message_view(row) for row in rows], total, page))

    @http(
        "GET",
        "/messages/<message_id>",
        roles=("admin", "supervisor"),
        summary="One message with its delivery attempts",
        response_schema=schemas.MessageView,
        tags=["delivery log"],
    )
    def get_message(self, request: Request, message_id: str) -> Response:
        message, attempts = queries.message_with_attempts(self.db, message_id)
        return json_response(queries.message_view(message, attempts))

    @http(
        "POST",
        "/messages/<message_id>/retry",
        roles=ADMINS,
        summary="Queue a failed message again (same id: receivers de-duplicate)",
        response_schema=schemas.MessageView,
        tags=["delivery log"],
    )
    def retry_message(self, request: Request, message_id: str) -> Response:
        message = commands.retry_message(self.db, self.clock.now(), self.outbox.add, message_id)
        return json_response(queries.message_view(message))

    @http(
        "GET",
        "/notifications",
        roles=("admin", "supervisor"),
        summary="Notifications (an event's audiences) and whether they were expanded into messages",
        query_schema=schemas.NotificationQuery,
        response_schema=schemas.NotificationPage,
        tags=["delivery log"],
    )
    def list_notifications(self, request: Request) -> Response:
        filters = schemas.NotificationQuery().load(request.args.to_dict())
        page = page_request(request.args)
        rows, total = queries.notification_page(self.db, filters.get("status"), page.offset, page.size)
        return json_response(page_body([queries.notification_view(row) for row in rows], total, page))

    # --- templates -----------------------------------------------------------------------------------

    @http(
        "GET",
        "/templates",
        roles=ADMINS,
        summary="The templates and languages shipped",
        response_schema=schemas.TemplatesView,
        tags=["templates"],
    )
    def list_templates(self, request: Request) -> Response:
        return json_response({"templates": RENDERER.names(), "languages": list(LANGUAGES)})

    @http(
        "POST",
        "/templates/<name>/preview",
        roles=ADMINS,
        summary="Render a template in a language with an example or given context",
        request_schema=schemas.PreviewInput,
        response_schema=schemas.PreviewView,
        tags=["templates"],
    )
    def preview_template(self, request: Request, name: str) -> Response:
        body = schema_instance(schemas.PreviewInput).load(request.get_json(silent=True) or {})
        if not RENDERER.exists(name):
            RENDERER.render(name, "en", {})  # raises NotFound naming the known templates
        context = body["context"] if body.get("context") is not None else SAMPLE_CONTEXTS.get(name, {})
        try:
            rendered = RENDERER.render(name, body["language"], context)
        except Exception as error:
            if type(error).__name__ == "UndefinedError":
                raise InvalidInput("the context lacks a field the template uses", {"context": [str(error)]})
            raise
        segments = count_segments(rendered.sms)
        return json_response(
            {
                "template": name,
                "language": rendered.language,
                "subject": rendered.subject,
                "text": rendered.text,
                "html": rendered.html,
                "sms": rendered.sms,
                "sms_segments": segments.segments,
                "sms_encoding": segments.encoding,
            }
        )

    # --- webhooks and SMS -----------------------------------------------------------------------------

    @http(
        "POST",
        "/webhooks/validate-url",
        roles=("admin", "agency"),
        summary="Check that a webhook URL may be used (https in production, not a private address)",
        request_schema=schemas.WebhookUrlInput,
        response_schema=schemas.WebhookUrlView,
        tags=["webhooks"],
    )
    def validate_webhook_url(self, request: Request) -> Response:
        body = read_json(request, schemas.WebhookUrlInput)
        validate_url(body["url"], self.settings)
        return json_response({"url": body["url"], "allowed": True})

    @http(
        "POST",
        "/sms/inbound",
        auth="none",
        summary="Inbound SMS from the gateway: STOP opts the number out of SMS, START opts back in",
        request_schema=schemas.SmsInboundInput,
        response_schema=schemas.SmsInboundView,
        tags=["sms"],
        responses={
            "401": {"description": "X-Gateway-Token missing or wrong", "content": JSON_ERROR},
            "403": {"description": "inbound SMS is not configured", "content": JSON_ERROR},
        },
    )
    def sms_inbound(self, request: Request) -> Response:
        expected = self.settings.sms_inbound_token
        given = request.headers.get("X-Gateway-Token", "")
        if not expected:
            raise PermissionDenied("inbound SMS is not configured (NOTIFICATIONS_SMS_INBOUND_TOKEN)")
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise Unauthenticated("the gateway token is missing or wrong")
        body = read_json(request, schemas.SmsInboundInput)
        phone = normalise_phone(body["sender"])
        word = keyword(body["text"])
        if word is not None:
            commands.sms_keyword(self.db, self.settings.signing_secret, phone, word, self.clock.now())
        return json_response({"action": word or "ignored"})

    # --- unsubscribe links (List-Unsubscribe) --------------------------------------------------------

    @http(
        "GET", "/unsubscribe/<token>", auth="none", summary="The page an unsubscribe link opens", tags=["unsubscribe"]
    )
    def unsubscribe_page(self, request: Request, token: str) -> Response:
        from notifications.domain.tokens import read_unsubscribe_token

        read_unsubscribe_token(self.settings.signing_secret, token)  # a forged link gets a 400
        safe = html.escape(token, quote=True)
        page = (
            "<!doctype html><html><body><h1>Unsubscribe</h1>"
            f'<form method="post" action="/unsubscribe/{safe}"><button>Stop these messages</button></form>'
            f'<form method="post" action="/unsubscribe/{safe}?all=true"><button>Stop all messages</button></form>'
            "</body></html>"
        )
        return Response(page, status=200, mimetype="text/html")

    @http(
        "POST",
        "/unsubscribe/<token>",
        auth="none",
        summary="One-click unsubscribe (RFC 8058); ?all=true stops every topic",
        response_schema=schemas.UnsubscribeView,
        tags=["unsubscribe"],
    )
    def unsubscribe(self, request: Request, token: str) -> Response:
        everything = request.args.get("all", "").lower() in ("1", "true", "yes")
        result = commands.unsubscribe_by_token(
            self.db, self.settings.signing_secret, token, everything, self.clock.now()
        )
        return json_response(result)

    # --- development ---------------------------------------------------------------------------------

    @http(
        "GET",
        "/dev/outbox",
        auth="none",
        summary="Development only: what was sent, newest first (HTML); 404 in production",
        tags=["development"],
    )
    def dev_outbox_page(self, request: Request) -> Response:
        if is_production(self.config):
            raise NotFound("there is no development outbox in production")
        mails = caught_mail(Path(setting_from(self.config, "BEAT_DEV_MAIL_DIR")))
        deliveries = queries.recent_deliveries(self.db, DEV_OUTBOX_CHANNELS)
        return Response(dev_outbox.render_page(mails, deliveries), mimetype="text/html")


def _subscriptions(session: Any, recipient: Any) -> dict[str, list[str]]:
    """A person's beats, and those whose neighbourhood watch they joined."""
    return {
        "beat_codes": queries.subscriptions_of(session, recipient),
        "watch_beat_codes": queries.watched_by(session, recipient),
    }
