"""Changing the concerns database: each command writes its rows and its events together.

Commands receive the session, the time (`now`) and `emit` (the outbox writer's `add`),
so a test can run them with a FrozenClock and the events land in the same transaction.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.consent import consent_period_problems
from beat_shared.db import existing, insert_as_loaded
from beat_shared.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from beat_shared.rows import fields_of
from concerns import problem_commands, store
from concerns.domain import geo
from concerns.domain.attributes import check_definitions, clean_answers
from concerns.domain.duplicates import Suggestion
from concerns.domain.problems import OpenProblem
from concerns.domain.ranking import AgendaCandidate, rank_agenda
from concerns.domain.workflow import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Actor,
    Status,
    check_transition,
    check_version,
    event_for,
)
from concerns.models import (
    AgreedAction,
    Beat,
    BeatAssignment,
    BeatPriority,
    Category,
    Concern,
    ConcernUpdate,
    Meeting,
    Officer,
    PublicConcern,
    ReferralRequest,
    Support,
)
from concerns.reference import ReferenceCache
from concerns.settings import Settings

Emit = Callable[[str, str, dict[str, Any]], Any]


def new_id() -> str:
    return str(uuid.uuid4())


def new_token() -> str:
    return secrets.token_urlsafe(24)


# --- submitting -------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """A concern as a resident sent it (already type-checked by a schema or the Open311 parser)."""

    category: str
    description: str = ""
    lat: float | None = None
    long: float | None = None
    address: str | None = None
    address_id: str | None = None
    media_url: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    contact_preference: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    reporter_subject: str | None = None
    source: str = "api"


@dataclass(frozen=True)
class Submitted:
    concern: Concern
    category: Category
    receipt_token: str
    duplicates: list[Suggestion]
    history: list[ConcernUpdate] = field(default_factory=list)  # the new concern's one update
    duplicate_concerns: dict[str, PublicConcern] = field(default_factory=dict)  # those `duplicates` name
    # The problems of its beat it joined as it arrived (public summaries: id, title, stage).
    joined_problems: list[dict[str, Any]] = field(default_factory=list)


def _contact_preference(submission: Submission) -> str:
    preference = submission.contact_preference
    if preference is None:
        return "email" if submission.email else "sms" if submission.phone else "none"
    if preference == "email" and not submission.email:
        raise InvalidInput("an email address is needed to be contacted by email", {"email": ["required"]})
    if preference == "sms" and not submission.phone:
        raise InvalidInput("a phone number is needed to be contacted by SMS", {"phone": ["required"]})
    return preference


def _check_location(submission: Submission) -> None:
    if (submission.lat is None) != (submission.long is None):
        missing = "long" if submission.long is None else "lat"
        raise InvalidInput("lat and long go together", {missing: ["required when the other coordinate is given"]})
    if submission.lat is not None and submission.long is not None:
        geo.check_coordinates(submission.lat, submission.long)
    elif not (submission.address or submission.address_id):
        raise InvalidInput(
            "say where: lat and long, or an address",
            {"location": ["give lat and long, or an address"]},
        )


def submit(
    session: Session,
    settings: Settings,
    now: datetime,
    emit: Emit,
    submission: Submission,
    reference: ReferenceCache | None = None,
) -> Submitted:
    """Record a concern, place it in its beat, suggest duplicates; emits beat.concern.submitted.
    With the service's `reference` cache the category and beats come from memory; without it
    (demo seeding, in the transaction that stores them) from the session."""
    source = reference or store  # both answer category() and boundaries_around()
    category = source.category(session, submission.category)
    _check_location(submission)
    attributes = clean_answers(category.attributes, submission.attributes)
    preference = _contact_preference(submission)
    beat_code, problems_version = None, None
    if submission.lat is not None and submission.long is not None:
        beats = source.boundaries_around(session, submission.lat, submission.long)
        beat_code = geo.place(submission.lat, submission.long, beats)
        duplicates, duplicate_concerns, problems_version = store.likely_duplicates_and_problems_version(
            session, settings, category.code, submission.lat, submission.long, now
        )
    else:
        duplicates, duplicate_concerns = [], {}
    token = new_token()
    anonymous = submission.reporter_subject is None and not (submission.name or submission.email or submission.phone)
    concern = Concern(
        id=new_id(),
        category_code=category.code,
        description=submission.description,
        lat=submission.lat,
        long=submission.long,
        address=submission.address,
        address_id=submission.address_id,
        media_url=submission.media_url,
        attributes=attributes,
        language=submission.language,
        anonymous=anonymous,
        reporter_subject=submission.reporter_subject,
        reporter_name=submission.name,
        reporter_email=submission.email,
        reporter_phone=submission.phone,
        contact_preference=preference,
        device_id=submission.device_id,
        account_id=submission.account_id,
        receipt_token_hash=store.token_hash(token),
        source=submission.source,
        status=Status.SUBMITTED.value,
        beat_code=beat_code,
        # A located concern outside every beat is kept and flagged for a supervisor to route.
        outside_beats=beat_code is None and submission.lat is not None,
        supporters=0,
        version=1,
        submitted_at=now,
        updated_at=now,
        acknowledge_by=now + timedelta(hours=category.acknowledge_hours or settings.default_ack_hours),
    )
    update = ConcernUpdate(
        concern_id=concern.id,
        from_status=None,
        to_status=Status.SUBMITTED.value,
        actor_subject=submission.reporter_subject or "anonymous",
        actor_role="resident",
        at=now,
    )
    insert_as_loaded(session, concern, update)  # a flush of the two cost more than their INSERTs
    # A new concern at the place of an open problem of its beat joins it.
    joined = problem_commands.link_arrival(
        session, now, concern, _open_problems(session, reference, concern, problems_version)
    )
    emit(
        "beat.concern.submitted",
        concern.id,
        {
            **_facts(concern, now),
            **fields_of(concern, ("anonymous", "has_contact", "outside_beats", "language")),
        },
    )
    return Submitted(concern, category, token, duplicates, [update], duplicate_concerns, joined)


def _open_problems(
    session: Session, reference: ReferenceCache | None, concern: Concern, problems_version: int | None
) -> Sequence[OpenProblem]:
    """The open problems of the concern's beat (none unless it is placed in one)."""
    if concern.beat_code is None:
        return ()
    if reference is None:
        return store.open_problems(session, concern.beat_code)
    return reference.open_problems(session, concern.beat_code, problems_version)


