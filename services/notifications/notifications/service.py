"""The notifications service: its dependencies, event handlers, dispatcher and RPC, composed with
its endpoint groups (entrypoints only: parse, call a use case or a query, answer)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nameko.dependency_providers import Config

from beat_shared.clock import ClockProvider
from beat_shared.contracts.envelope import CloudEvent
from beat_shared.db import Database
from beat_shared.entrypoints import BeatRpcProxy, rpc
from beat_shared.inbox import event_handler
from beat_shared.outbox import Outbox
from beat_shared.platform import PlatformEndpoints
from beat_shared.ratelimit_provider import AddressLimiter
from beat_shared.service_index import Page
from beat_shared.settings_provider import SettingsProvider
from notifications import commands, queries
from notifications.broadcast_endpoints import BroadcastEndpoints
from notifications.delivery_endpoints import DeliveryEndpoints
from notifications.dependencies import DispatchWakeup, SmtpConnections, dispatch_timer
from notifications.dispatcher import Dispatcher
from notifications.endpoints import RENDERER
from notifications.inbox_endpoints import InboxEndpoints
from notifications.metrics import refresh_status_gauge
from notifications.models import Base, Message
from notifications.people_endpoints import PeopleEndpoints
from notifications.settings import Settings
from notifications.subscriber_endpoints import SubscriberEndpoints
from notifications.suppression_endpoints import SuppressionEndpoints


class NotificationsService(
    PeopleEndpoints,
    InboxEndpoints,
    SubscriberEndpoints,
    BroadcastEndpoints,
    DeliveryEndpoints,
    SuppressionEndpoints,
    PlatformEndpoints,
):
    """E-mail, SMS, signed webhooks and the in-app inbox: who hears about what, and the delivery log."""

    name = "notifications"
    index_pages = (Page("Development outbox: what was sent", "/dev/outbox", development_only=True),)

    db = Database(Base.metadata)
    outbox = Outbox()
    clock = ClockProvider()
    settings = SettingsProvider(Settings)
    concerns = BeatRpcProxy("concerns")
    referrals = BeatRpcProxy("referrals")
    surveys = BeatRpcProxy("surveys")
    wake_dispatcher = DispatchWakeup()
    smtp = SmtpConnections()
    config = Config()
    # Each ask mails a confirmation: counted per client address, so nobody floods an inbox or the relay.
    subscribe_limiter = AddressLimiter(lambda config: Settings.from_config(config).subscribe_rate)

    # --- events: write notifications (no network here; the dispatcher delivers) ---------------

    def _record(self, event: CloudEvent) -> None:
        if commands.record_event(self.db, self.clock.now(), event):
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
        dispatcher = Dispatcher(self.db, self.resolver(), self.settings, now, self._status_changed, RENDERER, self.smtp)
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
