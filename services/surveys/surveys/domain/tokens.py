"""One-time invitation tokens, recipient keys and device hashes: keyed hashes, so that only
hashes are stored and nobody can be followed from one wave or day to the next.

A token is an HMAC of the invitation id under the service's secret, so the link can be
rebuilt when notifications asks for it while only the token's SHA-256 is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

LANGUAGES = ("en", "es")


def token_for(secret: bytes, invitation_id: str) -> str:
    digest = hmac.new(secret, f"invitation:{invitation_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def recipient_key(secret: bytes, wave_id: str, recipient_ref: str) -> str:
    """Lets a wave skip people already invited without keeping who they are after use."""
    return hmac.new(secret, f"recipient:{wave_id}:{recipient_ref}".encode(), hashlib.sha256).hexdigest()


def link_for(public_url: str, token: str) -> str:
    # The token travels in the fragment: browsers never send it to a server or a log.
    return f"{public_url}/respond#{token}"


def device_hash(secret: bytes, wave_id: str, day: str, fingerprint: str) -> str:
    """A keyed hash of the device, different every day: enough to count, useless to track."""
    return hmac.new(secret, f"open:{wave_id}:{day}:{fingerprint}".encode(), hashlib.sha256).hexdigest()
