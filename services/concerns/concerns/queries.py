"""Read models: the lists, pages and feeds each audience sees."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.db import count_rows, existing, page_of
from beat_shared.errors import InvalidInput, NotFound, PermissionDenied
from beat_shared.http import PageRequest, page_body
from beat_shared.rows import fields_of
from concerns import problem_queries, store, views
from concerns.commands import Submitted, current_period
from concerns.domain.duplicates import Suggestion
from concerns.domain.workflow import OPEN_STATUSES, STATUS_LABELS, UPDATE_FEED_STATUS, Actor, Status, open311_status
from concerns.models import (
    AgreedAction,
    Beat,
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
from concerns.open311 import SPEC_URL
from concerns.reference import ReferenceCache
from concerns.schemas import UNPLACED_QUEUE
from concerns.settings import Settings

CLOSED_VALUES = tuple(status.value for status in Status if status not in OPEN_STATUSES)
MAX_CONTACTS_PER_CALL = 500  # a dispatcher round asks for its batch (50 by default)


# --- one concern, as its audience sees it ----------------------------------------------


def with_notice(settings: Settings, body: dict[str, Any]) -> dict[str, Any]:
    """An answer about concerns with the service notice (911 for emergencies; when to expect an answer)."""
    return {**body, "service_notice": settings.notice()}


def concern_notice(settings: Settings, concern: Concern, category: Category) -> str:
    """The notice in the reporter's language; a concern in no beat is promised a supervisor."""
    return settings.notice(category.acknowledge_hours, concern.language, concern.beat_code is not None)


def concern_answer(
    session: Session,
    settings: Settings,
    reference: ReferenceCache,
    concern: Concern,
    audience: str,
    history: list[ConcernUpdate] | None = None,
) -> dict[str, Any]:
    """The concern for its audience ('staff' or 'resident') with its notice; `history` when the
    caller already has it (saves a query). Staff also see its referral requests."""
    category = reference.any_category(session, concern.category_code)
    assert category is not None  # a stored concern's category is never deleted
    history = store.updates(session, concern.id) if history is None else history
    render = views.concern_staff if audience == "staff" else views.concern_resident
    body = {**render(concern, category, history), "service_notice": concern_notice(settings, concern, category)}
    if audience == "staff":
        requests = store.referral_requests_of(session, concern.id)
        body["referral_requests"] = [views.referral_request_view(made) for made in requests]
    return body


def submission_answer(
    session: Session,
    settings: Settings,
    reference: ReferenceCache,
    concern: Concern,
    receipt_token: str,
    made: Submitted | None = None,
) -> dict[str, Any]:
    """The answer to a submission: the concern, its receipt token (shown once), and for a new one
    (`made`) the likely duplicates and the problems it joined; a replayed one has neither."""
    body = concern_answer(session, settings, reference, concern, "resident", made.history if made else None)
    return {
        "concern": body,
        "receipt_token": receipt_token,
        "possible_duplicates": suggestions_view(session, made.duplicates, made.duplicate_concerns) if made else [],
        "problems": made.joined_problems if made else [],
        "service_notice": body["service_notice"],
    }


# --- staff ------------------------------------------------------------------------------


def staff_list(session: Session, actor: Actor, args: dict[str, Any], page: PageRequest) -> dict[str, Any]:
    """Officers see the concerns of their beats; supervisors and admins see all, and how many
    wait in the unplaced queue (in no beat: no officer sees them until a supervisor places them)."""
    query = select(Concern).order_by(Concern.submitted_at.desc(), Concern.id)
    unplaced = Concern.beat_code.is_(None) & Concern.status.in_(store.OPEN_VALUES)
    if args.get("queue") == UNPLACED_QUEUE:
        if not actor.may_manage(None):
            raise PermissionDenied("the unplaced queue is for supervisors", {"queue": ["supervisors and admins"]})
        query = query.where(unplaced)
    if actor.role == "officer":
        if "beat" in args and args["beat"] not in actor.beat_codes:
            # An empty 200 would read as "nothing to do in that beat", which the officer cannot know.
            raise PermissionDenied(f"you are not assigned to beat {args['beat']}", {"beat": ["not one of your beats"]})
        query = query.where(Concern.beat_code.in_(sorted(actor.beat_codes)))
    if "status" in args:
        query = query.where(Concern.status == args["status"])
    if "category" in args:
        query = query.where(Concern.category_code == args["category"])
    if "beat" in args:
        query = query.where(Concern.beat_code == args["beat"])
    if args.get("overdue") is not None:
        overdue = Concern.overdue_at.is_not(None) & Concern.acknowledged_at.is_(None)
        query = query.where(overdue if args["overdue"] else ~overdue)
    if args.get("outside_beats") is not None:
        query = query.where(Concern.outside_beats.is_(args["outside_beats"]))
    rows, total = page_of(session, query, page.offset, page.size)
    categories = store.categories_by_code(session)
    history = store.updates_for(session, [row.id for row in rows])
    items = [views.concern_staff(row, categories[row.category_code], history[row.id]) for row in rows]
    body = page_body(items, total, page)
    if actor.may_manage(None):
        body["unplaced_open"] = count_rows(session, select(Concern).where(unplaced))
    return body


