"""Prometheus metrics shared by every service (labelled by service)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

HTTP_REQUESTS = Counter("beat_http_requests_total", "HTTP requests answered.", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "beat_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_PUBLISHED = Counter(
    "beat_events_published_total", "Events the outbox relay published (confirmed).", ["service", "event_type"]
)
EVENTS_CONSUMED = Counter(
    "beat_events_consumed_total",
    "Events received by handlers, by outcome: processed, duplicate, retried, dead_lettered.",
    ["service", "handler", "outcome"],
)
OUTBOX_BACKLOG = Gauge("beat_outbox_backlog", "Outbox rows not yet published.", ["service"])
BROKER_UP = Gauge(
    "beat_broker_up",
    "1 if the service reached RabbitMQ at its last check, else 0 (events wait in the outbox meanwhile).",
    ["service"],
)
RELAY_FAILURES = Counter("beat_outbox_relay_failures_total", "Relay rounds that failed.", ["service"])


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