def reissue_receipt(session: Session, concern_id: str) -> tuple[Concern, str]:
    """A new receipt token for a concern; the previous one stops working."""
    concern = store.concern(session, concern_id, for_update=True)
    token = new_token()
    concern.receipt_token_hash = store.token_hash(token)
    return concern, token


def _facts(concern: Concern, now: datetime) -> dict[str, Any]:
    return {
        "concern_id": concern.id,
        "category_code": concern.category_code,
        "beat_code": concern.beat_code,
        "status": concern.status,
        "occurred_at": utc_iso(now),
    }


# --- the workflow -----------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    target: Status
    expected_version: int | None
    public_note: str | None = None
    internal_note: str | None = None
    merged_into: str | None = None


def transition(session: Session, now: datetime, emit: Emit, concern_id: str, actor: Actor, change: Change) -> Concern:
    """Move a concern in its workflow (row-locked, version-checked); emits one event.

    Raises PermissionDenied, Conflict (illegal move or stale version), InvalidInput, NotFound.
    """
    if change.target is Status.DUPLICATE and change.merged_into:
        # Lock both rows in one order, so two opposite merges cannot deadlock.
        session.scalars(
            select(Concern.id)
            .where(Concern.id.in_([concern_id, change.merged_into]))
            .order_by(Concern.id)
            .with_for_update()
        ).all()
    concern = store.concern(session, concern_id, for_update=True)
    current = Status(concern.status)
    check_transition(current, change.target, actor, concern.beat_code)
    check_version(concern.version, change.expected_version)
    target_concern = _merge_target(session, concern, change) if change.target is Status.DUPLICATE else None
    previous = concern.status
    concern.status = change.target.value
    concern.version += 1
    concern.updated_at = now
    if change.target is Status.ACKNOWLEDGED:
        concern.acknowledged_at = now
    if change.target in FINAL_STATUSES:
        concern.ended_at = now
    session.add(
        ConcernUpdate(
            concern_id=concern.id,
            from_status=previous,
            to_status=concern.status,
            actor_subject=actor.subject,
            actor_role=actor.role,
            at=now,
            public_note=change.public_note,
            internal_note=change.internal_note,
        )
    )
    moved = _move_supporters(session, concern, target_concern, now) if target_concern is not None else 0
    session.flush()
    emit(event_for(change.target), concern.id, _transition_data(concern, previous, actor, change, moved, now))
    return concern