# --- residents --------------------------------------------------------------------------


def resident_list(session: Session, subject: str, page: PageRequest) -> dict[str, Any]:
    """A resident's own concerns and those they support ("me too"), newest first."""
    supported = select(Support.concern_id).where(Support.supporter_key == f"subject:{subject}")
    query = (
        select(Concern)
        .where(or_(Concern.reporter_subject == subject, Concern.id.in_(supported)))
        .order_by(Concern.submitted_at.desc(), Concern.id)
    )
    rows, total = page_of(session, query, page.offset, page.size)
    categories = store.categories_by_code(session)
    history = store.updates_for(session, [row.id for row in rows])
    items = []
    for row in rows:
        if row.reporter_subject == subject:
            items.append(
                {**views.concern_resident(row, categories[row.category_code], history[row.id]), "relation": "reported"}
            )
        else:
            items.append(
                {**views.concern_public(row, categories[row.category_code], history[row.id]), "relation": "supported"}
            )
    return page_body(items, total, page)


# --- the public -------------------------------------------------------------------------


def _public_query(args: dict[str, Any]) -> Select:
    # A withdrawn concern was taken back by its resident: it leaves the public list.
    query = select(Concern).where(Concern.status != Status.WITHDRAWN.value)
    status = args.get("status")
    if status == "open":
        query = query.where(Concern.status.in_(store.OPEN_VALUES))
    elif status == "closed":
        query = query.where(Concern.status.in_(CLOSED_VALUES))
    elif status:
        query = query.where(Concern.status == status)
    if args.get("category"):
        query = query.where(Concern.category_code == args["category"])
    if args.get("beat"):
        query = query.where(Concern.beat_code == args["beat"])
    if args.get("bbox"):
        west, south, east, north = _bbox(args["bbox"])
        query = query.where(Concern.lat.between(south, north), Concern.long.between(west, east))
    return query.order_by(Concern.submitted_at.desc(), Concern.id)


def _bbox(raw: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(part) for part in raw.split(","))
    except ValueError:
        raise InvalidInput("bbox is min_long,min_lat,max_long,max_lat", {"bbox": ["four numbers"]})
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidInput("bbox is min_long,min_lat,max_long,max_lat", {"bbox": ["out of range"]})
    return west, south, east, north


def public_list(session: Session, args: dict[str, Any], page: PageRequest) -> dict[str, Any]:
    query = _public_query(args)
    rows, total = page_of(session, query, page.offset, page.size)
    categories = store.categories_by_code(session)
    history = store.updates_for(session, [row.id for row in rows])
    return page_body(
        [views.concern_public(row, categories[row.category_code], history[row.id]) for row in rows], total, page
    )


def public_map(session: Session, args: dict[str, Any], limit: int = 2000) -> dict[str, Any]:
    """The map feed: a GeoJSON FeatureCollection of located concerns, rounded to ~100 m."""
    query = _public_query(args).where(Concern.lat.is_not(None)).limit(limit)
    categories = store.categories_by_code(session)
    features = [views.public_feature(row, categories[row.category_code]) for row in session.scalars(query)]
    return {"type": "FeatureCollection", "features": features}


def public_concern(session: Session, concern_id: str) -> dict[str, Any]:
    concern = store.concern(session, concern_id)
    if concern.status == Status.WITHDRAWN.value:
        raise NotFound(f"concern {concern_id} was withdrawn by its resident")
    category = session.get(Category, concern.category_code)
    assert category is not None
    return views.concern_public(concern, category, store.updates(session, concern.id))


def similar(
    session: Session, settings: Settings, category_code: str, lat: float, long: float, now: datetime
) -> list[dict[str, Any]]:
    """Open concerns a resident about to submit may want to support instead."""
    category = store.category(session, category_code)
    return suggestions_view(session, *store.likely_duplicates(session, settings, category.code, lat, long, now))


