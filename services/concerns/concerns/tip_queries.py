"""Tips as their readers see them: only the beat's officers and supervisors (not admins), every read
and listing logged in `tip_reads` (who, role, what, when; kept after the tip itself is erased,
`erase_after` = received + CONCERNS_TIP_RETENTION_DAYS), and that log for supervisors.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from beat_shared.clock import utc_iso
from beat_shared.db import existing
from beat_shared.errors import PermissionDenied
from beat_shared.rows import fields_of
from concerns import store
from concerns.domain.workflow import Actor
from concerns.models import Tip, TipRead

TIP_READERS = ("officer", "supervisor")  # not admins: they configure the platform, they do not work beats


def check_reader(actor: Actor, beat_code: str) -> None:
    """Raise PermissionDenied unless `actor` is an officer of the beat or a supervisor."""
    if actor.role not in TIP_READERS or not actor.may_manage(beat_code):
        raise PermissionDenied("tips are for the officers of their beat and supervisors only")


def audit(session: Session, now: datetime, actor: Actor, tip_ids: list[str], action: str) -> None:
    """Log that `actor` read (listed, linked) these tips: the read log outlives the tips."""
    for tip_id in tip_ids:
        session.add(TipRead(tip_id=tip_id, reader=actor.subject, reader_role=actor.role, action=action, at=now))


def beat_tips(session: Session, now: datetime, actor: Actor, beat_code: str, limit: int = 100) -> list[dict]:
    """The beat's tips, newest first; each listed tip's read is logged."""
    store.beat(session, beat_code)
    check_reader(actor, beat_code)
    query = select(Tip).where(Tip.beat_code == beat_code).order_by(Tip.received_at.desc(), Tip.id).limit(limit)
    tips = list(session.scalars(query))
    audit(session, now, actor, [tip.id for tip in tips], "list")
    return [tip_view(tip) for tip in tips]


def read(session: Session, now: datetime, actor: Actor, tip_id: str) -> dict[str, Any]:
    tip = existing(session, Tip, tip_id, "tip")  # or it was erased
    check_reader(actor, tip.beat_code)
    audit(session, now, actor, [tip.id], "read")
    return tip_view(tip)


def reads(session: Session, actor: Actor, tip_id: str) -> list[dict[str, Any]]:
    """Who read a tip (supervisors: the oversight of the read log)."""
    if actor.role != "supervisor":
        raise PermissionDenied("the tips' read log is for supervisors")
    rows = session.scalars(select(TipRead).where(TipRead.tip_id == tip_id).order_by(TipRead.at, TipRead.id))
    return [
        {"reader": row.reader, "role": row.reader_role, "action": row.action, "at": utc_iso(row.at)} for row in rows
    ]


def tip_view(tip: Tip) -> dict[str, Any]:
    return {
        **fields_of(tip, ("id", "beat_code")),
        "category": tip.category_code,
        **fields_of(tip, ("text", "contact", "language", "problem_id")),
        "received_at": utc_iso(tip.received_at),
        "erase_after": utc_iso(tip.erase_after),
    }
