"""Prometheus gauges of the concerns service (beside beat_shared.metrics), refreshed at each scrape."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from concerns.domain.workflow import Status
from concerns.models import Concern

CONCERNS_OVERDUE = Gauge(
    "beat_concerns_overdue",
    "Concerns not acknowledged by their acknowledge-by time (the alert BeatConcernsOverdue).",
)


def refresh_overdue_gauge(session: Session, now: datetime) -> None:
    """One count over the (status, submitted_at) index: still submitted, past acknowledge_by. The
    same number on every replica (one database), so alerts take the max, not the sum."""
    overdue = session.scalar(
        select(func.count())
        .select_from(Concern)
        .where(Concern.status == Status.SUBMITTED.value, Concern.acknowledge_by <= now)
    )
    CONCERNS_OVERDUE.set(overdue or 0)
