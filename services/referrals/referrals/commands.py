"""Changing referrals: drafting, consent, the lifecycle, deadlines and retention.

Use cases take a `Context`, the unit of work: the session, the time (`now`), the settings,
who acts, and `emit` (the outbox writer's `add`), so the rows and the events of one use case
are written in one transaction and the same function runs under nameko, in the CLI and in
fast tests with a FrozenClock and recorded events. Reads are in `queries.py`, the rules in `domain/`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.consent import consent_period_problems
from beat_shared.errors import Conflict, InvalidInput
from beat_shared.isotime import parse_iso
from referrals.directory import MatchRequest, get_service, match_services, term_by_code
from referrals.domain.actors import SYSTEM, Actor
from referrals.domain.lifecycle import (
    ACCEPTED,
    CANCELLED,
    CLOSED,
    COMPLETED,
    DECLINED,
    DRAFT,
    EXPIRED,
    IN_PROGRESS,
    SENT,
    check_transition,
    consent_problem,
)
from referrals.models import ConsentRecord, FailedRequest, Referral, ReferralStatusChange
from referrals.queries import CLIENT_FIELDS, consent_facts
from referrals.settings import ReferralSettings

Emit = Callable[..., Any]


@dataclass
class Context:
    session: Session
    now: datetime
    settings: ReferralSettings
    emit: Emit
    actor: Actor = SYSTEM


# --- events -----------------------------------------------------------------------------------


def facts(referral: Referral, now: datetime) -> dict[str, Any]:
    """What every referral event says: ids, codes and statuses, never personal data."""
    return {
        "referral_id": referral.id,
        "agency_id": referral.agency_id,
        "service_id": referral.service_id,
        "need_category": referral.need_category,
        "urgency": referral.urgency,
        "status": referral.status,
        "beat_code": referral.beat_code,
        "concern_id": referral.concern_id,
        "occurred_at": utc_iso(now),
    }


# Drafts are the officer's work in progress: the agency hears of a referral from `sent` on.
# Without the `x-agency-id` header the agency feed (a headers exchange) does not route the event.
NOT_FOR_AGENCIES = frozenset({"beat.referral.created"})


def publish(ctx: Context, event_type: str, referral: Referral, **extra: Any) -> None:
    """One message, routed to the referral's agency by the `x-agency-id` header."""
    if referral.agency_id is None:
        return  # not yet addressed to anyone: nothing an agency could be told
    data = {**facts(referral, ctx.now), **extra}
    headers = {} if event_type in NOT_FOR_AGENCIES else {"x-agency-id": referral.agency_id}
    ctx.emit(event_type, referral.id, data, headers=headers)


def details_url(settings: ReferralSettings, referral: Referral) -> str:
    return f"{settings.public_url}/referrals/{referral.id}"


# --- creating ---------------------------------------------------------------------------------


def _check_need(ctx: Context, need_category: str) -> None:
    if term_by_code(ctx.session, need_category) is None:
        raise InvalidInput("unknown need category", {"need_category": [f"{need_category!r} is not a taxonomy term"]})


def _address(ctx: Context, referral: Referral, service_id: str) -> None:
    service = get_service(ctx.session, service_id)
    if service.status != "active" or not service.accepting_referrals:
        raise InvalidInput(
            "this service does not take referrals now", {"service_id": [f"service status is {service.status}"]}
        )
    referral.service_id = service.id
    referral.agency_id = service.organization.agency_id


def _set_client(referral: Referral, client: dict[str, Any]) -> None:
    for field in CLIENT_FIELDS:
        if field in client:
            setattr(referral, f"client_{field}", client[field])


