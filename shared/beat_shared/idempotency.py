"""Idempotency-Key on requests that create something: a client that retries after a lost
answer gets what its first request made, not a second one (IETF draft "The Idempotency-Key
HTTP Header Field": 422 when a key is reused for another request, 409 while the first one
is in flight).

A service declares the table with `add_idempotency_table(metadata)` and wraps the work in
`once(...)`, which claims the key before doing it and remembers what it made in the same
transaction (or finds what the first request made). Keys are kept for a day, as hashes only:
of the key with who sent it, and of the request body.

`once` is the claim/replay/remember sequence written once; referrals (a draft), notifications
(an officer's broadcast) and concerns (a submission, JSON or Open311's POST requests) use it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, Index, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Request

from beat_shared.auth import Principal
from beat_shared.db import UtcDateTime
from beat_shared.errors import Conflict, InvalidInput, Unprocessable

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
T = TypeVar("T")
KEPT_FOR = timedelta(hours=24)
VALID_KEY = re.compile(r"^[\x21-\x7e]{8,255}$")
HEADER_DOC = {
    HEADER: "8-255 visible ASCII characters, kept a day: a retry with the same key and body answers "
    f"with what the first request made ({REPLAYED_HEADER}: true)"
}
RESPONSES_DOC = {
    "409": {"description": f"a request with this {HEADER} is still in progress; retry"},
    "422": {"description": f"this {HEADER} was used for a different request"},
}


def add_idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("key_hash", String(64), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("resource_id", String(64), nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )


@dataclass(frozen=True)
class Claim:
    key_hash: str
    resource_id: str | None  # set when an earlier request with this key made something


def sender_of(principal: Principal | None) -> str:
    return f"{principal.role}:{principal.subject}" if principal else "anonymous"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def claim(session: Session, table: Table, key: str, sender: str, body: Any, now: datetime) -> Claim:
    """Claim the key for this request, or find what an earlier request with it made."""
    if not VALID_KEY.match(key):
        raise InvalidInput(f"{HEADER} must be 8 to 255 visible ASCII characters", {HEADER: ["not a valid key"]})
    key_hash = _digest(f"{sender}\x1f{key}")
    request_hash = _digest(json.dumps(body, sort_keys=True, default=str))
    found = session.execute(select(table).where(table.c.key_hash == key_hash)).first()
    if found is not None and found.created_at > now - KEPT_FOR:
        if found.request_hash != request_hash:
            raise Unprocessable(f"this {HEADER} was used for a different request", {HEADER: ["reused"]})
        return Claim(key_hash, found.resource_id)
    if found is not None:  # expired and not yet purged: the key starts afresh
        session.execute(delete(table).where(table.c.key_hash == key_hash))
    try:
        # A concurrent request with the same key waits here until the first one commits.
        session.execute(insert(table).values(key_hash=key_hash, request_hash=request_hash, created_at=now))
    except IntegrityError:
        raise Conflict(f"a request with this {HEADER} is in progress; retry for its answer") from None
    return Claim(key_hash, None)


def claim_request(session: Session, table: Table, request: Request, body: Any, now: datetime) -> Claim | None:
    """`claim` for an HTTP request that carries the header (None when it does not)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    return claim(session, table, key, sender_of(getattr(request, "principal", None)), body, now)


def remember(session: Session, table: Table, claimed: Claim, resource_id: str) -> None:
    session.execute(update(table).where(table.c.key_hash == claimed.key_hash).values(resource_id=resource_id))


def forget_expired(session: Session, table: Table, now: datetime) -> int:
    return session.execute(delete(table).where(table.c.created_at <= now - KEPT_FOR)).rowcount


@dataclass(frozen=True)
class Once(Generic[T]):
    """What `once` did: `made` is what this request made, None when it replays an earlier one."""

    resource_id: str
    made: T | None

    @property
    def replayed(self) -> bool:
        return self.made is None

    @property
    def headers(self) -> dict[str, str]:
        """The answer's extra headers: `Idempotent-Replayed: true` on a replay."""
        return {REPLAYED_HEADER: "true"} if self.replayed else {}


def once(
    session: Session,
    table: Table,
    request: Request,
    body: Any,
    now: datetime,
    make: Callable[[], T],
    id_of: Callable[[T], str],
) -> Once[T]:
    """Run `make` unless an earlier request with this Idempotency-Key made something already.

    Without the header `make` always runs. With it, a retry gets the earlier resource's id and
    `make` is not run; `body` is what the key is bound to (422 when a retry's differs)."""
    claimed = claim_request(session, table, request, body, now)
    if claimed is not None and claimed.resource_id is not None:
        return Once(claimed.resource_id, None)
    made = make()
    resource_id = id_of(made)
    if claimed is not None:
        remember(session, table, claimed, resource_id)
    return Once(resource_id, made)
