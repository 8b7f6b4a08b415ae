"""Tips, the use cases that change them: receiving one for a beat's officers, linking it to a problem
(logged like a read) and erasing those past their retention period. The rules of who reads them
and the read log are tip_queries.py's.

A tip is never published and raises no event (its text and contact must not travel); the
client's address and device are not stored (the rate limiter counts addresses in memory only).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from beat_shared.db import existing
from beat_shared.errors import InvalidInput
from concerns import store
from concerns.domain.workflow import Actor
from concerns.models import Problem, Tip
from concerns.settings import Settings
from concerns.tip_queries import audit, check_reader, tip_view


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


def link_problem(session: Session, now: datetime, actor: Actor, tip_id: str, problem_id: str | None) -> dict:
    """Link a tip to a problem of its beat (None unlinks); logged like a read."""
    tip = existing(session, Tip, tip_id, "tip")  # or it was erased
    check_reader(actor, tip.beat_code)
    if problem_id is not None:
        problem = session.get(Problem, problem_id)
        if problem is None or problem.beat_code != tip.beat_code:
            raise InvalidInput("no such problem in the tip's beat", {"problem_id": ["unknown in this beat"]})
    tip.problem_id = problem_id
    audit(session, now, actor, [tip.id], "link")
    return tip_view(tip)


def erase_expired(session: Session, now: datetime) -> int:
    """Erase the tips past their retention period; returns how many."""
    result = session.execute(delete(Tip).where(Tip.erase_after <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
