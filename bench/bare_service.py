"""The references of the intake benchmark: what nameko's HTTP path alone costs on this machine.

Started exactly like a Beat service (its own process, eventlet monkey-patched first, nameko's
runner, the same config: `max_workers`, serializer), but no schema, no auth, no outbox relay.

- Without `BENCH_DATABASE_URL`: `POST /concerns` returns a constant (the bare endpoint).
- With `BENCH_DATABASE_URL` (a database migrated to concerns' schema, its categories seeded):
  the **write floor**. `POST /concerns` parses the JSON body and writes, in one transaction,
  what a submission must write durably: the concern row, its first history row and its outbox
  row, into concerns' own tables (same columns, indexes and constraints), with values of the
  same sizes (a receipt-token hash, a CloudEvent body). Through `beat_shared.db.make_engine`
  (the pool Beat uses) and SQLAlchemy Core: one checkout, BEGIN, three INSERTs, COMMIT. No
  validation, placing, duplicate lookup or answer beyond the new id.

    BENCH_HTTP_ADDRESS=127.0.0.1:8099 [BENCH_DATABASE_URL=postgresql://...] .venv/bin/python bench/bare_service.py
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from nameko.cli.run import run  # noqa: E402
from nameko.web.handlers import http  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from werkzeug.wrappers import Request  # noqa: E402

import beat_shared.amqp  # noqa: E402, F401 - registers the cloudevents serializer the config accepts
from beat_shared.config import service_config  # noqa: E402
from beat_shared.db import make_engine  # noqa: E402
from concerns.models import Base, Concern, ConcernUpdate  # noqa: E402

CONSTANT = '{"concern": {"id": "bare", "status": "submitted"}}'
JSON = {"Content-Type": "application/json"}
CONCERNS, UPDATES, OUTBOX = Concern.__table__, ConcernUpdate.__table__, Base.metadata.tables["outbox"]


def writes_engine() -> Engine | None:
    url = os.environ.get("BENCH_DATABASE_URL")
    return make_engine(url) if url else None


ENGINE = writes_engine()


def rows(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The three rows a submission writes, with values of the same sizes as Beat's."""
    now = datetime.now(UTC)
    concern_id = str(uuid.uuid4())
    location, contact = body.get("location") or {}, body.get("contact") or {}
    concern = {
        "id": concern_id,
        "category_code": body["category"],
        "description": body.get("description", ""),
        "lat": location.get("lat"),
        "long": location.get("long"),
        "address": location.get("address"),
        "attributes": {},
        "language": body.get("language", "en"),
        "anonymous": not contact,
        "reporter_name": contact.get("name"),
        "reporter_email": contact.get("email"),
        "contact_preference": contact.get("preference", "none"),
        "receipt_token_hash": hashlib.sha256(secrets.token_urlsafe(24).encode()).hexdigest(),
        "source": "api",
        "status": "submitted",
        "beat_code": "RV-01",
        "outside_beats": False,
        "supporters": 0,
        "version": 1,
        "submitted_at": now,
        "updated_at": now,
        "acknowledge_by": now + timedelta(hours=72),
    }
    update = {
        "concern_id": concern_id,
        "to_status": "submitted",
        "actor_subject": "anonymous",
        "actor_role": "resident",
        "at": now,
    }
    event_id = str(uuid.uuid4())
    event = {
        "specversion": "1.0",
        "id": event_id,
        "source": "/beat/concerns",
        "type": "beat.concern.submitted",
        "time": now.isoformat(),
        "subject": concern_id,
        "datacontenttype": "application/json",
        "dataschema": "https://beat.city/schemas/events/beat.concern.submitted/v1.json",
        "data": {
            "concern_id": concern_id,
            "category_code": body["category"],
            "beat_code": "RV-01",
            "status": "submitted",
            "occurred_at": now.isoformat(),
            "anonymous": not contact,
            "has_contact": bool(contact),
            "outside_beats": False,
            "language": "en",
        },
    }
    outbox = {
        "event_id": event_id,
        "event_type": "beat.concern.submitted",
        "subject": concern_id,
        "body": json.dumps(event),
        "headers": json.dumps({"x-request-id": uuid.uuid4().hex}),  # Beat's request id travels with the event
        "created_at": now,
    }
    return concern, update, outbox


class BareService:
    name = "bare"

    @http("POST", "/concerns")
    def submit(self, request: Request) -> tuple[int, dict[str, str], str]:
        if ENGINE is None:
            return 201, JSON, CONSTANT
        concern, update, outbox = rows(json.loads(request.get_data()))
        with ENGINE.begin() as connection:
            connection.execute(CONCERNS.insert(), concern)
            connection.execute(UPDATES.insert(), update)
            connection.execute(OUTBOX.insert(), outbox)
        return 201, JSON, json.dumps({"concern": {"id": concern["id"], "status": "submitted"}})

    @http("GET", "/healthz")
    def healthz(self, request: Request) -> tuple[int, dict[str, str], str]:
        return 200, JSON, '{"status": "ok"}'


if __name__ == "__main__":
    config = service_config("bare", {"WEB_SERVER_ADDRESS": os.environ["BENCH_HTTP_ADDRESS"]})
    run([BareService], config)