@dataclass(frozen=True)
class Note:
    expected_version: int | None
    public_note: str | None = None
    internal_note: str | None = None


def add_note(session: Session, now: datetime, emit: Emit, concern_id: str, actor: Actor, note: Note) -> Concern:
    """Record an officer's note without moving the concern (row-locked, version-checked).

    A public note is news for the reporter: it emits beat.concern.status_changed with the status
    unchanged (previous_status == status) and has_public_note, the event notifications already
    turns into a "your concern has news" message, so no consumer needs a new contract. An
    internal note emits nothing."""
    if not (note.public_note or note.internal_note):
        raise InvalidInput(
            "write a public_note, an internal_note or both",
            {"public_note": ["required without internal_note"], "internal_note": ["required without public_note"]},
        )
    concern = store.concern(session, concern_id, for_update=True)
    if not actor.may_manage(concern.beat_code):
        raise PermissionDenied("only officers assigned to this concern's beat (or supervisors) may add notes")
    check_version(concern.version, note.expected_version)
    concern.version += 1
    concern.updated_at = now
    session.add(
        ConcernUpdate(
            concern_id=concern.id,
            from_status=concern.status,  # the same status: a note, not a move
            to_status=concern.status,
            actor_subject=actor.subject,
            actor_role=actor.role,
            at=now,
            public_note=note.public_note,
            internal_note=note.internal_note,
        )
    )
    session.flush()
    if note.public_note:
        emit(
            "beat.concern.status_changed",
            concern.id,
            {
                **_facts(concern, now),
                "previous_status": concern.status,
                "changed_by": actor.subject,
                "has_public_note": True,
            },
        )
    return concern


def _merge_target(session: Session, concern: Concern, change: Change) -> Concern:
    if not change.merged_into:
        raise InvalidInput("say which concern this duplicates", {"merged_into": ["required for duplicate"]})
    if change.merged_into == concern.id:
        raise InvalidInput("a concern cannot duplicate itself", {"merged_into": ["must be another concern"]})
    try:
        target = store.concern(session, change.merged_into, for_update=True)
    except NotFound:
        raise InvalidInput("the concern to merge into does not exist", {"merged_into": ["unknown concern"]})
    if Status(target.status) not in OPEN_STATUSES:
        raise Conflict("merge into an open concern", {"merged_into": [f"that concern is {target.status}"]})
    return target


def reporter_key(concern: Concern) -> str:
    if concern.reporter_subject:
        return f"subject:{concern.reporter_subject}"
    return f"token:{concern.receipt_token_hash}"


