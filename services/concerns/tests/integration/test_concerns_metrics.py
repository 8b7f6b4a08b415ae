"""The concerns service's own gauge on /metrics: concerns past their acknowledge-by time (the alert
BeatConcernsOverdue in deploy/k8s/components/monitoring)."""

from __future__ import annotations


def gauge(web_session, name: str) -> float:
    text = web_session.get("/metrics").text
    [value] = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(f"{name} ")]
    return value


def test_the_overdue_gauge_counts_unacknowledged_concerns_past_their_deadline(
    service, submit, move, clock, web_session
):
    suspicious = submit(category="suspicious_activity")["concern"]["id"]  # 24 hours to acknowledge
    submit(category="noise")  # 72 hours
    acknowledged = submit(category="suspicious_activity")["concern"]["id"]
    move(acknowledged, "acknowledged", 1)
    assert gauge(web_session, "beat_concerns_overdue") == 0
    clock.advance(hours=25)
    # read from the deadline itself, so it does not wait for the overdue timer's flag
    assert gauge(web_session, "beat_concerns_overdue") == 1
    clock.advance(hours=48)
    assert gauge(web_session, "beat_concerns_overdue") == 2
    move(suspicious, "acknowledged", 1)
    assert gauge(web_session, "beat_concerns_overdue") == 1
