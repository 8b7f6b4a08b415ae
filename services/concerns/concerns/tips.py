"""Tips: information residents and community workers pass to a beat's officers.

A tip is never published and raises no event (its text and contact must not travel); the
client's address and device are not stored (the rate limiter counts addresses in memory only).
Only the beat's officers and supervisors read tips, and every read is logged in `tip_reads`
(kept after the tip itself is erased, `erase_after` = received + CONCERNS_TIP_RETENTION_DAYS).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.errors import InvalidInput, NotFound, PermissionDenied
from concerns import store
from concerns.domain.workflow import Actor
from concerns.models import Problem, Tip, TipRead
from concerns.settings import Settings

TIP_READERS = ("officer", "supervisor")  # not admins: they configure the platform, they do not work beats


def _check_reader(actor: Actor, beat_code: str) -> None:
    if actor.role not in TIP_READERS or not actor.may_manage(beat_code):
        raise PermissionDenied("tips are for the officers of their beat and supervisors only")


def receive(session: Session, settings: Settings, now: datetime, body: dict[str, Any]) -> Tip:
    """Keep a tip for its beat until the retention period ends."""
    store.beat(session, body["beat_code"])
    if body.get("category"):
        store.category(session, body["category"])
    tip = Tip(
        id=str(uuid.uuid4()),
        beat_code=body["beat_code"],
        category_code=body.get("category"),
        text=body["text"],
        contact=body.get("contact") or None,
        language=body["language"],
        received_at=now,
        erase_after=now + timedelta(days=settings.tip_retention_days),
    )
    session.add(tip)
    session.flush()
    return tip


def _audit(session: Session, now: datetime, actor: Actor, tip_ids: list[str], action: str) -> None:
    for tip_id in tip_ids:
        session.add(TipRead(tip_id=tip_id, reader=actor.subject, reader_role=actor.role, action=action, at=now))


def beat_tips(session: Session, now: datetime, actor: Actor, beat_code: str, limit: int = 100) -> list[dict]:
    """The beat's tips, newest first; each listed tip's read is logged."""
    store.beat(session, beat_code)
    _check_reader(actor, beat_code)
    query = select(Tip).where(Tip.beat_code == beat_code).order_by(Tip.received_at.desc(), Tip.id).limit(limit)
    tips = list(session.scalars(query))
    _audit(session, now, actor, [tip.id for tip in tips], "list")
    return [tip_view(tip) for tip in tips]


def read(session: Session, now: datetime, actor: Actor, tip_id: str) -> dict[str, Any]:
    tip = session.get(Tip, tip_id)
    if tip is None:
        raise NotFound(f"tip {tip_id} does not exist (or was erased)")
    _check_reader(actor, tip.beat_code)
    _audit(session, now, actor, [tip.id], "read")
    return tip_view(tip)


def link_problem(session: Session, now: datetime, actor: Actor, tip_id: str, problem_id: str | None) -> dict:
    """Link a tip to a problem of its beat (None unlinks); logged like a read."""
    tip = session.get(Tip, tip_id)
    if tip is None:
        raise NotFound(f"tip {tip_id} does not exist (or was erased)")
    _check_reader(actor, tip.beat_code)
    if problem_id is not None:
        problem = session.get(Problem, problem_id)
        if problem is None or problem.beat_code != tip.beat_code:
            raise InvalidInput("no such problem in the tip's beat", {"problem_id": ["unknown in this beat"]})
    tip.problem_id = problem_id
    _audit(session, now, actor, [tip.id], "link")
    return tip_view(tip)


def reads(session: Session, actor: Actor, tip_id: str) -> list[dict[str, Any]]:
    """Who read a tip (supervisors: the oversight of the read log)."""
    if actor.role != "supervisor":
        raise PermissionDenied("the tips' read log is for supervisors")
    rows = session.scalars(select(TipRead).where(TipRead.tip_id == tip_id).order_by(TipRead.at, TipRead.id))
    return [
        {"reader": row.reader, "role": row.reader_role, "action": row.action, "at": utc_iso(row.at)} for row in rows
    ]


def erase_expired(session: Session, now: datetime) -> int:
    """Erase the tips past their retention period; returns how many."""
    result = session.execute(delete(Tip).where(Tip.erase_after <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def tip_view(tip: Tip) -> dict[str, Any]:
    return {
        "id": tip.id,
        "beat_code": tip.beat_code,
        "category": tip.category_code,
        "text": tip.text,
        "contact": tip.contact,
        "language": tip.language,
        "problem_id": tip.problem_id,
        "received_at": utc_iso(tip.received_at),
        "erase_after": utc_iso(tip.erase_after),
    }
