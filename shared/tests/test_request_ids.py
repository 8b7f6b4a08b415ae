"""The request id travels into JSON log lines and into the headers of the events a request caused."""

import io
import json
import logging

from kombu import Connection, Queue

from beat_shared.amqp import event_exchange
from beat_shared.logs import JsonFormatter, RequestIdFilter
from beat_shared.testing import wait_for


def test_error_log_lines_are_json_with_the_request_id(ledger, web_session):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logging.getLogger("beat_shared.http").addHandler(handler)
    try:
        response = web_session.post(
            "/entries",
            json={"subject": "a", "sequence": 1, "fail_after_write": True},
            headers={"X-Request-ID": "req-42"},
        )
    finally:
        logging.getLogger("beat_shared.http").removeHandler(handler)
    assert response.status_code == 500
    assert "fail" not in response.text  # the cause is logged, not shown
    [line] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert line["request_id"] == "req-42"
    assert line["level"] == "ERROR"
    assert "failure after the domain write" in line["exception"]


def test_events_carry_the_request_id_that_caused_them(ledger, rabbit_config, web_session):
    with Connection(rabbit_config["AMQP_URI"]) as connection:
        queue = Queue("spy", exchange=event_exchange("ledger"), routing_key="#", durable=False)
        queue(connection.default_channel).declare()
        web_session.post("/entries", json={"subject": "a", "sequence": 1}, headers={"X-Request-ID": "req-77"})
        message = wait_for(lambda: queue(connection.default_channel).get(no_ack=True), message="event")
    assert message.headers["x-request-id"] == "req-77"