def _move_supporters(session: Session, duplicate: Concern, target: Concern, now: datetime) -> int:
    """Carry the duplicate's reporter and supporters over to the concern it merges into."""
    duplicate.merged_into = target.id
    existing = set(session.scalars(select(Support.supporter_key).where(Support.concern_id == target.id)))
    existing.add(reporter_key(target))
    keys = [
        reporter_key(duplicate),
        *session.scalars(select(Support.supporter_key).where(Support.concern_id == duplicate.id)),
    ]
    moved = 0
    for key in keys:
        if key not in existing:
            session.add(Support(concern_id=target.id, supporter_key=key, created_at=now))
            existing.add(key)
            moved += 1
    target.supporters += moved
    target.updated_at = now
    return moved


def _transition_data(
    concern: Concern, previous: str, actor: Actor, change: Change, moved: int, now: datetime
) -> dict[str, Any]:
    facts = _facts(concern, now)
    event = event_for(change.target)
    if event == "beat.concern.acknowledged":
        return {**facts, "officer_id": actor.subject, "submitted_at": utc_iso(concern.submitted_at)}
    if event in ("beat.concern.resolved", "beat.concern.closed"):
        return {
            **facts,
            "submitted_at": utc_iso(concern.submitted_at),
            "acknowledged_at": utc_iso(concern.acknowledged_at) if concern.acknowledged_at else None,
            "has_contact": concern.has_contact,
            "language": concern.language,
        }
    if event == "beat.concern.merged":
        return {**facts, "merged_into": change.merged_into, "supporters_moved": moved}
    return {
        **facts,
        "previous_status": previous,
        "changed_by": actor.subject,
        "has_public_note": bool(change.public_note),
    }


def mark_overdue(session: Session, now: datetime, emit: Emit) -> int:
    """Flag concerns not acknowledged by their deadline, once each; emits beat.concern.overdue."""
    late = session.scalars(
        select(Concern)
        .where(
            Concern.status == Status.SUBMITTED.value,
            Concern.acknowledge_by <= now,
            Concern.overdue_at.is_(None),
        )
        .order_by(Concern.acknowledge_by)
        .limit(500)
        .with_for_update(skip_locked=True)  # replicas running the same timer split the work
    ).all()
    for concern in late:
        concern.overdue_at = now
        emit("beat.concern.overdue", concern.id, {**_facts(concern, now), "due_at": utc_iso(concern.acknowledge_by)})
    return len(late)


# --- "me too" ---------------------------------------------------------------------------


def support(session: Session, now: datetime, emit: Emit, concern_id: str, supporter_key: str) -> tuple[Concern, bool]:
    """Count a resident's support once; returns the concern and whether this call counted."""
    concern = store.concern(session, concern_id, for_update=True)
    if concern.status == Status.DUPLICATE.value:
        raise Conflict(
            "this concern was merged into another; support that one",
            {"merged_into": [concern.merged_into or ""]},
        )
    if Status(concern.status) not in OPEN_STATUSES:
        raise Conflict(f"this concern is {concern.status}; it no longer takes support")
    if supporter_key == reporter_key(concern):
        return concern, False
    already = session.scalars(
        select(Support.id).where(Support.concern_id == concern.id, Support.supporter_key == supporter_key)
    ).first()
    if already is not None:
        return concern, False
    session.add(Support(concern_id=concern.id, supporter_key=supporter_key, created_at=now))
    concern.supporters += 1
    concern.updated_at = now
    session.flush()
    emit("beat.concern.supported", concern.id, {**_facts(concern, now), "supporters": concern.supporters})
    return concern, True


# --- referrals --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralAsk:
    need_category: str
    urgency: str
    client: dict[str, Any]
    consent: dict[str, Any]
    concern_id: str | None = None
    beat_code: str | None = None


