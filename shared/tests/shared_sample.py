"""Two tiny services that exercise the shared library the way real services do.

`ledger` records entries over HTTP and publishes `beat.test.entry_recorded`
through its outbox; `tally` consumes those events idempotently.
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import Schema, fields
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.wrappers import Request, Response

from beat_shared.contracts import CloudEvent, EventContract, register
from beat_shared.db import Database, add_platform_tables
from beat_shared.errors import InvalidInput, NotFound
from beat_shared.http import http, json_response, read_json
from beat_shared.inbox import event_handler
from beat_shared.outbox import Outbox
from beat_shared.platform import PlatformEndpoints


class EntryRecorded(Schema):
    entry_id = fields.Integer(required=True)
    sequence = fields.Integer(required=True)


ENTRY_RECORDED = register(EventContract("beat.test.entry_recorded", "ledger", EntryRecorded, description="test event"))


class LedgerBase(DeclarativeBase):
    pass


add_platform_tables(LedgerBase.metadata)


class Entry(LedgerBase):
    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(50))
    sequence: Mapped[int] = mapped_column(Integer)


class EntryInput(Schema):
    subject = fields.String(required=True)
    sequence = fields.Integer(required=True)
    fail_after_write = fields.Boolean(load_default=False)
    break_contract = fields.Boolean(load_default=False)


class LedgerService(PlatformEndpoints):
    name = "ledger"
    db = Database(LedgerBase.metadata)
    outbox = Outbox()

    @http("POST", "/entries", auth="none")
    def record(self, request: Request) -> Response:
        body = read_json(request, EntryInput)
        entry = Entry(subject=body["subject"], sequence=body["sequence"])
        self.db.add(entry)
        self.db.flush()
        data: dict[str, Any] = {"entry_id": entry.id, "sequence": entry.sequence}
        if body["break_contract"]:
            data = {"entry_id": "not a number"}
        self.outbox.add("beat.test.entry_recorded", body["subject"], data)
        if body["fail_after_write"]:
            raise RuntimeError("failure after the domain write")
        return json_response({"id": entry.id}, status=201)

    @http("GET", "/entries/<int:entry_id>", roles=("officer", "admin"))
    def read(self, request: Request, entry_id: int) -> Response:
        entry = self.db.get(Entry, entry_id)
        if entry is None:
            raise NotFound(f"entry {entry_id} does not exist")
        return json_response({"id": entry.id, "subject": entry.subject, "reader": request.principal.subject})

    @http("POST", "/checked", roles=(), auth="optional")
    def checked(self, request: Request) -> Response:
        body = read_json(request, EntryInput)
        if body["sequence"] < 0:
            raise InvalidInput("sequence must not be negative", {"sequence": ["must be >= 0"]})
        who = request.principal.role if request.principal else "anonymous"
        return json_response({"who": who})


class TallyBase(DeclarativeBase):
    pass


add_platform_tables(TallyBase.metadata)


class Receipt(TallyBase):
    __tablename__ = "receipts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    subject: Mapped[str] = mapped_column(String(50))
    sequence: Mapped[int] = mapped_column(Integer)


class TallyService:
    name = "tally"
    db = Database(TallyBase.metadata)

    # Switched by tests to make the handler fail (after writing, to prove the rollback).
    failing: ClassVar[bool] = False
    attempts: ClassVar[int] = 0

    @event_handler("ledger", "beat.test.entry_recorded")
    def on_entry_recorded(self, event: CloudEvent) -> None:
        type(self).attempts += 1
        self.db.add(Receipt(event_id=event.id, subject=event.subject, sequence=event.data["sequence"]))
        self.db.flush()
        if type(self).failing:
            raise RuntimeError("tally is broken")


def receipts(database_url: str) -> list[Receipt]:
    from beat_shared.db import make_engine, unit_of_work

    engine = make_engine(database_url, pool_size=1)
    with unit_of_work(engine) as session:
        rows = list(session.scalars(select(Receipt).order_by(Receipt.id)))
    engine.dispose()
    return rows
