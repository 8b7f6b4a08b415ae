"""Reading the concerns database: the queries the commands and views share."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select, bindparam, literal, select, true
from sqlalchemy.orm import Session

from beat_shared.db import existing
from beat_shared.errors import InvalidInput, NotFound
from concerns.domain.duplicates import Candidate, Suggestion, suggest_duplicates
from concerns.domain.geo import BeatBoundary, boundary, degree_box
from concerns.domain.problems import OpenProblem, Stage
from concerns.domain.workflow import OPEN_STATUSES
from concerns.models import (
    PUBLIC_CONCERN_COLUMNS,
    REFERENCE_VERSION_ROW,
    Beat,
    BeatAssignment,
    Category,
    Concern,
    ConcernUpdate,
    Meeting,
    Officer,
    Problem,
    ReferenceVersion,
    ReferralRequest,
)
from concerns.settings import Settings

OPEN_VALUES = tuple(status.value for status in OPEN_STATUSES)


def token_hash(token: str) -> str:
    """Receipt tokens are stored only as hashes: a database leak reveals no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def category(session: Session, code: str, field: str = "category") -> Category:
    found = session.get(Category, code)
    if found is None or not found.active:
        raise InvalidInput(f"unknown category {code!r}", {field: [f"unknown category {code!r}"]})
    return found


def categories_of(session: Session, codes: set[str]) -> dict[str, Category]:
    """Just these categories (from the session's identity map when it has them)."""
    return {code: found for code in codes if (found := session.get(Category, code)) is not None}


def categories_by_code(session: Session) -> dict[str, Category]:
    return {found.code: found for found in session.scalars(select(Category))}


def concern(session: Session, concern_id: str, for_update: bool = False) -> Concern:
    query = select(Concern).where(Concern.id == concern_id)
    if for_update:
        query = query.with_for_update()
    found = session.scalars(query).first()
    if found is None:
        raise NotFound(f"concern {concern_id} does not exist")
    return found


def concern_by_receipt(session: Session, token: str) -> Concern | None:
    return session.scalars(select(Concern).where(Concern.receipt_token_hash == token_hash(token))).first()


def updates(session: Session, concern_id: str) -> list[ConcernUpdate]:
    return list(
        session.scalars(select(ConcernUpdate).where(ConcernUpdate.concern_id == concern_id).order_by(ConcernUpdate.id))
    )


def referral_requests_of(session: Session, concern_id: str) -> list[ReferralRequest]:
    query = select(ReferralRequest).where(ReferralRequest.concern_id == concern_id)
    return list(session.scalars(query.order_by(ReferralRequest.created_at, ReferralRequest.id)))


def updates_for(session: Session, concern_ids: Sequence[str]) -> dict[str, list[ConcernUpdate]]:
    grouped: dict[str, list[ConcernUpdate]] = {concern_id: [] for concern_id in concern_ids}
    if concern_ids:
        rows = session.scalars(
            select(ConcernUpdate).where(ConcernUpdate.concern_id.in_(concern_ids)).order_by(ConcernUpdate.id)
        )
        for row in rows:
            grouped[row.concern_id].append(row)
    return grouped


def beat(session: Session, code: str) -> Beat:
    return existing(session, Beat, code, "beat")


def boundaries_around(session: Session, lat: float, long: float) -> list[BeatBoundary]:
    """Boundaries of the beats whose bounding box holds the point (the exact test is in geo)."""
    rows = session.scalars(
        select(Beat).where(Beat.min_lat <= lat, Beat.max_lat >= lat, Beat.min_long <= long, Beat.max_long >= long)
    )
    return [boundary(row.code, row.boundary) for row in rows]


def beat_map(session: Session, known_version: int | None) -> dict[str, Any] | None:
    """Every beat's code, name and boundary with the reference version they belong to; None when
    `known_version` is still current (so a copy elsewhere is refreshed only when beats change)."""
    from concerns.reference import READ_VERSION  # reference imports this module

    version = session.execute(READ_VERSION).scalar()
    if known_version is not None and version == known_version:
        return None
    beats = session.scalars(select(Beat).order_by(Beat.code))
    return {
        "version": version,
        "beats": [{"code": beat.code, "name": beat.name, "boundary": beat.boundary} for beat in beats],
    }


def beats_of(session: Session, subject: str) -> frozenset[str]:
    return frozenset(session.scalars(select(BeatAssignment.beat_code).where(BeatAssignment.subject == subject)))


def beat_officers(session: Session, beat_code: str) -> list[Officer]:
    return list(
        session.scalars(
            select(Officer)
            .join(BeatAssignment, BeatAssignment.subject == Officer.subject)
            .where(BeatAssignment.beat_code == beat_code)
            .order_by(Officer.role, Officer.name)
        )
    )


# Enough to find the five nearest for sure: the SQL orders by a flat-earth distance, which
# differs from the great-circle one by far less than 1% at duplicate radii.
NEAREST_CANDIDATES = 10


def _nearest_open_concerns() -> Select:
    """Built once (statement construction and its cache key cost more than running it).
    The public columns, not just the places: the few suggested are then shown without a second
    query. Not whole concerns: ten ORM objects with the reporter's details and answers cost a
    submission more than the query itself (py-spy, bench/intake.py)."""
    concerns = Concern.__table__.c
    d_lat = concerns.lat - bindparam("lat")
    d_long = (concerns.long - bindparam("long")) * bindparam("long_scale")
    return (
        select(*PUBLIC_CONCERN_COLUMNS)
        .where(
            concerns.category_code == bindparam("category_code"),
            concerns.status.in_(OPEN_VALUES),
            concerns.submitted_at >= bindparam("since", type_=concerns.submitted_at.type),
            concerns.lat.between(bindparam("south"), bindparam("north")),
            concerns.long.between(bindparam("west"), bindparam("east")),
        )
        .order_by(d_lat * d_lat + d_long * d_long, concerns.id)
        .limit(NEAREST_CANDIDATES)
    )