def suggestions_view(
    session: Session, suggestions: list[Suggestion], concerns: Mapping[str, PublicConcern]
) -> list[dict[str, Any]]:
    """`concerns`: the suggested ones' public columns, as `store.likely_duplicates` loaded them."""
    if not suggestions:
        return []
    rows = {suggestion.concern_id: concerns[suggestion.concern_id] for suggestion in suggestions}
    categories = store.categories_of(session, {row.category_code for row in rows.values()})
    return [
        {
            "concern_id": suggestion.concern_id,
            "distance_metres": suggestion.distance_metres,
            "concern": views.concern_public(
                rows[suggestion.concern_id], categories[rows[suggestion.concern_id].category_code]
            ),
        }
        for suggestion in suggestions
    ]


# --- beats ------------------------------------------------------------------------------


def beat_page(session: Session, settings: Settings, code: str, now: datetime) -> dict[str, Any]:
    """Who the beat's officers are, what is coming up, what worries residents, what got done."""
    beat = store.beat(session, code)
    categories = store.categories_by_code(session)
    top = session.scalars(
        select(Concern)
        .where(Concern.beat_code == code, Concern.status.in_(store.OPEN_VALUES))
        .order_by(Concern.supporters.desc(), Concern.submitted_at, Concern.id)
        .limit(5)
    )
    resolved = session.scalars(
        select(Concern)
        .where(
            Concern.beat_code == code,
            Concern.status == Status.RESOLVED.value,
            Concern.ended_at >= now - timedelta(days=settings.recent_days),
        )
        .order_by(Concern.ended_at.desc(), Concern.id)
        .limit(5)
    )
    period = current_period(now.date())
    priorities = session.scalars(
        select(BeatPriority)
        .where(BeatPriority.beat_code == code, BeatPriority.period == period)
        .order_by(BeatPriority.rank)
    )
    actions = session.scalars(
        select(AgreedAction)
        .where(AgreedAction.beat_code == code, AgreedAction.status == "open")
        .order_by(AgreedAction.due_date, AgreedAction.id)
    )
    return {
        "beat": views.beat_view(beat),
        "officers": [views.officer_public(officer) for officer in store.beat_officers(session, code)],
        "upcoming_meetings": [views.meeting_view(meeting) for meeting in store.upcoming_meetings(session, code, now)],
        "top_open_concerns": [views.concern_public(row, categories[row.category_code]) for row in top],
        "recently_resolved": [
            views.concern_public(row, categories[row.category_code], store.updates(session, row.id)) for row in resolved
        ],
        "priorities": {"period": period, "items": [views.priority_view(item) for item in priorities]},
        "open_actions": [views.action_view(action) for action in actions],
        "problems": problem_queries.public_beat_problems(session, code, now - timedelta(days=settings.recent_days)),
        "problem_counts": problem_queries.beat_tally(session, code, now - timedelta(days=settings.recent_days)),
        "service_notice": settings.notice(),
    }


def beats(session: Session) -> list[Beat]:
    return list(session.scalars(select(Beat).order_by(Beat.code)))


def meetings(session: Session, code: str, when: str, now: datetime) -> list[dict[str, Any]]:
    store.beat(session, code)
    query = select(Meeting).where(Meeting.beat_code == code)
    if when == "upcoming":
        query = query.where(Meeting.ends_at >= now).order_by(Meeting.starts_at)
    elif when == "past":
        query = query.where(Meeting.ends_at < now).order_by(Meeting.starts_at.desc())
    else:
        query = query.order_by(Meeting.starts_at)
    return [views.meeting_view(meeting) for meeting in session.scalars(query.limit(200))]


def meeting(session: Session, meeting_id: str) -> dict[str, Any]:
    found = existing(session, Meeting, meeting_id, "meeting")
    actions = session.scalars(
        select(AgreedAction).where(AgreedAction.meeting_id == found.id).order_by(AgreedAction.due_date)
    )
    return views.meeting_view(found, actions)


def actions(session: Session, code: str, status: str | None) -> list[dict[str, Any]]:
    store.beat(session, code)
    query = select(AgreedAction).where(AgreedAction.beat_code == code)
    if status:
        query = query.where(AgreedAction.status == status)
    return [views.action_view(action) for action in session.scalars(query.order_by(AgreedAction.due_date))]


def priorities(session: Session, code: str, period: str) -> dict[str, Any]:
    store.beat(session, code)
    rows = session.scalars(
        select(BeatPriority)
        .where(BeatPriority.beat_code == code, BeatPriority.period == period)
        .order_by(BeatPriority.rank)
    )
    return {"beat_code": code, "period": period, "items": [views.priority_view(row) for row in rows]}


# --- categories -------------------------------------------------------------------------


