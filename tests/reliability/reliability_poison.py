"""Poison messages: published by hand onto `concerns.events`, where real handlers consume them.

1. A malformed event (not a valid CloudEvent of its contract) goes straight to the
   dead-letter queue of every handler bound to its routing key, with the reason.
2. A valid `beat.concern.submitted` whose surveys handler fails: a database trigger refuses
   that concern's report-card row (standing in for a data fault an operator must fix). It
   is retried on the BEAT_RETRY_DELAYS schedule, then dead-lettered.
3. Concerns submitted right behind them flow normally: surveys records them while the
   failing one is still being retried — the queue is not blocked.
4. The operator discards the malformed letters (nothing can fix them), fixes the data
   (drops the trigger) and runs `beat dlq replay`: the event is processed exactly once.
   A second replay moves nothing, and the same event published again is skipped.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from reliability_harness import (
    Tally,
    discard_dead_letter,
    drive,
    peek_dead_letters,
    publish_by_hand,
    run_cli_replay,
    valid_event,
)

from beat_shared.amqp import dead_letter_queue_name
from beat_shared.clock import utc_iso
from beat_shared.testing import wait_for

if TYPE_CHECKING:
    from reliability_harness import Run

ROUTING_KEY = "beat.concern.submitted"
SURVEYS_HANDLER = "surveys.on_concern_submitted"
TRIGGER = """
CREATE OR REPLACE FUNCTION reliability_refuse_concern() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'concern % is not registered (reliability poison)', NEW.concern_id;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER reliability_refuse_concern BEFORE INSERT ON concern_activity FOR EACH ROW
    WHEN (NEW.concern_id LIKE 'poison-%') EXECUTE FUNCTION reliability_refuse_concern();
