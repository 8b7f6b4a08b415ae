"""How a concern, beat or meeting looks to each audience.

Three views of a concern: `staff` (officers of its beat, supervisors, admins: everything),
`resident` (the reporter, by bearer token or receipt token: their own details, public notes),
`public` (anyone: no personal data, location rounded to ~100 m, public notes only).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from beat_shared.clock import utc_iso
from beat_shared.rows import fields_of
from concerns import models
from concerns.domain.geo import public_point
from concerns.domain.privacy import mask_contact_details
from concerns.domain.translations import SOURCE_LANGUAGE, translated
from concerns.domain.workflow import open311_status, status_label


def _iso(moment: Any) -> str | None:
    return utc_iso(moment) if moment is not None else None


def update_view(update: models.ConcernUpdate, internal: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": update.to_status,
        "previous_status": update.from_status,
        "at": _iso(update.at),
        "public_note": update.public_note,
    }
    if internal:
        body |= {"by": update.actor_subject, "by_role": update.actor_role, "internal_note": update.internal_note}
    return body


def _common(concern: models.PublicConcern, category: models.Category, language: str = "en") -> dict[str, Any]:
    return {
        "id": concern.id,
        "category": concern.category_code,
        "category_name": category.name,
        "status": concern.status,
        "status_label": status_label(concern.status, language),
        "open311_status": open311_status(concern.status),
        **fields_of(concern, ("beat_code", "outside_beats", "supporters", "merged_into")),
        "submitted_at": _iso(concern.submitted_at),
        "updated_at": _iso(concern.updated_at),
        "acknowledged_at": _iso(concern.acknowledged_at),
        "ended_at": _iso(concern.ended_at),
        "media_url": concern.media_url,
    }


def _private(concern: models.Concern, category: models.Category, language: str) -> dict[str, Any]:
    """What staff and the reporter both see: the concern as it was written, and who wrote it."""
    return {
        **_common(concern, category, language),
        "description": concern.description,
        "location": {"lat": concern.lat, "long": concern.long, "address": concern.address},
        "attributes": concern.attributes,
        "language": concern.language,
        "anonymous": concern.anonymous,
        "reporter": _reporter(concern),
        "version": concern.version,
        "acknowledge_by": _iso(concern.acknowledge_by),
    }


def concern_staff(
    concern: models.Concern, category: models.Category, updates: Iterable[models.ConcernUpdate]
) -> dict[str, Any]:
    return {
        **_private(concern, category, SOURCE_LANGUAGE),
        "address_id": concern.address_id,
        "source": concern.source,
        "overdue": concern.overdue_at is not None and concern.acknowledged_at is None,
        "overdue_at": _iso(concern.overdue_at),
        "updates": [update_view(update, internal=True) for update in updates],
    }


def _referral_request(request: models.ReferralRequest) -> dict[str, Any]:
    return {"request_id": request.id, "need_category": request.need_category, "urgency": request.urgency}


def referral_request_view(request: models.ReferralRequest) -> dict[str, Any]:
    """An officer's referral request as staff see it on the concern: where it stands, not who it is for."""
    return {
        **_referral_request(request),
        "requested_by": request.requested_by,
        "requested_at": _iso(request.created_at),
        "state": request.state,
        "failure_reason": request.failure_reason,
        "failed_at": _iso(request.failed_at),
    }


def referral_request_made(request: models.ReferralRequest) -> dict[str, Any]:
    """The answer to the officer who made a referral request."""
    return {
        **_referral_request(request),
        "concern_id": request.concern_id,
        "beat_code": request.beat_code,
        "created_at": _iso(request.created_at),
    }


def referral_client(request: models.ReferralRequest) -> dict[str, Any]:
    """Whom a referral request is for and their consent, as referrals asks for it (RPC)."""
    return {
        "request_id": request.id,
        "concern_id": request.concern_id,
        "name": request.client_name,
        "phone": request.client_phone,
        "email": request.client_email,
        "language": request.client_language,
        "notes": request.notes,
        "consent": {
            "given_by": request.consent_given_by,
            "given_at": _iso(request.consent_given_at),
            "method": request.consent_method,
            "scope": request.consent_scope,
            "valid_until": _iso(request.consent_valid_until),
        },
    }


