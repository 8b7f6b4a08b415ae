"""The references of the intake benchmark: what nameko's HTTP path alone costs on this machine.

Started exactly like a Beat service (its own process, eventlet monkey-patched first, nameko's
runner, the same config: `max_workers`, serializer), but no schema, no auth, no outbox.

- Without `BENCH_DATABASE_URL`: `POST /concerns` returns a constant (the issue's reference).
- With `BENCH_DATABASE_URL`: `POST /concerns` parses the JSON body and stores it as one row in
  its own committed transaction, through `beat_shared.db.make_engine` (the pool Beat uses, which
  pings a connection only after it sat idle). That is the floor of any endpoint that durably
  writes on this stack: one checkout, BEGIN, one INSERT, COMMIT.

    BENCH_HTTP_ADDRESS=127.0.0.1:8099 [BENCH_DATABASE_URL=postgresql://...] .venv/bin/python bench/bare_service.py
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import json  # noqa: E402
import os  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from nameko.cli.run import run  # noqa: E402
from nameko.web.handlers import http  # noqa: E402
from sqlalchemy import Column, DateTime, MetaData, String, Table, Text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from werkzeug.wrappers import Request  # noqa: E402

import beat_shared.amqp  # noqa: E402, F401 - registers the cloudevents serializer the config accepts
from beat_shared.config import service_config  # noqa: E402
from beat_shared.db import make_engine  # noqa: E402

CONSTANT = '{"concern": {"id": "bare", "status": "submitted"}}'
JSON = {"Content-Type": "application/json"}

WRITES = Table(
    "bench_writes",
    MetaData(),
    Column("id", String(32), primary_key=True),
    Column("body", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)


def writes_engine() -> Engine | None:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        return None
    engine = make_engine(url)
    WRITES.metadata.create_all(engine)
    return engine


ENGINE = writes_engine()


class BareService:
    name = "bare"

    @http("POST", "/concerns")
    def submit(self, request: Request) -> tuple[int, dict[str, str], str]:
        if ENGINE is not None:
            body = json.loads(request.get_data())
            with ENGINE.begin() as connection:
                connection.execute(
                    WRITES.insert().values(id=uuid.uuid4().hex, body=json.dumps(body), at=datetime.now(UTC))
                )
        return 201, JSON, CONSTANT

    @http("GET", "/healthz")
    def healthz(self, request: Request) -> tuple[int, dict[str, str], str]:
        return 200, JSON, '{"status": "ok"}'


if __name__ == "__main__":
    config = service_config("bare", {"WEB_SERVER_ADDRESS": os.environ["BENCH_HTTP_ADDRESS"]})
    run([BareService], config)
