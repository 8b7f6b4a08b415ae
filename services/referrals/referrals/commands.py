"""Changing referrals: drafting, consent, the lifecycle, deadlines and retention.

Use cases take the unit of work first, as in every service: the session, the settings where
they need them, the time (`now`) and `emit` (the outbox writer's `add`), then who acts. The rows
and the events of one use case are written in one transaction, and the same function runs under
nameko, in the CLI and in fast tests with a FrozenClock and recorded events. Reads are in
`queries.py`, the rules in `domain/`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.consent import consent_period_problems
from beat_shared.errors import Conflict, InvalidInput
from beat_shared.isotime import parse_iso
from beat_shared.rows import Emit, assign_fields, fields_of
from referrals.directory import MatchRequest, get_service, match_services, term_by_code
from referrals.domain import lifecycle
from referrals.domain.actors import SYSTEM, Actor
from referrals.domain.lifecycle import CLOSED, DRAFT, SENT, check_transition, consent_problem
from referrals.models import ConsentRecord, FailedRequest, Referral, ReferralStatusChange
from referrals.queries import CLIENT_FIELDS, consent_facts
from referrals.settings import ReferralSettings

# --- events -----------------------------------------------------------------------------------

# What every referral event says besides its id: codes and statuses, never personal data.
FACTS = ("agency_id", "service_id", "need_category", "urgency", "status", "beat_code", "concern_id")


def facts(referral: Referral, now: datetime) -> dict[str, Any]:
    return {**fields_of(referral, FACTS, referral_id="id"), "occurred_at": utc_iso(now)}


# Drafts are the officer's work in progress: the agency hears of a referral from `sent` on.
# Without the `x-agency-id` header the agency feed (a headers exchange) does not route the event.
NOT_FOR_AGENCIES = frozenset({"beat.referral.created"})


def publish(now: datetime, emit: Emit, event_type: str, referral: Referral, **extra: Any) -> None:
    """One message, routed to the referral's agency by the `x-agency-id` header."""
    if referral.agency_id is None:
        return  # not yet addressed to anyone: nothing an agency could be told
    data = {**facts(referral, now), **extra}
    headers = {} if event_type in NOT_FOR_AGENCIES else {"x-agency-id": referral.agency_id}
    emit(event_type, referral.id, data, headers=headers)


def details_url(settings: ReferralSettings, referral: Referral) -> str:
    return f"{settings.public_url}/referrals/{referral.id}"


# --- creating ---------------------------------------------------------------------------------


def _check_need(session: Session, need_category: str) -> None:
    if term_by_code(session, need_category) is None:
        raise InvalidInput("unknown need category", {"need_category": [f"{need_category!r} is not a taxonomy term"]})


def _address(session: Session, referral: Referral, service_id: str) -> None:
    service = get_service(session, service_id)
    if service.status != "active" or not service.accepting_referrals:
        raise InvalidInput(
            "this service does not take referrals now", {"service_id": [f"service status is {service.status}"]}
        )
    referral.service_id = service.id
    referral.agency_id = service.organization.agency_id


def _set_client(referral: Referral, client: dict[str, Any]) -> None:
    assign_fields(referral, client, CLIENT_FIELDS, to=lambda field: f"client_{field}")


def create_referral(session: Session, now: datetime, emit: Emit, actor: Actor, data: dict[str, Any]) -> Referral:
    """A draft referral by an officer, addressed to a directory service."""
    _check_need(session, data["need_category"])
    referral = Referral(
        id=str(uuid.uuid4()),
        need_category=data["need_category"],
        urgency=data.get("urgency", "routine"),
        status=DRAFT,
        beat_code=data.get("beat_code"),
        concern_id=data.get("concern_id"),
        created_by=actor.subject,
        created_at=now,
        updated_at=now,
    )
    _address(session, referral, data["service_id"])
    _set_client(referral, data.get("client") or {})
    return _add_draft(session, now, emit, actor, referral, data.get("consent"))


def _add_draft(
    session: Session, now: datetime, emit: Emit, actor: Actor, referral: Referral, consent: dict[str, Any] | None
) -> Referral:
    session.add(referral)
    _record_change(now, actor, referral, None, DRAFT)
    if consent:
        record_consent(session, now, actor, referral, consent)
    session.flush()
    publish(now, emit, "beat.referral.created", referral, request_id=referral.request_id)
    return referral


