"""Keyed hashes of addresses and signed unsubscribe tokens.

The suppression list holds only HMAC-SHA256(address) under the service's signing
secret: an unsubscribe applies to the address whichever service supplied it,
without the list itself holding a readable email address or phone number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from beat_shared.errors import InvalidInput


def address_hash(secret: str, channel: str, address: str) -> str:
    """A stable, non-reversible key for an address (emails compared case-insensitively)."""
    normalised = address.strip().lower() if channel == "email" else address.strip()
    return hmac.new(secret.encode(), f"{channel}:{normalised}".encode(), hashlib.sha256).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsubscribe_token(secret: str, address_key: str, channel: str, topic: str) -> str:
    payload = _b64(json.dumps({"h": address_key, "c": channel, "t": topic}, separators=(",", ":")).encode())
    signature = _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:16])
    return f"{payload}.{signature}"


def read_unsubscribe_token(secret: str, token: str) -> dict[str, Any]:
    """The {h, c, t} a token carries; InvalidInput if it was not signed by us."""
    try:
        payload, signature = token.split(".", 1)
        expected = _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:16])
        if not hmac.compare_digest(expected, signature):
            raise ValueError("bad signature")
        claims = json.loads(_unb64(payload))
        if not {"h", "c", "t"} <= set(claims):
            raise ValueError("incomplete")
    except (ValueError, TypeError) as error:
        raise InvalidInput("this unsubscribe link is not valid") from error
    return claims


# --- subscribers without an account (double opt-in) -------------------------------------------------
# Their links carry a signed token: `confirm` (one beat, until a time) in the confirmation mail,
# `manage` (all of that address's alerts, no end) in every alert mail. The purpose is signed in, so
# one kind of token can never stand for the other, nor for an unsubscribe token (another payload).

CONFIRM, MANAGE = "confirm", "manage"


def subscriber_token(
    secret: str, purpose: str, subject: str, beat_code: str = "", expires: int = 0, watch: bool = False
) -> str:
    confirming = {"b": beat_code, "e": expires, **({"w": 1} if watch else {})}
    claims = {"p": purpose, "s": subject, **(confirming if purpose == CONFIRM else {})}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = _b64(hmac.new(secret.encode(), f"subscriber:{payload}".encode(), hashlib.sha256).digest()[:18])
    return f"{payload}.{signature}"


def read_subscriber_token(secret: str, token: str, purpose: str, now: float) -> dict[str, Any]:
    """The claims of a subscriber token for `purpose`; InvalidInput if it is not ours, is for
    another purpose, or (a confirmation) has expired."""
    try:
        payload, signature = token.split(".", 1)
        expected = _b64(hmac.new(secret.encode(), f"subscriber:{payload}".encode(), hashlib.sha256).digest()[:18])
        if not hmac.compare_digest(expected, signature):
            raise ValueError("bad signature")
        claims = json.loads(_unb64(payload))
        if claims.get("p") != purpose or not isinstance(claims.get("s"), str):
            raise ValueError("another kind of link")
    except (ValueError, TypeError, AttributeError) as error:
        raise InvalidInput("this link is not valid", {"token": ["not a link Beat sent"]}) from error
    if purpose == CONFIRM and claims.get("e", 0) < now:
        raise InvalidInput("this confirmation link has expired", {"token": ["expired: ask again"]})
    return claims
