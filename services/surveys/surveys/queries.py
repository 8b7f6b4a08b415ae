"""Reading surveys as residents open them (by invitation token or open link), and the links
notifications sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.errors import Conflict, NotFound
from beat_shared.rows import fields_of
from surveys.domain.definitions import localise
from surveys.domain.tokens import LANGUAGES, link_for, token_for, token_hash
from surveys.models import Invitation, Survey, Wave


class InvitationUsed(Conflict):
    code = "invitation_used"


class SurveyClosed(Conflict):
    code = "survey_closed"


@dataclass(frozen=True)
class Submitted:
    survey_code: str
    period: str
    beat_code: str | None


def invitation_by_token(session: Session, token: str) -> Invitation:
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None:
        raise NotFound("this survey link is not valid")
    return invitation


def survey_for_token(session: Session, token: str, language: str | None, now: datetime) -> dict[str, Any]:
    """The survey an invitation token opens, in the requested (or invitation's) language."""
    invitation = invitation_by_token(session, token)
    if invitation.used:
        raise InvitationUsed("this invitation has already been used; thank you for taking part")
    if invitation.expires_at <= now:
        raise SurveyClosed("this invitation has expired")
    survey = session.get(Survey, invitation.survey_id)
    assert survey is not None
    chosen = language if language in LANGUAGES else invitation.language
    return localise(_definition(survey), chosen)


def _definition(survey: Survey) -> dict[str, Any]:
    return {
        "survey_id": survey.id,
        **fields_of(survey, ("code", "version", "kind", "title", "description", "questions")),
    }


def check_open(wave: Wave | None, now: datetime) -> None:
    if wave is not None and not wave.opens_at <= now < wave.closes_at:
        raise SurveyClosed("this survey is not open for responses now")


def open_link_wave(session: Session, slug: str) -> Wave:
    wave = session.scalar(select(Wave).where(Wave.open_link_slug == slug))
    if wave is None:
        raise NotFound("this open survey link is not valid")
    return wave


def survey_for_open_link(session: Session, slug: str, language: str | None) -> dict[str, Any]:
    wave = open_link_wave(session, slug)
    survey = session.get(Survey, wave.survey_id)
    assert survey is not None
    return {**localise(_definition(survey), language if language in LANGUAGES else "en"), "beats": wave.beat_codes}


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
