"""Idempotency-Key on submissions: a resident's phone that retries after a lost answer gets
the concern it already made, not a second one (IETF draft "The Idempotency-Key HTTP Header
Field": 422 when the key is reused for another request, 409 while the first is in flight).

Keys are kept for a day, as hashes only: of the key with who sent it, and of the request.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from beat_shared.errors import Conflict, InvalidInput, Unprocessable
from concerns.models import SubmissionKey

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
VALID_KEY = re.compile(r"^[\x21-\x7e]{8,255}$")


@dataclass(frozen=True)
class Claim:
    key_hash: str
    concern_id: str | None  # set when an earlier submission with this key made a concern


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def claim(session: Session, key: str, sender: str, body: dict[str, Any], now: datetime) -> Claim:
    """Claim the key for this submission, or find the concern an earlier one made with it."""
    if not VALID_KEY.match(key):
        raise InvalidInput(f"{HEADER} must be 8 to 255 visible ASCII characters", {HEADER: ["not a valid key"]})
    key_hash = _digest(f"{sender}\x1f{key}")
    request_hash = _digest(json.dumps(body, sort_keys=True, default=str))
    found = session.get(SubmissionKey, key_hash)
    if found is not None and found.created_at > now - KEPT_FOR:
        if found.request_hash != request_hash:
            raise Unprocessable(f"this {HEADER} was used for a different submission", {HEADER: ["reused"]})
        return Claim(key_hash, found.concern_id)
    if found is not None:  # expired and not yet purged: the key starts afresh
        session.delete(found)
    session.add(SubmissionKey(key_hash=key_hash, request_hash=request_hash, concern_id=None, created_at=now))
    try:
        # A concurrent submission with the same key waits here until the first one commits.
        session.flush()
    except IntegrityError:
        raise Conflict(f"a submission with this {HEADER} is in progress; retry for its answer") from None
    return Claim(key_hash, None)


def remember(session: Session, claimed: Claim, concern_id: str) -> None:
    session.execute(
        update(SubmissionKey).where(SubmissionKey.key_hash == claimed.key_hash).values(concern_id=concern_id)
    )


def forget_expired(session: Session, now: datetime) -> int:
    return session.execute(delete(SubmissionKey).where(SubmissionKey.created_at <= now - KEPT_FOR)).rowcount
