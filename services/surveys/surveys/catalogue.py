"""Survey definitions and waves: creating versions, finding them."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from beat_shared.db import existing, page_of
from beat_shared.errors import Conflict, InvalidInput, NotFound
from surveys.domain.definitions import check_definition
from surveys.domain.item_bank import (
    POST_CONTACT_SURVEY_CODE,
    STANDARD_SURVEY_CODE,
    post_contact_survey,
    standard_survey,
)
from surveys.domain.periods import period_bounds
from surveys.models import ConcernActivity, MeetingActivity, ResultTotal, Survey, Wave


def create_survey_version(session: Session, body: dict[str, Any], author: str, now: datetime) -> Survey:
    """Store a checked definition as the next version of its code (versions never change)."""
    definition = check_definition(body)
    latest = session.scalar(select(func.max(Survey.version)).where(Survey.code == definition["code"]))
    if latest is not None:
        kind = session.scalar(select(Survey.kind).where(Survey.code == definition["code"]).limit(1))
        if kind != definition["kind"]:
            raise Conflict(f"survey {definition['code']!r} is a {kind} survey; a new version cannot change that")
    survey = Survey(
        id=str(uuid.uuid4()),
        code=definition["code"],
        version=(latest or 0) + 1,
        kind=definition["kind"],
        title=definition["title"],
        description=definition["description"],
        questions=definition["questions"],
        created_at=now,
        created_by=author,
    )
    session.add(survey)
    session.flush()
    return survey


def latest_version(session: Session, code: str) -> Survey:
    survey = session.scalar(select(Survey).where(Survey.code == code).order_by(Survey.version.desc()).limit(1))
    if survey is None:
        raise NotFound(f"survey {code!r} does not exist")
    return survey


def survey_version(session: Session, code: str, version: int) -> Survey:
    survey = session.scalar(select(Survey).where(Survey.code == code, Survey.version == version))
    if survey is None:
        raise NotFound(f"survey {code!r} has no version {version}")
    return survey


def list_latest(session: Session, offset: int, limit: int) -> tuple[list[Survey], int]:
    latest = select(Survey.code, func.max(Survey.version).label("version")).group_by(Survey.code).subquery()
    query = select(Survey).join(latest, (Survey.code == latest.c.code) & (Survey.version == latest.c.version))
    return page_of(session, query, offset, limit, Survey.code)  # one row per code: (code, version) is unique


def create_wave(session: Session, body: dict[str, Any], now: datetime) -> Wave:
    """A wave of a survey version over beats and a period; optionally with an open link."""
    survey = (
        survey_version(session, body["survey_code"], body["survey_version"])
        if body.get("survey_version")
        else latest_version(session, body["survey_code"])
    )
    if survey.kind != "wave":
        raise InvalidInput("waves run wave surveys; post-contact surveys are sent after contact", {"survey_code": []})
    period_bounds(body["period"])
    if body["closes_at"] <= body["opens_at"]:
        raise InvalidInput("a wave must close after it opens", {"closes_at": ["before opens_at"]})
    beats = sorted(set(body["beat_codes"]))
    open_link = body.get("open_link") or {}
    wave = Wave(
        id=str(uuid.uuid4()),
        survey_id=survey.id,
        name=body["name"],
        period=body["period"],
        beat_codes=beats,
        opens_at=body["opens_at"],
        closes_at=body["closes_at"],
        open_link_slug=secrets.token_urlsafe(12) if open_link.get("enabled") else None,
        open_link_daily_limit=int(open_link.get("daily_limit_per_device", 3)),
        open_link_max_per_beat=open_link.get("max_responses_per_beat"),
        created_at=now,
    )
    session.add(wave)
    session.flush()
    return wave


def get_wave(session: Session, wave_id: str) -> Wave:
    return existing(session, Wave, wave_id, "wave")


def list_waves(session: Session, offset: int, limit: int) -> tuple[list[Wave], int]:
    return page_of(session, select(Wave), offset, limit, Wave.created_at.desc(), Wave.id)


def ensure_bank_survey(session: Session, code: str, now: datetime) -> Survey:
    """The latest version of a survey Beat ships (standard, post-contact), created on first use."""
    existing = session.scalar(select(Survey).where(Survey.code == code).order_by(Survey.version.desc()).limit(1))
    if existing is not None:
        return existing
    definition = standard_survey() if code == STANDARD_SURVEY_CODE else post_contact_survey()
    return create_survey_version(session, definition, "beat", now)


def post_contact_version(session: Session, now: datetime) -> Survey:
    return ensure_bank_survey(session, POST_CONTACT_SURVEY_CODE, now)


def known_beats(session: Session) -> list[str]:
    """Every beat this service has heard of: in a wave, a response or the activity read model."""
    beats: set[str] = set()
    for codes in session.scalars(select(Wave.beat_codes)):
        beats.update(codes)
    beats.update(session.scalars(select(ResultTotal.group_code).where(ResultTotal.grouping == "beat").distinct()))
    for column in (ConcernActivity.beat_code, MeetingActivity.beat_code):
        beats.update(code for code in session.scalars(select(column).distinct()) if code)
    return sorted(beats)