def concern_resident(
    concern: models.Concern, category: models.Category, updates: Iterable[models.ConcernUpdate]
) -> dict[str, Any]:
    """The reporter's view, in the language they wrote in."""
    return {
        **_private(concern, category, concern.language),
        "updates": [update_view(update) for update in updates if update.public_note or update.from_status is None],
    }


def concern_public(
    concern: models.PublicConcern, category: models.Category, updates: Iterable[models.ConcernUpdate] = ()
) -> dict[str, Any]:
    lat, long = public_point(concern.lat, concern.long)
    return {
        **_common(concern, category),
        "description": mask_contact_details(concern.description),
        "location": {"lat": lat, "long": long, "precision_metres": 100 if lat is not None else None},
        "updates": [update_view(update) for update in updates if update.public_note],
    }


def _reporter(concern: models.Concern) -> dict[str, Any]:
    return {
        "subject": concern.reporter_subject,
        "name": concern.reporter_name,
        "email": concern.reporter_email,
        "phone": concern.reporter_phone,
        "contact_preference": concern.contact_preference,
        "device_id": concern.device_id,
        "account_id": concern.account_id,
    }


def public_feature(concern: models.Concern, category: models.Category) -> dict[str, Any]:
    """A GeoJSON point feature for the public map (rounded location, no personal data)."""
    lat, long = public_point(concern.lat, concern.long)
    return {
        "type": "Feature",
        "id": concern.id,
        "geometry": {"type": "Point", "coordinates": [long, lat]},
        "properties": {
            "category": concern.category_code,
            "category_name": category.name,
            "status": concern.status,
            "open311_status": open311_status(concern.status),
            "beat_code": concern.beat_code,
            "supporters": concern.supporters,
            "submitted_at": _iso(concern.submitted_at),
        },
    }


def category_view(category: models.Category, language: str = SOURCE_LANGUAGE) -> dict[str, Any]:
    """The category in `language` (its translation laid over the English), with every translation."""
    view = {
        **fields_of(category, ("code", "name", "description", "group", "keywords")),
        "attributes": sorted(category.attributes, key=lambda attribute: attribute["order"]),
        "acknowledge_hours": category.acknowledge_hours,
        "active": category.active,
        "translations": category.translations or {},
    }
    return translated(view, category.translations or {}, language)


def officer_public(officer: models.Officer) -> dict[str, Any]:
    """The partner profile residents see on a beat page (work contact details only)."""
    return {
        **fields_of(officer, ("subject", "name", "title", "role", "photo_url", "email", "phone", "bio")),
    }


def beat_view(beat: models.Beat, with_boundary: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        **fields_of(beat, ("code", "name", "neighbourhood", "contact_email", "contact_phone")),
        "bbox": [beat.min_long, beat.min_lat, beat.max_long, beat.max_lat],
    }
    if with_boundary:
        body["boundary"] = beat.boundary
    return body


def beat_feature(beat: models.Beat) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": beat.code,
        "geometry": beat.boundary,
        "properties": {"code": beat.code, "name": beat.name, "neighbourhood": beat.neighbourhood},
    }


def meeting_view(meeting: models.Meeting, actions: Iterable[models.AgreedAction] = ()) -> dict[str, Any]:
    return {
        **fields_of(meeting, ("id", "beat_code", "kind", "title", "description", "venue")),
        "starts_at": _iso(meeting.starts_at),
        "ends_at": _iso(meeting.ends_at),
        **fields_of(meeting, ("status", "agenda", "attendees", "summary")),
        "concluded_at": _iso(meeting.concluded_at),
        "actions": [action_view(action) for action in actions],
    }


def action_view(action: models.AgreedAction) -> dict[str, Any]:
    return {
        **fields_of(action, ("id", "meeting_id", "beat_code", "description", "owner")),
        "due_date": action.due_date.isoformat(),
        "status": action.status,
        "concern_ids": action.concern_ids,
        "completed_at": _iso(action.completed_at),
        "problem_id": action.problem_id,  # the problem whose response plan it belongs to
    }


def priority_view(priority: models.BeatPriority) -> dict[str, Any]:
    return {
        **fields_of(priority, ("rank", "title", "description", "period", "concern_ids", "meeting_id")),
        "agreed_at": _iso(priority.agreed_at),
    }