def request_referral(session: Session, now: datetime, emit: Emit, actor: Actor, ask: ReferralAsk) -> ReferralRequest:
    """Record an officer's referral request with the client's consent; emits beat.referral.requested."""
    beat_code = ask.beat_code
    if ask.concern_id is not None:
        try:
            concern = store.concern(session, ask.concern_id)
        except NotFound:
            raise InvalidInput("unknown concern", {"concern_id": ["unknown concern"]})
        beat_code = concern.beat_code
    elif beat_code is not None:
        try:
            store.beat(session, beat_code)
        except NotFound:
            raise InvalidInput("unknown beat", {"beat_code": ["unknown beat"]})
    if not actor.may_manage(beat_code):
        raise PermissionDenied("only officers of the concern's beat (or supervisors) may ask for a referral")
    consent = ask.consent
    # The rules referrals applies when it records this consent: refused here, not there.
    problems = consent_period_problems(consent["given_at"], consent.get("valid_until"), now)
    if problems:
        raise InvalidInput("the consent cannot be recorded as given", {"consent": problems})
    request = ReferralRequest(
        id=new_id(),
        concern_id=ask.concern_id,
        beat_code=beat_code,
        need_category=ask.need_category,
        urgency=ask.urgency,
        client_name=ask.client["name"],
        client_phone=ask.client.get("phone"),
        client_email=ask.client.get("email"),
        client_language=ask.client.get("language") or "en",
        notes=ask.client.get("notes") or "",
        consent_given_by=consent["given_by"],
        consent_given_at=consent["given_at"],
        consent_method=consent["method"],
        consent_scope=consent["scope"],
        consent_valid_until=consent.get("valid_until"),
        requested_by=actor.subject,
        created_at=now,
    )
    session.add(request)
    session.flush()
    emit(
        "beat.referral.requested",
        request.id,
        {
            "request_id": request.id,
            **fields_of(request, ("concern_id", "need_category", "urgency", "beat_code")),
            "requested_by": actor.subject,
            "consent_recorded": True,
            "occurred_at": utc_iso(now),
        },
    )
    return request


def referral_request_failed(session: Session, now: datetime, request_id: str, reason: str) -> None:
    """Referrals could not make a referral of the request: the officer sees why on the concern."""
    request = session.get(ReferralRequest, request_id)
    if request is None:
        return  # nothing left to show it on
    request.state = "failed"
    request.failure_reason = reason
    request.failed_at = now


# --- catalogue, beats and officers ------------------------------------------------------


def save_category(session: Session, now: datetime, body: dict[str, Any]) -> Category:
    """Create or replace a category (Open311 service) and its attribute definitions."""
    check_definitions(body.get("attributes", []))
    category = session.get(Category, body["code"]) or Category(code=body["code"])
    category.name = body["name"]
    category.description = body.get("description", "")
    category.group = body.get("group", "")
    category.keywords = body.get("keywords", [])
    category.attributes = body.get("attributes", [])
    category.acknowledge_hours = body.get("acknowledge_hours", 72)
    category.active = body.get("active", True)
    category.translations = body.get("translations", {})
    category.updated_at = now
    session.add(category)
    session.flush()
    return category


def import_beats(session: Session, now: datetime, collection: Any) -> dict[str, Any]:
    """Create or update beats from a GeoJSON FeatureCollection; re-place concerns outside every beat.

    Each feature needs properties.code and properties.name (optional neighbourhood, contact_email,
    contact_phone) and a Polygon or MultiPolygon geometry. Nothing is stored if any feature is bad.
    """
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise InvalidInput("send a GeoJSON FeatureCollection", {"type": ["must be FeatureCollection"]})
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidInput("the collection has no features", {"features": ["at least one feature"]})
    imported = []
    for index, feature in enumerate(features):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        code = properties.get("code") if isinstance(properties, dict) else None
        name = properties.get("name") if isinstance(properties, dict) else None
        if not (isinstance(code, str) and code.strip() and len(code) <= 64 and isinstance(name, str) and name.strip()):
            raise InvalidInput(
                f"feature {index} needs properties.code and properties.name",
                {"features": {str(index): ["properties.code and properties.name are required"]}},
            )
        shape = geo.boundary(code, feature.get("geometry"))
        beat = session.get(Beat, code) or Beat(code=code)
        beat.name = name
        beat.neighbourhood = str(properties.get("neighbourhood") or "")
        beat.contact_email = properties.get("contact_email")
        beat.contact_phone = properties.get("contact_phone")
        beat.boundary = feature["geometry"]
        beat.min_long, beat.min_lat, beat.max_long, beat.max_lat = shape.bbox
        beat.updated_at = now
        session.add(beat)
        imported.append(code)
    session.flush()
    placed = _replace_outside_concerns(session, now)
    return {"imported": imported, "concerns_placed": placed}