"""
FIX = "DROP TRIGGER reliability_refuse_concern ON concern_activity; DROP FUNCTION reliability_refuse_concern();"


def _queue(handler: str) -> str:
    service, method = handler.split(".")
    return f"evt-concerns-{ROUTING_KEY}--{service}.{method}"


def poison_scenario(run: Run) -> Tally:
    stack, checker = run.stack, run.checker
    amqp = stack.rabbit.amqp_uri
    handlers = [handler for service, handler in checker.consumers[ROUTING_KEY]]
    problems: list[str] = []
    notes: list[str] = []
    surveys = stack.database("surveys")
    with surveys.cursor() as cursor:
        cursor.execute(TRIGGER)

    # 1 and 2: the malformed event, then the one whose handler fails.
    malformed_id = f"malformed-{uuid.uuid4()}"
    malformed = b'{"specversion": "1.0", "type": "beat.concern.submitted", "data": {"concern_id": 42}}'
    publish_by_hand(amqp, "concerns.events", ROUTING_KEY, malformed, malformed_id)
    concern_id = f"poison-{uuid.uuid4()}"
    now = utc_iso(datetime.now(UTC))
    data = {
        "concern_id": concern_id,
        "category_code": "noise",
        "beat_code": None,
        "status": "submitted",
        "occurred_at": now,
        "anonymous": True,
        "has_contact": False,
        "outside_beats": False,
        "language": "en",
    }
    poison_id, poison_body = valid_event(ROUTING_KEY, concern_id, data)
    published_at = time.monotonic()
    publish_by_hand(amqp, "concerns.events", ROUTING_KEY, poison_body, poison_id)

    # 3: concerns right behind them.
    items = run.new_items("poison-message", run.config.poison_followers)
    drive(run.client, items, rate=max(run.config.rate, 10.0))

    def followers_recorded() -> bool:
        ids = [i.concern_id for i in items if i.concern_id]
        rows = checker.query(
            "surveys",
            "SELECT count(*) FROM concern_activity WHERE concern_id = ANY(%s) AND submitted_at IS NOT NULL",
            ids,
        )
        return len(ids) == len(items) and rows[0][0] == len(ids)

    wait_for(followers_recorded, timeout=120, interval=0.2, message="surveys to record the concerns behind the poison")
    followers_done = time.monotonic() - published_at
    poison_queue = dead_letter_queue_name(_queue(SURVEYS_HANDLER))

    def poison_dead() -> bool:
        return any(letter["message_id"] == poison_id for letter in peek_dead_letters(amqp, poison_queue))

    still_retrying = not poison_dead()
    wait_for(poison_dead, timeout=180, interval=0.2, message="the failing event to reach the dead-letter queue")
    dead_after = time.monotonic() - published_at
    notes.append(
        f"concerns behind the poison recorded by surveys {followers_done:.1f}s after it was published; "
        f"the failing event dead-lettered after {dead_after:.1f}s"
    )
    if not still_retrying:
        problems.append("the concerns behind the poison were recorded only after it was dead-lettered")

    # What sits in the dead-letter queues now.
    dead_lettered = 0
    for handler in handlers:
        letters = peek_dead_letters(amqp, dead_letter_queue_name(_queue(handler)))
        ids = {letter["message_id"] for letter in letters}
        dead_lettered += len(letters)
        if malformed_id not in ids:
            problems.append(f"the malformed event is not in the dead-letter queue of {handler}")
        for letter in letters:
            if letter["message_id"] == malformed_id and "not a valid CloudEvent" not in (letter["error"] or ""):
                problems.append(f"{handler}: malformed event dead-lettered with {letter['error']!r}")
        expected = {malformed_id, poison_id} if handler == SURVEYS_HANDLER else {malformed_id}
        if ids != expected:
            problems.append(f"{handler}: dead letters {sorted(ids)}, expected {sorted(expected)}")
        notes.append(f"{handler}: dead letters {[(letter['message_id'], letter['error']) for letter in letters]}")
    processed = checker.query(
        "surveys",
        "SELECT count(*) FROM processed_events WHERE event_id = %s AND handler = %s",
        poison_id,
        SURVEYS_HANDLER,
    )[0][0]
    if processed:
        problems.append("the failing event was recorded as processed before the fix")

    # 4: the operator.
    for handler in handlers:
        discard_dead_letter(amqp, dead_letter_queue_name(_queue(handler)), malformed_id)
    with surveys.cursor() as cursor:
        cursor.execute(FIX)
    replay_output = run_cli_replay(stack).strip().splitlines()
    notes.append(f"beat dlq replay: {replay_output[-1] if replay_output else ''}")
    if not replay_output or replay_output[-1] != "replayed 1 message(s)":
        problems.append(f"beat dlq replay printed {replay_output}")

    def processed_once() -> bool:
        rows = checker.query(
            "surveys",
            "SELECT count(*) FROM processed_events WHERE event_id = %s AND handler = %s",
            poison_id,
            SURVEYS_HANDLER,
        )
        return rows[0][0] == 1

    wait_for(processed_once, timeout=60, interval=0.2, message="the replayed event to be processed")
    again = run_cli_replay(stack).strip().splitlines()
    if not again or again[-1] != "replayed 0 message(s)":
        problems.append(f"a second beat dlq replay printed {again}")
    publish_by_hand(amqp, "concerns.events", ROUTING_KEY, poison_body, poison_id)  # a duplicate delivery
    tally = run.wait_drained("poison-message", items, time.monotonic())
    counts = checker.query(
        "surveys",
        "SELECT (SELECT count(*) FROM processed_events WHERE event_id = %s AND handler = %s), "
        "(SELECT count(*) FROM concern_activity WHERE concern_id = %s)",
        poison_id,
        SURVEYS_HANDLER,
        concern_id,
    )[0]
    if tuple(counts) != (1, 1):
        problems.append(f"after replay and a duplicate: processed {counts[0]} times, {counts[1]} report-card rows")
    surveys.close()
    tally.dead_lettered = dead_lettered
    tally.problems.extend(problems)
    tally.notes.extend(notes)
    return tally
