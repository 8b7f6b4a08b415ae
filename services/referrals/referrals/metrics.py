"""Prometheus gauges of the referrals service (beside beat_shared.metrics), refreshed at each scrape."""

from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referrals.domain.lifecycle import SENT
from referrals.models import Referral

# "Nearing its answer-by time": an agency has this long left to accept or decline.
DUE_SOON = timedelta(hours=6)
REFERRALS_DUE_SOON = Gauge(
    "beat_referrals_due_soon",
    "Sent referrals an agency has not answered whose answer-by time is less than 6 hours away.",
)


def refresh_due_soon_gauge(session: Session, now: datetime) -> None:
    """One count over the (status, respond_by) index; the same on every replica (alerts take the max)."""
    due = session.scalar(
        select(func.count())
        .select_from(Referral)
        .where(Referral.status == SENT, Referral.respond_by > now, Referral.respond_by <= now + DUE_SOON)
    )
    REFERRALS_DUE_SOON.set(due or 0)