NEAREST_OPEN_CONCERNS = _nearest_open_concerns()
PROBLEMS_VERSION = select(ReferenceVersion.problems_version).where(ReferenceVersion.id == REFERENCE_VERSION_ROW)


def _nearest_with_problems_version() -> Select:
    """NEAREST_OPEN_CONCERNS with the problems' counter beside each row, and the counter alone (the
    concern columns NULL) when none is near: a submission learns whether its cached open problems
    are current without a round trip of its own. Joined to a constant row, so a missing counter
    row reads as NULL instead of losing the concerns."""
    nearest = NEAREST_OPEN_CONCERNS.subquery()
    one_row = select(literal(1).label("one")).subquery()
    return select(PROBLEMS_VERSION.scalar_subquery().label("problems_version"), *nearest.c).select_from(
        one_row.outerjoin(nearest, true())
    )


NEAREST_WITH_PROBLEMS_VERSION = _nearest_with_problems_version()


def _nearest_parameters(
    category_code: str, lat: float, long: float, now: datetime, metres: float, days: float
) -> dict[str, Any]:
    south, west, north, east = degree_box(lat, long, metres)
    return {
        "category_code": category_code,
        "since": now - timedelta(days=days),
        "lat": lat,
        "long": long,
        "long_scale": math.cos(math.radians(lat)),  # a degree of longitude is shorter than one of latitude
        "south": south,
        "north": north,
        "west": west,
        "east": east,
    }


def nearest_open_concerns(
    session: Session, category_code: str, lat: float, long: float, now: datetime, metres: float, days: float
) -> list[Row[Any]]:
    """The open concerns of the category nearest to the point, within its box and period.

    Nearest first and at most NEAREST_CANDIDATES: a street with hundreds of reports of the
    same problem costs the same as a quiet one (index ix_concerns_category_place).
    """
    parameters = _nearest_parameters(category_code, lat, long, now, metres, days)
    return list(session.execute(NEAREST_OPEN_CONCERNS, parameters))


def likely_duplicates(
    session: Session, settings: Settings, category_code: str, lat: float, long: float, now: datetime
) -> tuple[list[Suggestion], dict[str, Row[Any]]]:
    """The suggested likely duplicates of a concern about to be stored here, and the suggested
    concerns' public columns (loaded by the one query, so showing them costs none)."""
    metres, days = settings.duplicate_metres, settings.duplicate_days
    nearest = nearest_open_concerns(session, category_code, lat, long, now, metres, days)
    return _suggested(category_code, lat, long, now, nearest, metres, days)


def likely_duplicates_and_problems_version(
    session: Session, settings: Settings, category_code: str, lat: float, long: float, now: datetime
) -> tuple[list[Suggestion], dict[str, Row[Any]], int | None]:
    """As `likely_duplicates`, and the problems' counter as this transaction sees it (None without
    its row), read by the same query."""
    metres, days = settings.duplicate_metres, settings.duplicate_days
    parameters = _nearest_parameters(category_code, lat, long, now, metres, days)
    rows = session.execute(NEAREST_WITH_PROBLEMS_VERSION, parameters).all()
    nearest = [row for row in rows if row.id is not None]
    problems_version = rows[0].problems_version if rows else None
    return (*_suggested(category_code, lat, long, now, nearest, metres, days), problems_version)


def _suggested(
    category_code: str, lat: float, long: float, now: datetime, nearest: list[Row[Any]], metres: float, days: float
) -> tuple[list[Suggestion], dict[str, Row[Any]]]:
    candidates = [Candidate(row.id, row.category_code, row.lat, row.long, row.submitted_at, True) for row in nearest]
    suggestions = suggest_duplicates(category_code, lat, long, now, candidates, metres, days)
    suggested = {suggestion.concern_id for suggestion in suggestions}
    return suggestions, {row.id: row for row in nearest if row.id in suggested}


OPEN_PROBLEMS = (
    select(
        Problem.id,
        Problem.beat_code,
        Problem.title,
        Problem.stage,
        Problem.categories,
        Problem.centre_lat,
        Problem.centre_long,
        Problem.radius_metres,
    )
    .where(Problem.stage != Stage.CLOSED.value)
    .order_by(Problem.opened_at, Problem.id)
)
OPEN_PROBLEMS_OF_BEAT = OPEN_PROBLEMS.where(Problem.beat_code == bindparam("beat_code"))


def open_problems(session: Session, beat_code: str | None = None) -> list[OpenProblem]:
    """The open problems, oldest first: of one beat, or of every beat."""
    rows = (
        session.execute(OPEN_PROBLEMS)
        if beat_code is None
        else session.execute(OPEN_PROBLEMS_OF_BEAT, {"beat_code": beat_code})
    )
    return [
        OpenProblem(
            row.id,
            row.beat_code,
            row.title,
            row.stage,
            tuple(row.categories),
            row.centre_lat,
            row.centre_long,
            row.radius_metres,
        )
        for row in rows
    ]


def upcoming_meetings(session: Session, beat_code: str, now: datetime, limit: int = 5) -> list[Meeting]:
    return list(
        session.scalars(
            select(Meeting)
            .where(Meeting.beat_code == beat_code, Meeting.ends_at >= now, Meeting.status == "scheduled")
            .order_by(Meeting.starts_at)
            .limit(limit)
        )
    )