def create_referral(ctx: Context, data: dict[str, Any]) -> Referral:
    """A draft referral by an officer, addressed to a directory service."""
    _check_need(ctx, data["need_category"])
    referral = Referral(
        id=str(uuid.uuid4()),
        need_category=data["need_category"],
        urgency=data.get("urgency", "routine"),
        status=DRAFT,
        beat_code=data.get("beat_code"),
        concern_id=data.get("concern_id"),
        created_by=ctx.actor.subject,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    _address(ctx, referral, data["service_id"])
    _set_client(referral, data.get("client") or {})
    ctx.session.add(referral)
    _record_change(ctx, referral, None, DRAFT)
    if data.get("consent"):
        record_consent(ctx, referral, data["consent"])
    ctx.session.flush()
    publish(ctx, "beat.referral.created", referral)
    return referral


def create_from_request(ctx: Context, request: dict[str, Any], client: dict[str, Any] | None) -> Referral | None:
    """A draft from concerns' `beat.referral.requested`, addressed to the best match if any.

    Idempotent on the request id. Without a match the draft waits for an officer to
    choose a service (and `beat.referral.created` is published then). A request that can
    never become a referral (its details gone, its consent unusable) is not retried: it is
    recorded and `beat.referral.request_failed` tells concerns why (None is returned).
    """
    existing = ctx.session.scalars(select(Referral).where(Referral.request_id == request["request_id"])).first()
    if existing is not None:
        return existing
    if ctx.session.get(FailedRequest, request["request_id"]) is not None:
        return None
    if client is None:
        return _request_failed(ctx, request, "request_not_found")
    consent = client.get("consent")
    consent_data = _consent_from_concerns(consent) if consent else None
    if consent and (
        consent_data is None or consent_period_problems(consent_data["given_at"], consent_data["valid_until"], ctx.now)
    ):
        return _request_failed(ctx, request, "consent_invalid")
    referral = Referral(
        id=str(uuid.uuid4()),
        request_id=request["request_id"],
        need_category=request["need_category"],
        urgency=request["urgency"],
        status=DRAFT,
        beat_code=request.get("beat_code"),
        concern_id=request.get("concern_id"),
        created_by=request["requested_by"],
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    if term_by_code(ctx.session, request["need_category"]) is not None:
        language = (client or {}).get("language")
        matches = match_services(
            ctx.session,
            MatchRequest(request["need_category"], beat_code=request.get("beat_code"), language=language, limit=1),
            ctx.now,
            ctx.settings.timezone,
        )
        if matches and matches[0].service.accepting_referrals:
            referral.service_id = matches[0].service.id
            referral.agency_id = matches[0].service.organization.agency_id
    _set_client(referral, {field: client.get(field) for field in ("name", "phone", "email", "language")})
    referral.client_notes = client.get("notes")
    ctx.session.add(referral)
    _record_change(ctx, referral, None, DRAFT)
    if consent_data:
        record_consent(ctx, referral, consent_data)
    ctx.session.flush()
    publish(ctx, "beat.referral.created", referral)
    return referral


def _request_failed(ctx: Context, request: dict[str, Any], reason: str) -> None:
    """Record why a request cannot become a referral and tell concerns (ids and reason only)."""
    failure = FailedRequest(
        request_id=request["request_id"], concern_id=request.get("concern_id"), reason=reason, failed_at=ctx.now
    )
    ctx.session.add(failure)
    ctx.emit(
        "beat.referral.request_failed",
        failure.request_id,
        {
            "request_id": failure.request_id,
            "concern_id": failure.concern_id,
            "reason": reason,
            "occurred_at": utc_iso(ctx.now),
        },
    )
    return None


def _consent_from_concerns(consent: dict[str, Any]) -> dict[str, Any] | None:
    """The consent concerns recorded, as `record_consent` takes it; None when its dates are unreadable."""
    try:
        given_at = _moment(consent["given_at"])
        valid_until = _moment(consent["valid_until"]) if consent.get("valid_until") else None
    except (KeyError, TypeError, ValueError):
        return None
    return {
        "given_by": consent.get("given_by"),
        "given_at": given_at,
        "method": consent.get("method") or "verbal",
        "scope": consent.get("scope") or "referral for the need recorded with the concern",
        "valid_until": valid_until,
    }


def _moment(value: Any) -> datetime:
    moment = parse_iso(value if isinstance(value, datetime) else str(value))
    if moment.tzinfo is None:
        raise ValueError("a moment without an offset")
    return moment


def update_draft(ctx: Context, referral: Referral, data: dict[str, Any]) -> Referral:
    """Edit a draft: choose the service, correct the client's details or the urgency."""
    if referral.status != DRAFT:
        raise Conflict(f"only a draft can be edited; this referral is {referral.status}")
    had_agency = referral.agency_id is not None
    if "need_category" in data:
        _check_need(ctx, data["need_category"])
        referral.need_category = data["need_category"]
    if "service_id" in data:
        # Consent names its agency: addressing another agency needs new consent (checked when sending).
        _address(ctx, referral, data["service_id"])
    for field in ("urgency", "beat_code"):
        if field in data:
            setattr(referral, field, data[field])
    _set_client(referral, data.get("client") or {})
    referral.updated_at = ctx.now
    ctx.session.flush()
    if not had_agency and referral.agency_id is not None:
        publish(ctx, "beat.referral.created", referral)
    return referral


# --- consent ----------------------------------------------------------------------------------


def record_consent(ctx: Context, referral: Referral, data: dict[str, Any]) -> ConsentRecord:
    """Record the client's consent to share their details with the referral's agency."""
    if referral.status in CLOSED:
        raise Conflict(f"the referral is {referral.status}; consent can no longer be recorded")
    given_at, valid_until = data["given_at"], data.get("valid_until")
    problems = consent_period_problems(given_at, valid_until, ctx.now, must_be_current=False)
    if problems:
        raise InvalidInput("the consent cannot be recorded as given", problems)
    consent = ConsentRecord(
        id=str(uuid.uuid4()),
        agency_id=referral.agency_id,
        given_by=data["given_by"],
        given_at=given_at,
        method=data["method"],
        scope=data["scope"],
        valid_until=valid_until,
        recorded_by=ctx.actor.subject,
        recorded_at=ctx.now,
    )
    ctx.session.add(consent)
    ctx.session.flush()
    referral.consent_id = consent.id
    referral.consent = consent
    referral.updated_at = ctx.now
    return consent


def withdraw_consent(ctx: Context, consent: ConsentRecord, method: str) -> dict[str, list[str]]:
    """Stop all further sharing; tell each agency that had a referral, once, on its own route.

    Returns the referral ids per agency that was told.
    """
    if consent.withdrawn_at is not None:
        raise Conflict("this consent was already withdrawn")
    consent.withdrawn_at = ctx.now
    consent.withdrawn_by = ctx.actor.subject
    consent.withdrawal_method = method
    referrals = ctx.session.scalars(select(Referral).where(Referral.consent_id == consent.id)).all()
    by_agency: dict[str, list[str]] = {}
    for referral in referrals:
        referral.updated_at = ctx.now
        if referral.agency_id and referral.status != DRAFT:  # agencies never saw drafts
            by_agency.setdefault(referral.agency_id, []).append(referral.id)
    for agency_id, referral_ids in sorted(by_agency.items()):
        ctx.emit(
            "beat.consent.withdrawn",
            consent.id,
            {
                "consent_id": consent.id,
                "referral_ids": sorted(referral_ids),
                "agency_ids": [agency_id],
                "occurred_at": utc_iso(ctx.now),
            },
            headers={"x-agency-id": agency_id},
        )
    return by_agency


# --- moving through the lifecycle -------------------------------------------------------------


def _record_change(ctx: Context, referral: Referral, previous: str | None, target: str) -> None:
    referral.history.append(
        ReferralStatusChange(from_status=previous, to_status=target, changed_by=ctx.actor.subject, changed_at=ctx.now)
    )


def _move(ctx: Context, referral: Referral, target: str) -> str:
    previous = referral.status
    check_transition(previous, target)
    referral.status = target
    referral.updated_at = ctx.now
    if target in CLOSED:
        referral.closed_at = ctx.now
    _record_change(ctx, referral, previous, target)
    return previous


def send(ctx: Context, referral: Referral) -> Referral:
    """Send a draft to its agency; 409 unless consent covers that agency now."""
    check_transition(referral.status, SENT)
    if referral.agency_id is None:
        raise Conflict("choose a service (PATCH the draft with service_id) before sending")
    problem = consent_problem(consent_facts(referral.consent), referral.agency_id, ctx.now)
    if problem is not None:
        raise Conflict(
            f"this referral cannot be sent: {problem}. Record the client's consent to share their details "
            f"with {referral.agency_id} (POST /referrals/{referral.id}/consent) first.",
            {"consent": [problem]},
        )
    _move(ctx, referral, SENT)
    referral.sent_at = ctx.now
    referral.respond_by = ctx.now + ctx.settings.response_time
    publish(
        ctx,
        "beat.referral.sent",
        referral,
        respond_by=utc_iso(referral.respond_by),
        details_url=details_url(ctx.settings, referral),
    )
    return referral


def change_status(
    ctx: Context,
    referral: Referral,
    target: str,
    reason: str | None = None,
    outcome: str | None = None,
    note: str | None = None,
) -> Referral:
    """The agency answers (accepted, declined), starts work (in_progress) or closes it (completed)."""
    if target == DECLINED and not reason:
        raise InvalidInput("a decline needs a reason", {"reason": ["required when declining"]})
    if target == COMPLETED and not outcome:
        raise InvalidInput("completing needs an outcome", {"outcome": ["required when completing"]})
    previous = _move(ctx, referral, target)
    if note is not None:
        referral.note = note
    if target == ACCEPTED:
        referral.accepted_at = ctx.now
        publish(ctx, "beat.referral.accepted", referral)
    elif target == DECLINED:
        referral.decline_reason = reason
        publish(ctx, "beat.referral.declined", referral, reason=reason)
    elif target == IN_PROGRESS:
        publish(ctx, "beat.referral.status_changed", referral, previous_status=previous)
    elif target == COMPLETED:
        referral.outcome = outcome
        publish(ctx, "beat.referral.completed", referral, outcome=outcome)
    else:
        raise InvalidInput(f"an agency cannot set status {target}", {"status": [f"{target} is not allowed here"]})
    return referral


def cancel(ctx: Context, referral: Referral, reason: str) -> Referral:
    _move(ctx, referral, CANCELLED)
    referral.cancel_reason = reason
    publish(ctx, "beat.referral.cancelled", referral)
    return referral


# --- timers -----------------------------------------------------------------------------------


def process_deadlines(ctx: Context) -> dict[str, int]:
    """Remind agencies that have not answered, then expire referrals past their deadline.

    `beat.referral.expired` is the supervisor alert (notifications tells the beat's supervisors).
    """
    expired = reminded = 0
    overdue = ctx.session.scalars(
        select(Referral).where(Referral.status == SENT, Referral.respond_by <= ctx.now).order_by(Referral.respond_by)
    ).all()
    for referral in overdue:
        _move(ctx, referral, EXPIRED)
        publish(ctx, "beat.referral.expired", referral)
        expired += 1
    remind_sent_before = ctx.now - ctx.settings.reminder_after
    due = ctx.session.scalars(
        select(Referral).where(
            Referral.status == SENT,
            Referral.reminded_at.is_(None),
            Referral.sent_at <= remind_sent_before,
            Referral.respond_by > ctx.now,
        )
    ).all()
    for referral in due:
        referral.reminded_at = ctx.now
        assert referral.respond_by is not None
        publish(ctx, "beat.referral.reminder_due", referral, respond_by=utc_iso(referral.respond_by))
        reminded += 1
    return {"reminded": reminded, "expired": expired}


def erase_personal_data(ctx: Context) -> int:
    """Erase client details of referrals closed longer than the retention period.

    The referral rows stay (ids, categories, statuses, times, outcomes) so statistics
    still count them; nothing left can identify the client.
    """
    cutoff = ctx.now - ctx.settings.retention
    referrals = ctx.session.scalars(
        select(Referral).where(
            Referral.status.in_(sorted(CLOSED)),
            Referral.closed_at <= cutoff,
            Referral.personal_data_erased_at.is_(None),
        )
    ).all()
    for referral in referrals:
        for field in CLIENT_FIELDS:
            setattr(referral, f"client_{field}", None)
        referral.note = None
        referral.personal_data_erased_at = ctx.now
        if referral.consent is not None:
            referral.consent.given_by = None
    return len(referrals)
