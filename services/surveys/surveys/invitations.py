"""Invitations with one-time tokens: issuing them for waves and after contact, links.

A token is an HMAC of the invitation id under the service's secret, so the link can
be rebuilt when notifications asks for it while only the token's SHA-256 is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.db import insert_unless_exists
from surveys.models import ConcernActivity, Invitation, Survey, Wave

LANGUAGES = ("en", "es")


def token_for(secret: bytes, invitation_id: str) -> str:
    digest = hmac.new(secret, f"invitation:{invitation_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def recipient_key(secret: bytes, wave_id: str, recipient_ref: str) -> str:
    """Lets a wave skip people already invited without keeping who they are after use."""
    return hmac.new(secret, f"recipient:{wave_id}:{recipient_ref}".encode(), hashlib.sha256).hexdigest()


def link_for(public_url: str, token: str) -> str:
    # The token travels in the fragment: browsers never send it to a server or a log.
    return f"{public_url}/respond#{token}"


def invitation_event(invitation: Invitation, now: datetime) -> dict[str, Any]:
    """The data of beat.survey.invitation_created (no personal data: an opaque reference)."""
    return {
        "invitation_id": invitation.id,
        "survey_id": invitation.survey_id,
        "wave_id": invitation.wave_id,
        "kind": invitation.kind,
        "concern_id": invitation.concern_id,
        "recipient_ref": invitation.recipient_ref,
        "beat_code": invitation.beat_code,
        "language": invitation.language,
        "expires_at": utc_iso(invitation.expires_at),
        "occurred_at": utc_iso(now),
    }


def _new_invitation(secret: bytes, **fields: Any) -> Invitation:
    invitation_id = str(uuid.uuid4())
    return Invitation(id=invitation_id, token_hash=token_hash(token_for(secret, invitation_id)), used=False, **fields)


def issue_wave_invitations(
    session: Session,
    wave: Wave,
    recipients: dict[str, list[str]],
    secret: bytes,
    now: datetime,
) -> list[Invitation]:
    """One invitation per beat subscriber not yet invited to this wave."""
    expires_at = max(wave.closes_at, now)
    existing = set(session.scalars(select(Invitation.recipient_key).where(Invitation.wave_id == wave.id)))
    created = []
    for beat_code in wave.beat_codes:
        for ref in recipients.get(beat_code, []):
            key = recipient_key(secret, wave.id, ref)
            if key in existing:
                continue
            existing.add(key)
            invitation = _new_invitation(
                secret,
                survey_id=wave.survey_id,
                wave_id=wave.id,
                kind="wave",
                recipient_ref=ref,
                recipient_key=key,
                beat_code=beat_code,
                language="en",  # notifications knows the subscriber's language and localises
                created_at=now,
                expires_at=expires_at,
            )
            session.add(invitation)
            created.append(invitation)
    session.flush()
    return created


def record_concern_activity(session: Session, data: dict[str, Any], **moments: datetime | None) -> ConcernActivity:
    """Upsert the report card's facts about a concern (events may arrive in any order)."""
    # Locked: the handlers of one concern's events may run at the same time, and only one of them
    # may invite the reporter. The row is made first if missing (one statement that a concurrent
    # first insert cannot make fail), then read under the lock.
    insert_unless_exists(session, ConcernActivity, {"concern_id": data["concern_id"], "follow_up_invited": False})
    activity = session.get(ConcernActivity, data["concern_id"], with_for_update=True, populate_existing=True)
    assert activity is not None
    activity.beat_code = data.get("beat_code") or activity.beat_code
    activity.category_code = data.get("category_code") or activity.category_code
    for name, moment in moments.items():
        if moment is not None and getattr(activity, name) is None:
            setattr(activity, name, moment)
    session.flush()
    return activity


def invite_after_contact(
    session: Session,
    activity: ConcernActivity,
    survey: Survey,
    language: str,
    secret: bytes,
    days: int,
    now: datetime,
) -> Invitation | None:
    """The post-contact invitation for a concern's reporter, once per concern."""
    if activity.follow_up_invited:
        return None
    activity.follow_up_invited = True
    invitation = _new_invitation(
        secret,
        survey_id=survey.id,
        wave_id=None,
        kind="post_contact",
        concern_id=activity.concern_id,
        beat_code=activity.beat_code,
        category_code=activity.category_code,
        language=language if language in LANGUAGES else "en",
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(invitation)
    session.flush()
    return invitation


@dataclass(frozen=True)
class InvitationLink:
    url: str
    expires_at: str


def invitation_link(
    session: Session, invitation_id: str, secret: bytes, public_url: str, now: datetime
) -> InvitationLink | None:
    """The link notifications sends; None for an unknown, used or expired invitation."""
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.used or invitation.expires_at <= now:
        return None
    token = token_for(secret, invitation.id)
    return InvitationLink(link_for(public_url, token), utc_iso(invitation.expires_at))