def create_from_request(
    session: Session,
    settings: ReferralSettings,
    now: datetime,
    emit: Emit,
    request: dict[str, Any],
    client: dict[str, Any] | None,
) -> Referral | None:
    """A draft from concerns' `beat.referral.requested`, addressed to the best match if any.

    Idempotent on the request id. Without a match the draft waits for an officer to
    choose a service (and `beat.referral.created` is published then). A request that can
    never become a referral (its details gone, its consent unusable) is not retried: it is
    recorded and `beat.referral.request_failed` tells concerns why (None is returned).
    """
    existing = session.scalars(select(Referral).where(Referral.request_id == request["request_id"])).first()
    if existing is not None:
        return existing
    if session.get(FailedRequest, request["request_id"]) is not None:
        return None
    if client is None:
        return _request_failed(session, now, emit, request, "request_not_found")
    consent = client.get("consent")
    consent_data = _consent_from_concerns(consent) if consent else None
    if consent and (
        consent_data is None or consent_period_problems(consent_data["given_at"], consent_data["valid_until"], now)
    ):
        return _request_failed(session, now, emit, request, "consent_invalid")
    referral = Referral(
        id=str(uuid.uuid4()),
        request_id=request["request_id"],
        need_category=request["need_category"],
        urgency=request["urgency"],
        status=DRAFT,
        beat_code=request.get("beat_code"),
        concern_id=request.get("concern_id"),
        created_by=request["requested_by"],
        created_at=now,
        updated_at=now,
    )
    if term_by_code(session, request["need_category"]) is not None:
        language = (client or {}).get("language")
        matches = match_services(
            session,
            MatchRequest(request["need_category"], beat_code=request.get("beat_code"), language=language, limit=1),
            now,
            settings.timezone,
        )
        if matches and matches[0].service.accepting_referrals:
            referral.service_id = matches[0].service.id
            referral.agency_id = matches[0].service.organization.agency_id
    _set_client(referral, {field: client.get(field) for field in ("name", "phone", "email", "language")})
    referral.client_notes = client.get("notes")
    return _add_draft(session, now, emit, SYSTEM, referral, consent_data)


def _request_failed(session: Session, now: datetime, emit: Emit, request: dict[str, Any], reason: str) -> None:
    """Record why a request cannot become a referral and tell concerns (ids and reason only)."""
    failure = FailedRequest(
        request_id=request["request_id"], concern_id=request.get("concern_id"), reason=reason, failed_at=now
    )
    session.add(failure)
    data = {**fields_of(failure, ("request_id", "concern_id", "reason")), "occurred_at": utc_iso(now)}
    emit("beat.referral.request_failed", failure.request_id, data)
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


def update_draft(session: Session, now: datetime, emit: Emit, referral: Referral, data: dict[str, Any]) -> Referral:
    """Edit a draft: choose the service, correct the client's details or the urgency."""
    if referral.status != DRAFT:
        raise Conflict(f"only a draft can be edited; this referral is {referral.status}")
    had_agency = referral.agency_id is not None
    if "need_category" in data:
        _check_need(session, data["need_category"])
        referral.need_category = data["need_category"]
    if "service_id" in data:
        # Consent names its agency: addressing another agency needs new consent (checked when sending).
        _address(session, referral, data["service_id"])
    assign_fields(referral, data, ("urgency", "beat_code"))
    _set_client(referral, data.get("client") or {})
    referral.updated_at = now
    session.flush()
    if not had_agency and referral.agency_id is not None:
        publish(now, emit, "beat.referral.created", referral, request_id=referral.request_id)
    return referral


# --- consent ----------------------------------------------------------------------------------


def record_consent(
    session: Session, now: datetime, actor: Actor, referral: Referral, data: dict[str, Any]
) -> ConsentRecord:
    """Record the client's consent to share their details with the referral's agency."""
    if referral.status in CLOSED:
        raise Conflict(f"the referral is {referral.status}; consent can no longer be recorded")
    given_at, valid_until = data["given_at"], data.get("valid_until")
    problems = consent_period_problems(given_at, valid_until, now, must_be_current=False)
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
        recorded_by=actor.subject,
        recorded_at=now,
    )
    session.add(consent)
    session.flush()
    referral.consent_id = consent.id
    referral.consent = consent
    referral.updated_at = now
    return consent


def withdraw_consent(
    session: Session, now: datetime, emit: Emit, actor: Actor, consent: ConsentRecord, method: str
) -> dict[str, list[str]]:
    """Stop all further sharing; tell each agency that had a referral, once, on its own route.

    Returns the referral ids per agency that was told.
    """
    if consent.withdrawn_at is not None:
        raise Conflict("this consent was already withdrawn")
    consent.withdrawn_at = now
    consent.withdrawn_by = actor.subject
    consent.withdrawal_method = method
    referrals = session.scalars(select(Referral).where(Referral.consent_id == consent.id)).all()
    by_agency: dict[str, list[str]] = {}
    for referral in referrals:
        referral.updated_at = now
        if referral.agency_id and referral.status != DRAFT:  # agencies never saw drafts
            by_agency.setdefault(referral.agency_id, []).append(referral.id)
    for agency_id, referral_ids in sorted(by_agency.items()):
        emit(
            "beat.consent.withdrawn",
            consent.id,
            {
                "consent_id": consent.id,
                "referral_ids": sorted(referral_ids),
                "agency_ids": [agency_id],
                "occurred_at": utc_iso(now),
            },
            headers={"x-agency-id": agency_id},
        )
    return by_agency


# --- moving through the lifecycle -------------------------------------------------------------


