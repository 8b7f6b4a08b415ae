"""Prometheus metrics of the notifications service, per channel (like beat_shared.metrics)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.orm import Session

MESSAGES = Counter(
    "beat_notifications_messages_total",
    "Message status transitions (queued, sending, delivered, temporary_failure, permanent_failure).",
    ["channel", "status"],
)
SEND_SECONDS = Histogram(
    "beat_notifications_send_duration_seconds",
    "Time one delivery attempt took on the wire.",
    ["channel"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
)
SMS_SEGMENTS = Counter("beat_notifications_sms_segments_total", "SMS segments handed to the gateway.")
MESSAGES_BY_STATUS = Gauge(
    "beat_notifications_messages_current", "Messages currently in each status, per channel.", ["channel", "status"]
)


def record_transition(channel: str, status: str) -> None:
    MESSAGES.labels(channel, status).inc()


@contextmanager
def record_send(channel: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        SEND_SECONDS.labels(channel).observe(time.perf_counter() - started)


# Counting every message by status scans the whole table: at most this often, not every round
# (rounds run back to back under load).
STATUS_GAUGE_SECONDS = 15.0
_last_refresh = {"at": float("-inf")}


def refresh_status_gauge(session: Session, force: bool = False) -> None:
    from notifications.models import CHANNELS, STATUSES, Message

    now = time.monotonic()
    if not force and now - _last_refresh["at"] < STATUS_GAUGE_SECONDS:
        return
    _last_refresh["at"] = now

    counts = {
        (channel, status): count
        for channel, status, count in session.execute(
            select(Message.channel, Message.status, func.count()).group_by(Message.channel, Message.status)
        )
    }
    for channel in CHANNELS:
        for status in STATUSES:
            MESSAGES_BY_STATUS.labels(channel, status).set(counts.get((channel, status), 0))