def _replace_outside_concerns(session: Session, now: datetime) -> int:
    placed = 0
    for concern in session.scalars(select(Concern).where(Concern.outside_beats.is_(True))):
        assert concern.lat is not None and concern.long is not None
        code = geo.place(concern.lat, concern.long, store.boundaries_around(session, concern.lat, concern.long))
        if code is not None:
            concern.beat_code, concern.outside_beats, concern.updated_at = code, False, now
            placed += 1
    return placed


def save_officer(session: Session, body: dict[str, Any]) -> Officer:
    officer = session.get(Officer, body["subject"]) or Officer(subject=body["subject"])
    for name in ("name", "role", "title", "email", "phone", "photo_url", "bio"):
        if name in body:
            setattr(officer, name, body[name])
    officer.title = officer.title or ""
    officer.bio = officer.bio or ""
    session.add(officer)
    session.flush()
    return officer


def assign(session: Session, now: datetime, beat_code: str, subject: str) -> None:
    store.beat(session, beat_code)
    if session.get(Officer, subject) is None:
        raise InvalidInput("create the officer's profile first", {"subject": ["unknown officer"]})
    exists = session.scalars(
        select(BeatAssignment).where(BeatAssignment.beat_code == beat_code, BeatAssignment.subject == subject)
    ).first()
    if exists is None:
        session.add(BeatAssignment(beat_code=beat_code, subject=subject, assigned_at=now))
        session.flush()


def unassign(session: Session, beat_code: str, subject: str) -> None:
    result = session.execute(
        delete(BeatAssignment).where(BeatAssignment.beat_code == beat_code, BeatAssignment.subject == subject)
    )
    if not result.rowcount:
        raise NotFound(f"{subject} is not assigned to {beat_code}")


# --- meetings, actions and priorities ---------------------------------------------------


def generate_agenda(session: Session, beat_code: str, now: datetime, limit: int = 10) -> list[dict[str, Any]]:
    """The beat's open concerns ranked by support and age, as agenda items."""
    rows = session.execute(
        select(Concern.id, Concern.supporters, Concern.submitted_at, Concern.category_code).where(
            Concern.beat_code == beat_code, Concern.status.in_(store.OPEN_VALUES)
        )
    ).all()
    categories = {row.id: row.category_code for row in rows}
    ranked = rank_agenda((AgendaCandidate(row.id, row.supporters, row.submitted_at) for row in rows), now, limit)
    return [
        {
            "position": item.position,
            "concern_id": item.concern_id,
            "category": categories[item.concern_id],
            "support": item.support,
            "age_days": item.age_days,
            "score": item.score,
        }
        for item in ranked
    ]


def suggested_agenda(session: Session, now: datetime, actor: Actor, beat_code: str) -> list[dict[str, Any]]:
    """What a community meeting of this beat would discuss today, for its officers to choose from."""
    store.beat(session, beat_code)
    if not actor.may_manage(beat_code):
        raise PermissionDenied("only officers of this beat (or supervisors) may plan its meetings")
    return generate_agenda(session, beat_code, now)