def _record_change(now: datetime, actor: Actor, referral: Referral, previous: str | None, target: str) -> None:
    referral.history.append(
        ReferralStatusChange(from_status=previous, to_status=target, changed_by=actor.subject, changed_at=now)
    )


def _move(now: datetime, actor: Actor, referral: Referral, target: str) -> str:
    previous = referral.status
    check_transition(previous, target)
    referral.status = target
    referral.updated_at = now
    if target in CLOSED:
        referral.closed_at = now
    _record_change(now, actor, referral, previous, target)
    return previous


def send(
    session: Session, settings: ReferralSettings, now: datetime, emit: Emit, actor: Actor, referral: Referral
) -> Referral:
    """Send a draft to its agency; 409 unless consent covers that agency now."""
    check_transition(referral.status, SENT)
    if referral.agency_id is None:
        raise Conflict("choose a service (PATCH the draft with service_id) before sending")
    problem = consent_problem(consent_facts(referral.consent), referral.agency_id, now)
    if problem is not None:
        raise Conflict(
            f"this referral cannot be sent: {problem}. Record the client's consent to share their details "
            f"with {referral.agency_id} (POST /referrals/{referral.id}/consent) first.",
            {"consent": [problem]},
        )
    _move(now, actor, referral, SENT)
    referral.sent_at = now
    referral.respond_by = now + settings.response_time
    publish(
        now,
        emit,
        "beat.referral.sent",
        referral,
        respond_by=utc_iso(referral.respond_by),
        details_url=details_url(settings, referral),
    )
    return referral


def change_status(
    session: Session, now: datetime, emit: Emit, actor: Actor, referral: Referral, answer: lifecycle.AgencyAnswer
) -> Referral:
    """The agency answers (accepted, declined), starts work (in_progress) or closes it (completed)."""
    target, reason, outcome, note = answer.status, answer.reason, answer.outcome, answer.note
    if target == lifecycle.DECLINED and not reason:
        raise InvalidInput("a decline needs a reason", {"reason": ["required when declining"]})
    if target == lifecycle.COMPLETED and not outcome:
        raise InvalidInput("completing needs an outcome", {"outcome": ["required when completing"]})
    previous = _move(now, actor, referral, target)
    if note is not None:
        referral.note = note
    if target == lifecycle.ACCEPTED:
        referral.accepted_at = now
        publish(now, emit, "beat.referral.accepted", referral)
    elif target == lifecycle.DECLINED:
        referral.decline_reason = reason
        publish(now, emit, "beat.referral.declined", referral, reason=reason)
    elif target == lifecycle.IN_PROGRESS:
        publish(now, emit, "beat.referral.status_changed", referral, previous_status=previous)
    elif target == lifecycle.COMPLETED:
        referral.outcome = outcome
        publish(now, emit, "beat.referral.completed", referral, outcome=outcome)
    else:
        raise InvalidInput(f"an agency cannot set status {target}", {"status": [f"{target} is not allowed here"]})
    return referral


def cancel(session: Session, now: datetime, emit: Emit, actor: Actor, referral: Referral, reason: str) -> Referral:
    _move(now, actor, referral, lifecycle.CANCELLED)
    referral.cancel_reason = reason
    publish(now, emit, "beat.referral.cancelled", referral)
    return referral


# --- timers -----------------------------------------------------------------------------------


def process_deadlines(session: Session, settings: ReferralSettings, now: datetime, emit: Emit) -> dict[str, int]:
    """Remind agencies that have not answered, then expire referrals past their deadline.

    `beat.referral.expired` is the supervisor alert (notifications tells the beat's supervisors).
    """
    expired = reminded = 0
    overdue = session.scalars(
        select(Referral).where(Referral.status == SENT, Referral.respond_by <= now).order_by(Referral.respond_by)
    ).all()
    for referral in overdue:
        _move(now, SYSTEM, referral, lifecycle.EXPIRED)
        publish(now, emit, "beat.referral.expired", referral)
        expired += 1
    remind_sent_before = now - settings.reminder_after
    due = session.scalars(
        select(Referral).where(
            Referral.status == SENT,
            Referral.reminded_at.is_(None),
            Referral.sent_at <= remind_sent_before,
            Referral.respond_by > now,
        )
    ).all()
    for referral in due:
        referral.reminded_at = now
        assert referral.respond_by is not None
        publish(now, emit, "beat.referral.reminder_due", referral, respond_by=utc_iso(referral.respond_by))
        reminded += 1
    return {"reminded": reminded, "expired": expired}


def erase_personal_data(session: Session, settings: ReferralSettings, now: datetime) -> int:
    """Erase client details of referrals closed longer than the retention period.

    The referral rows stay (ids, categories, statuses, times, outcomes) so statistics
    still count them; nothing left can identify the client.
    """
    cutoff = now - settings.retention
    referrals = session.scalars(
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
        referral.personal_data_erased_at = now
        if referral.consent is not None:
            referral.consent.given_by = None
    return len(referrals)
