"""A slow consumer: notifications stopped while concerns keep coming, then drained.

The backlog waits in RabbitMQ (durable queues); when notifications comes back it takes at
most BEAT_MAX_WORKERS messages at a time (the prefetch), so its memory must not grow with
the backlog. Its resident set size is sampled from /proc while it drains.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from reliability_harness import Tally, drive

if TYPE_CHECKING:
    from reliability_harness import Run

RSS_HEADROOM_KIB = 128 * 1024  # peak RSS while draining may exceed the steady state by at most this


def slow_consumer_scenario(run: Run) -> Tally:
    stack, checker = run.stack, run.checker
    notifications = stack.services["notifications"]
    baseline_kib = notifications.rss_kib() or 0
    queues = [q for q in checker.queues if "--notifications." in q]
    items = run.new_items("slow-consumer", run.config.slow_consumer_concerns)
    run.log(f"scenario slow-consumer: notifications stopped; {len(items)} concerns at {run.config.rate}/s")
    stopped_at = time.monotonic()
    notifications.stop()
    drive(run.client, items, run.config.rate)

    # The backlog: every event notifications consumes, published and waiting in its queues.
    def backlog() -> int:
        expected, _ = checker.expected_events(items)
        wanted = sum(
            1
            for (_, _, event_type), event_id in expected.events.items()
            for service, _ in checker.consumers.get(event_type, [])
            if service == "notifications"
        )
        published = all(event_id for event_id in expected.events.values())
        depths = checker.queue_state()
        waiting = sum(depths.get(q, 0) for q in queues)
        return waiting if published and waiting >= wanted else 0

    deadline = time.monotonic() + run.config.drain_timeout
    waiting = 0
    while time.monotonic() < deadline and not waiting:
        waiting = backlog()
        time.sleep(0.5)
    stopped_for = time.monotonic() - stopped_at

    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss = notifications.rss_kib()
            if rss:
                samples.append(rss)
            done.wait(0.1)

    notifications.start(wait=False)
    sampler = threading.Thread(target=sample, name="rss-sampler")
    sampler.start()
    try:
        tally = run.wait_drained("slow-consumer", items, time.monotonic())
    finally:
        done.set()
        sampler.join()
    peak = max(samples, default=0)
    settled = samples[-1] if samples else 0
    run.figures["slow_consumer"] = {
        "backlog_messages": waiting,
        "stopped_seconds": round(stopped_for, 1),
        "drain_seconds": None if tally.drain_seconds is None else round(tally.drain_seconds, 1),
        "rss_before_stop_mib": round(baseline_kib / 1024, 1),
        "rss_peak_while_draining_mib": round(peak / 1024, 1),
        "rss_after_drain_mib": round(settled / 1024, 1),
        "rss_bound_mib": round((baseline_kib + RSS_HEADROOM_KIB) / 1024, 1),
        "rss_samples": len(samples),
    }
    tally.notes.append(f"slow consumer: {run.figures['slow_consumer']}")
    if not waiting:
        tally.problems.append("no backlog built up while notifications was stopped")
    if not samples:
        tally.problems.append("no RSS samples of notifications")
    elif peak > baseline_kib + RSS_HEADROOM_KIB:
        tally.problems.append(
            f"notifications RSS peaked at {peak / 1024:.0f} MiB draining {waiting} messages "
            f"(before: {baseline_kib / 1024:.0f} MiB; bound {(baseline_kib + RSS_HEADROOM_KIB) / 1024:.0f} MiB)"
        )
    return tally