def category(session: Session, code: str) -> Category:
    """A category, active or not; NotFound when there is none."""
    return existing(session, Category, code, "category")


def active_categories(session: Session, *order: Any) -> list[Category]:
    return list(session.scalars(select(Category).where(Category.active.is_(True)).order_by(*order)))


# --- Open311 ----------------------------------------------------------------------------


def open311_discovery(session: Session, settings: Settings, now: datetime) -> dict[str, Any]:
    """GeoReport discovery: where the endpoint is, and when the catalogue last changed."""
    changed = utc_iso(max((found.updated_at for found in session.scalars(select(Category))), default=now))
    endpoint = {
        "specification": SPEC_URL,
        "url": f"{settings.public_url}/open311/v2",
        "changeset": changed,
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }
    return {
        "changeset": changed,
        "contact": settings.contact,
        "key_service": f"Ask for an API key: {settings.contact}",
        "endpoints": [endpoint],
    }


def open311_active_service(session: Session, code: str) -> Category:
    """An active category by its Open311 service_code; NotFound otherwise."""
    found = session.get(Category, code)
    if found is None or not found.active:
        raise NotFound(f"service_code {code} was not found")
    return found


def open311_service(category: Category) -> dict[str, Any]:
    return {
        **fields_of(category, ("description",), service_code="code", service_name="name"),
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": ", ".join(category.keywords),
        "group": category.group,
    }


def open311_definition(category: Category) -> dict[str, Any]:
    keys = ("variable", "code", "datatype", "required", "datatype_description", "order", "description")
    return {
        "service_code": category.code,
        "attributes": [
            {**{key: attribute.get(key) for key in keys}, "values": attribute.get("values") or []}
            for attribute in sorted(category.attributes, key=lambda attribute: attribute["order"])
        ],
    }


def open311_request(
    concern: Concern, category: Category, beat: Beat | None, notes: str | None, settings: Settings
) -> dict[str, Any]:
    """A concern as a public Open311 service request: rounded location, no personal data."""
    public = views.concern_public(concern, category)
    agency = settings.agency_name + (f", {beat.name}" if beat else "")
    return {
        "service_request_id": concern.id,
        "status": open311_status(concern.status),
        "status_notes": notes or STATUS_LABELS[Status(concern.status)],
        "service_name": category.name,
        "service_code": category.code,
        "description": public["description"],
        "agency_responsible": agency,
        "service_notice": settings.notice(category.acknowledge_hours),
        "requested_datetime": utc_iso(concern.submitted_at),
        "updated_datetime": utc_iso(concern.updated_at),
        "expected_datetime": utc_iso(concern.acknowledge_by) if concern.status == Status.SUBMITTED.value else None,
        # The exact address is personal data; the public gets the beat, like the rounded point.
        "address": f"{beat.name}, {beat.neighbourhood}".strip(", ") if beat else None,
        "address_id": None,
        "zipcode": None,
        "lat": public["location"]["lat"],
        "long": public["location"]["long"],
        "media_url": concern.media_url,
    }


def open311_requests(session: Session, settings: Settings, rows: list[Concern]) -> list[dict[str, Any]]:
    categories = store.categories_by_code(session)
    beats_by_code = {beat.code: beat for beat in beats(session)}
    notes = latest_public_notes(session, [row.id for row in rows])
    return [
        open311_request(
            row, categories[row.category_code], beats_by_code.get(row.beat_code or ""), notes.get(row.id), settings
        )
        for row in rows
    ]


def latest_public_notes(session: Session, concern_ids: list[str]) -> dict[str, str]:
    notes: dict[str, str] = {}
    for concern_id, history in store.updates_for(session, concern_ids).items():
        for update in history:
            if update.public_note:
                notes[concern_id] = update.public_note
    return notes


def open311_search(
    session: Session,
    ids: list[str] | None,
    codes: list[str] | None,
    statuses: set[str] | None,
    window: tuple[datetime, datetime],
) -> list[Concern]:
    query = select(Concern).where(Concern.status != Status.WITHDRAWN.value)
    if ids is not None:
        query = query.where(Concern.id.in_(ids))  # overrides every other filter, as the spec says
    else:
        start, end = window
        query = query.where(Concern.submitted_at >= start, Concern.submitted_at <= end)
        if codes is not None:
            query = query.where(Concern.category_code.in_(codes))
        if statuses is not None:
            query = query.where(Concern.status.in_(sorted(statuses)))
    return list(session.scalars(query.order_by(Concern.submitted_at.desc(), Concern.id).limit(1000)))