def chosen_agenda(session: Session, beat_code: str, now: datetime, chosen: list[str]) -> list[dict[str, Any]]:
    """The officer's choice of concerns, in the suggestion's order, renumbered; every one must be
    an open concern of this beat (a closed one or another beat's is a mistake worth telling)."""
    ranked = {item["concern_id"]: item for item in generate_agenda(session, beat_code, now, limit=len(chosen) + 10_000)}
    unknown = [concern_id for concern_id in dict.fromkeys(chosen) if concern_id not in ranked]
    if unknown:
        raise InvalidInput(
            "an agenda holds open concerns of the meeting's beat",
            {"agenda_concern_ids": [f"not an open concern of {beat_code}: {', '.join(unknown)}"]},
        )
    kept = [item for item in ranked.values() if item["concern_id"] in set(chosen)]
    return [{**item, "position": position} for position, item in enumerate(kept, start=1)]


def _new_agenda(session: Session, beat_code: str, now: datetime, body: dict[str, Any]) -> list[dict[str, Any]]:
    chosen = body.get("agenda_concern_ids")
    if body["kind"] != "community_meeting":
        if chosen:
            raise InvalidInput("only a community meeting has an agenda", {"agenda_concern_ids": ["must be empty"]})
        return []
    if chosen is None:
        return generate_agenda(session, beat_code, now)
    return chosen_agenda(session, beat_code, now, chosen)


