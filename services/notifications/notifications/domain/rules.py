"""Which event notifies whom, about which topic, with which template.

Pure functions of the event: they name audiences by reference (a concern's
reporter, a beat's officers, an agency, a beat's subscribers), never by address.
The dispatcher looks the people up later, outside any transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class Event(Protocol):
    """What the rules read of an event (a `Event`; no import of it: the envelope's module is not pure)."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def time(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...


# Topics a recipient can switch on or off per channel.
TOPICS = (
    "concern_updates",
    "surveys",
    "new_concerns",
    "overdue",
    "referral_updates",
    "agency_referrals",
    "consent",
    "beat_alerts",
    "meetings",
    "neighbourhood_watch",
)

# Channels people in the directory (or staff) get for a topic unless they say otherwise;
# SMS is always opt-in for them.
DEFAULT_CHANNELS: dict[str, tuple[str, ...]] = {
    "concern_updates": ("email", "inbox"),
    "surveys": ("email", "inbox"),
    "new_concerns": ("email", "inbox"),
    "overdue": ("email", "inbox"),
    "referral_updates": ("inbox",),
    "agency_referrals": ("email", "webhook"),
    "consent": ("email", "webhook"),
    "beat_alerts": ("email", "inbox"),
    "meetings": ("email", "inbox"),
    "neighbourhood_watch": ("email", "inbox"),
}

REPORTER_UPDATES = {
    "beat.concern.acknowledged": "concern_acknowledged",
    "beat.concern.status_changed": "concern_status_changed",
    "beat.concern.resolved": "concern_resolved",
    "beat.concern.closed": "concern_closed",
    "beat.concern.merged": "concern_merged",
}

AGENCY_REFERRAL_TEMPLATES = {
    "beat.referral.sent": ("referral_sent", "sent"),
    "beat.referral.reminder_due": ("referral_reminder", "reminder"),
    "beat.referral.expired": ("referral_expired", "expired"),
}

# Every event type the service consumes, by publishing service.
CONSUMED: dict[str, tuple[str, ...]] = {
    "concerns": (
        "beat.concern.submitted",
        *REPORTER_UPDATES,
        "beat.concern.overdue",
        "beat.meeting.scheduled",
    ),
    "referrals": (*AGENCY_REFERRAL_TEMPLATES, "beat.consent.withdrawn"),
    "surveys": ("beat.survey.invitation_created",),
}


@dataclass(frozen=True)
class NotificationSpec:
    """One audience to tell about one event: becomes a `Notification` row."""

    source_key: str
    rule: str
    topic: str
    template: str
    audience: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)
    urgent: bool = False


def webhook_payload(event: Event) -> dict[str, Any]:
    """What agencies' webhook endpoints receive: the Standard Webhooks payload shape."""
    return {"id": event.id, "type": event.type, "timestamp": event.time, "data": event.data}


def notifications_for(event: Event) -> list[NotificationSpec]:
    """The audiences an event concerns (possibly none)."""
    data = event.data
    context = {"event_type": event.type, **data}
    if event.type in REPORTER_UPDATES:
        return [
            NotificationSpec(
                event.id,
                "reporter",
                "concern_updates",
                REPORTER_UPDATES[event.type],
                {"kind": "reporter", "concern_id": data["concern_id"]},
                context,
            )
        ]
    if event.type == "beat.concern.submitted":
        return _beat_staff(event, "officers", "new_concerns", "concern_new_in_beat", context)
    if event.type == "beat.concern.overdue":
        return _beat_staff(event, "supervisors", "overdue", "concern_overdue", context, urgent=True)
    if event.type == "beat.meeting.scheduled":
        if data["kind"] == "neighbourhood_watch":  # the watch's own meetings: for those who joined it
            audience = {"kind": "subscribers", "beat_code": data["beat_code"], "watch": True}
            return [
                NotificationSpec(event.id, "watch", "neighbourhood_watch", "meeting_announcement", audience, context)
            ]
        return [
            NotificationSpec(
                event.id,
                "subscribers",
                "meetings",
                "meeting_announcement",
                {"kind": "subscribers", "beat_code": data["beat_code"]},
                context,
            )
        ]
    if event.type in AGENCY_REFERRAL_TEMPLATES:
        return _referral(event, context)
    if event.type == "beat.consent.withdrawn":
        return _consent_withdrawn(event, context)
    if event.type == "beat.survey.invitation_created":
        return _survey_invitation(event, context)
    return []


def _beat_staff(
    event: Event, group: str, topic: str, template: str, context: dict[str, Any], urgent: bool = False
) -> list[NotificationSpec]:
    beat_code = event.data.get("beat_code")
    if not beat_code:  # outside every beat: no beat team to tell
        return []
    audience = {"kind": "staff", "beat_code": beat_code, "group": group}
    return [NotificationSpec(event.id, f"beat_{group}", topic, template, audience, context, urgent)]


def _referral(event: Event, context: dict[str, Any]) -> list[NotificationSpec]:
    template, stage = AGENCY_REFERRAL_TEMPLATES[event.type]
    data = event.data
    specs = [
        NotificationSpec(
            event.id,
            "agency",
            "agency_referrals",
            template,
            {"kind": "agency", "agency_id": data["agency_id"]},
            {**context, "webhook": webhook_payload(event)},
        )
    ]
    if data.get("beat_code"):
        specs.append(
            NotificationSpec(
                event.id,
                "beat_officers",
                "referral_updates",
                "referral_officer_update",
                {"kind": "staff", "beat_code": data["beat_code"], "group": "officers"},
                {**context, "stage": stage},
            )
        )
    return specs


def _consent_withdrawn(event: Event, context: dict[str, Any]) -> list[NotificationSpec]:
    # Keyed by the consent, not the event: referrals may publish one event per agency,
    # and each agency must hear about one withdrawal once.
    consent_id = event.data["consent_id"]
    return [
        NotificationSpec(
            f"consent-withdrawn:{consent_id}",
            f"agency:{agency_id}",
            "consent",
            "consent_withdrawn",
            {"kind": "agency", "agency_id": agency_id},
            {**context, "webhook": webhook_payload(event)},
            urgent=True,
        )
        for agency_id in sorted(set(event.data["agency_ids"]))
    ]


def _survey_invitation(event: Event, context: dict[str, Any]) -> list[NotificationSpec]:
    data = event.data
    if data["kind"] == "post_contact" and data.get("concern_id"):
        audience: dict[str, Any] = {"kind": "reporter", "concern_id": data["concern_id"]}
    elif data["kind"] == "wave" and data.get("recipient_ref"):
        audience = {"kind": "directory", "ref": data["recipient_ref"]}
    else:
        return []
    return [NotificationSpec(event.id, "invitee", "surveys", "survey_invitation", audience, context)]


# An officer's broadcast of each kind: its topic (the subscriber's wish) and its template.
# A `watch` message goes to the beat's neighbourhood watch only (its subscribers who joined it).
BROADCASTS = {
    "alert": ("beat_alerts", "beat_alert"),
    "meeting": ("meetings", "meeting_announcement"),
    "watch": ("neighbourhood_watch", "beat_alert"),
}


def broadcast_notification(
    broadcast_id: str, beat_code: str, kind: str, urgent: bool, context: dict[str, Any]
) -> NotificationSpec:
    """An officer's alert or meeting announcement to a beat's subscribers (a watch message: to its watch)."""
    topic, template = BROADCASTS[kind]
    audience = {"kind": "subscribers", "beat_code": beat_code, **({"watch": True} if kind == "watch" else {})}
    return NotificationSpec(broadcast_id, "subscribers", topic, template, audience, context, urgent)