def open311_updates(session: Session, window: tuple[datetime, datetime]) -> list[dict[str, Any]]:
    """Status changes in the window (FixMyStreet's servicerequestupdates extension)."""
    start, end = window
    rows = session.execute(
        select(ConcernUpdate, Concern.media_url)
        .join(Concern, Concern.id == ConcernUpdate.concern_id)
        .where(
            ConcernUpdate.from_status.is_not(None),
            ConcernUpdate.at >= start,
            ConcernUpdate.at <= end,
            Concern.status != Status.WITHDRAWN.value,
        )
        .order_by(ConcernUpdate.at, ConcernUpdate.id)
        .limit(1000)
    )
    return [
        {
            "update_id": str(update.id),
            "service_request_id": update.concern_id,
            "status": UPDATE_FEED_STATUS[Status(update.to_status)],
            "updated_datetime": utc_iso(update.at),
            "description": update.public_note or STATUS_LABELS[Status(update.to_status)],
            "media_url": media_url,
        }
        for update, media_url in rows
    ]


def reporter_contacts(session: Session, concern_ids: list[str]) -> dict[str, dict[str, Any] | None]:
    """How to reach each concern's reporter, in one query; None for an unknown concern or a
    reporter who left neither email nor phone."""
    if not isinstance(concern_ids, list) or not all(isinstance(concern_id, str) for concern_id in concern_ids):
        raise InvalidInput("concern_ids must be a list of concern ids", {"concern_ids": ["a list of strings"]})
    if len(concern_ids) > MAX_CONTACTS_PER_CALL:
        raise InvalidInput(
            f"at most {MAX_CONTACTS_PER_CALL} concerns per call", {"concern_ids": [f"{len(concern_ids)} given"]}
        )
    wanted = list(dict.fromkeys(concern_ids))
    found = {concern.id: concern for concern in session.scalars(select(Concern).where(Concern.id.in_(wanted)))}
    notes = _recent_public_notes(session, [concern.id for concern in found.values() if concern.has_contact])
    return {concern_id: _reporter_contact(found.get(concern_id), notes) for concern_id in wanted}


# Notes a message about a concern may quote: the reporter hears of each step soon after it.
RECENT_PUBLIC_NOTES = 5


def _recent_public_notes(session: Session, concern_ids: list[str]) -> dict[str, list[dict[str, str]]]:
    """Each concern's latest public notes, newest first, with the time of their step (= the
    occurred_at of the event that step published), so a message quotes its own step's note."""
    notes: dict[str, list[dict[str, str]]] = {concern_id: [] for concern_id in concern_ids}
    if not concern_ids:
        return notes
    rows = session.execute(
        select(ConcernUpdate.concern_id, ConcernUpdate.at, ConcernUpdate.public_note)
        .where(ConcernUpdate.concern_id.in_(concern_ids), ConcernUpdate.public_note.is_not(None))
        .order_by(ConcernUpdate.at.desc(), ConcernUpdate.id.desc())
    )
    for concern_id, at, note in rows:
        if note and len(notes[concern_id]) < RECENT_PUBLIC_NOTES:
            notes[concern_id].append({"at": utc_iso(at), "note": note})
    return notes


def _reporter_contact(concern: Concern | None, notes: dict[str, list[dict[str, str]]]) -> dict[str, Any] | None:
    """The reporter's contact, and the officers' recent public notes (public text, shown on the
    public view too) that the messages about the concern quote."""
    if concern is None or not concern.has_contact:
        return None
    return {
        "name": concern.reporter_name,
        "email": concern.reporter_email,
        "phone": concern.reporter_phone,
        "language": concern.language,
        "contact_preference": concern.contact_preference,
        "public_notes": notes.get(concern.id, []),
    }


# --- other services (RPC) ---------------------------------------------------------------


def beat_exists(session: Session, code: str) -> bool:
    return session.get(Beat, code) is not None


def beat_contacts(session: Session, code: str) -> dict[str, list[dict[str, Any]]]:
    """The officers and supervisors assigned to a beat, with their work contact details."""
    people = store.beat_officers(session, code)

    def card(officer: Officer) -> dict[str, Any]:
        return {"subject": officer.subject, "name": officer.name, "email": officer.email, "phone": officer.phone}

    return {
        "officers": [card(person) for person in people if person.role == "officer"],
        "supervisors": [card(person) for person in people if person.role == "supervisor"],
    }


def referral_client(session: Session, request_id: str) -> dict[str, Any] | None:
    """The client and consent of a referral request, for referrals; None for an unknown request."""
    found = session.get(ReferralRequest, request_id)
    return None if found is None else views.referral_client(found)