def schedule_meeting(
    session: Session, now: datetime, emit: Emit, actor: Actor, beat_code: str, body: dict[str, Any]
) -> Meeting:
    """Schedule a meeting or activity; a community meeting gets an agenda (the concerns the officer
    chose, or the ranked suggestion). Emits beat.meeting.scheduled."""
    store.beat(session, beat_code)
    if not actor.may_manage(beat_code):
        raise PermissionDenied("only officers of this beat (or supervisors) may schedule its meetings")
    if body["ends_at"] <= body["starts_at"]:
        raise InvalidInput("a meeting ends after it starts", {"ends_at": ["must be after starts_at"]})
    agenda = _new_agenda(session, beat_code, now, body)
    meeting = Meeting(
        id=new_id(),
        beat_code=beat_code,
        kind=body["kind"],
        title=body["title"],
        description=body.get("description", ""),
        venue=body["venue"],
        starts_at=body["starts_at"],
        ends_at=body["ends_at"],
        status="scheduled",
        agenda=agenda,
        organiser=actor.subject,
        summary="",
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    emit(
        "beat.meeting.scheduled",
        meeting.id,
        {**_meeting_facts(meeting, now), "ends_at": utc_iso(meeting.ends_at), "venue": meeting.venue},
    )
    return meeting


def _meeting_facts(meeting: Meeting, now: datetime) -> dict[str, Any]:
    return {
        **fields_of(meeting, ("beat_code", "kind", "title"), meeting_id="id"),
        "starts_at": utc_iso(meeting.starts_at),
        "occurred_at": utc_iso(now),
    }


def meeting_for_change(session: Session, meeting_id: str, actor: Actor) -> Meeting:
    meeting = session.scalars(select(Meeting).where(Meeting.id == meeting_id).with_for_update()).first()
    if meeting is None:
        raise NotFound(f"meeting {meeting_id} does not exist")
    if not actor.may_manage(meeting.beat_code):
        raise PermissionDenied("only officers of this beat (or supervisors) may change its meetings")
    return meeting


def refresh_agenda(session: Session, now: datetime, actor: Actor, meeting_id: str) -> Meeting:
    meeting = meeting_for_change(session, meeting_id, actor)
    if meeting.status != "scheduled":
        raise Conflict("the agenda of a concluded meeting is part of its record")
    meeting.agenda = generate_agenda(session, meeting.beat_code, now)
    return meeting


def _check_concern_ids(session: Session, ids: list[str], field_name: str) -> None:
    if not ids:
        return
    known = set(session.scalars(select(Concern.id).where(Concern.id.in_(ids))))
    unknown = [concern_id for concern_id in ids if concern_id not in known]
    if unknown:
        raise InvalidInput("some linked concerns do not exist", {field_name: [f"unknown: {', '.join(unknown)}"]})


def conclude_meeting(
    session: Session, now: datetime, emit: Emit, actor: Actor, meeting_id: str, body: dict[str, Any]
) -> Meeting:
    """Record what a meeting agreed: actions (owner, due date, concerns) and the period's priorities."""
    meeting = meeting_for_change(session, meeting_id, actor)
    if meeting.status != "scheduled":
        raise Conflict(f"the meeting is already {meeting.status}")
    if now < meeting.starts_at:
        raise Conflict(
            f"the meeting starts at {utc_iso(meeting.starts_at)}; record what it agreed after it has been held",
            {"starts_at": [utc_iso(meeting.starts_at)]},
        )
    linked: list[str] = []
    for index, action in enumerate(body.get("actions", [])):
        _check_concern_ids(session, action.get("concern_ids", []), f"actions.{index}.concern_ids")
        if action.get("problem_id"):
            problem_commands.check_plan_of(
                session, meeting.beat_code, action["problem_id"], f"actions.{index}.problem_id"
            )
        session.add(
            AgreedAction(
                id=new_id(),
                meeting_id=meeting.id,
                beat_code=meeting.beat_code,
                description=action["description"],
                owner=action["owner"],
                due_date=action["due_date"],
                status="open",
                concern_ids=action.get("concern_ids", []),
                created_at=now,
                problem_id=action.get("problem_id"),
            )
        )
        linked += action.get("concern_ids", [])
    priorities = body.get("priorities")
    if priorities:
        linked += set_priorities(session, now, meeting.beat_code, priorities["period"], priorities["items"], meeting.id)
    meeting.status = "concluded"
    meeting.attendees = body.get("attendees")
    meeting.summary = body.get("summary", "")
    meeting.concluded_at = now
    session.flush()
    emit(
        "beat.meeting.concluded",
        meeting.id,
        {
            **_meeting_facts(meeting, now),
            "actions_agreed": len(body.get("actions", [])),
            "concern_ids": sorted(set(linked)),
            "attendees": meeting.attendees,
        },
    )
    return meeting


def set_priorities(
    session: Session, now: datetime, beat_code: str, period: str, items: list[dict[str, Any]], meeting_id: str | None
) -> list[str]:
    """Replace a beat's agreed priorities for a period; returns the concern ids they link."""
    store.beat(session, beat_code)
    linked: list[str] = []
    for index, item in enumerate(items):
        _check_concern_ids(session, item.get("concern_ids", []), f"priorities.{index}.concern_ids")
        linked += item.get("concern_ids", [])
    session.execute(delete(BeatPriority).where(BeatPriority.beat_code == beat_code, BeatPriority.period == period))
    for rank, item in enumerate(items, start=1):
        session.add(
            BeatPriority(
                beat_code=beat_code,
                period=period,
                rank=rank,
                title=item["title"],
                description=item.get("description", ""),
                concern_ids=item.get("concern_ids", []),
                meeting_id=meeting_id,
                agreed_at=now,
            )
        )
    session.flush()
    return linked


def set_beat_priorities(
    session: Session, now: datetime, actor: Actor, beat_code: str, period: str, items: list[dict[str, Any]]
) -> list[str]:
    """`set_priorities` by an officer of the beat or a supervisor, outside a meeting; raises
    PermissionDenied for anyone else."""
    if not actor.may_manage(beat_code):
        raise PermissionDenied("only officers of this beat (or supervisors) may set its priorities")
    return set_priorities(session, now, beat_code, period, items, None)


def update_action(session: Session, now: datetime, actor: Actor, action_id: str, status: str) -> AgreedAction:
    action = existing(session, AgreedAction, action_id, "action")
    if not actor.may_manage(action.beat_code):
        raise PermissionDenied("only officers of this beat (or supervisors) may update its actions")
    action.status = status
    action.completed_at = now if status == "done" else None
    return action


def current_period(today: date) -> str:
    """Priorities are agreed per quarter, e.g. 2026-Q1."""
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"
