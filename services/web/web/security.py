"""The session cookie, CSRF tokens and the security headers of every page.

The session is a signed (not encrypted) cookie: it holds only what the person may see anyway
(their CSRF token, language, the receipt and supporter tokens they were given), and its signature
stops anyone from forging or altering it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

SESSION_COOKIE = "beat_session"
CSRF_FIELD = "csrf_token"
_SIGNATURE_BYTES = 32
# Browsers drop a cookie over 4096 bytes (name, value and attributes together), and with it the
# whole session; a signed-in person's token plus many receipts can come near that.
MAX_COOKIE_VALUE = 3800
# What may be let go, oldest first, to keep the cookie under the limit: the keys of forms already
# sent (only a recent one is ever sent again), then receipts (their links still open them).
_TRIMMABLE = ("sent_keys", "receipts")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Session:
    """What one browser carries between requests. `changed` marks it to be sent back."""

    data: dict[str, Any] = field(default_factory=dict)
    changed: bool = False

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.changed = True

    def pop(self, key: str, default: Any = None) -> Any:
        if key in self.data:
            self.changed = True
        return self.data.pop(key, default)

    @property
    def csrf_token(self) -> str:
        """This session's CSRF token, made on first use."""
        token = self.data.get(CSRF_FIELD)
        if not isinstance(token, str):
            token = secrets.token_urlsafe(32)
            self.set(CSRF_FIELD, token)
        return token

    def csrf_valid(self, submitted: str | None) -> bool:
        """Whether a form's CSRF token is this session's (compared in constant time)."""
        expected = self.data.get(CSRF_FIELD)
        if not isinstance(expected, str) or not submitted:
            return False
        return hmac.compare_digest(expected.encode(), submitted.encode())


class SessionCodec:
    """Signs a session into a cookie value and checks the signature on the way back."""

    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.sha256(b"beat-web-session:" + secret).digest()

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def dumps(self, session: Session) -> str:
        payload = json.dumps(session.data, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def dumps_within_limit(self, session: Session) -> str:
        """The cookie value, the oldest receipts and sent-form keys let go while it is too large
        for a browser to keep; the person, their token and the CSRF token are never let go."""
        value = self.dumps(session)
        while len(value) > MAX_COOKIE_VALUE and _let_go_of_oldest(session):
            value = self.dumps(session)
        return value

    def loads(self, cookie: str | None) -> Session:
        """The session in a cookie; an empty one when the cookie is missing, malformed or forged."""
        if not cookie or cookie.count(".") != 1:
            return Session()
        encoded, signature = cookie.split(".")
        try:
            payload, mac = _unb64(encoded), _unb64(signature)
        except ValueError:
            return Session()
        if len(mac) != _SIGNATURE_BYTES or not hmac.compare_digest(mac, self._sign(payload)):
            return Session()
        try:
            data = json.loads(payload)
        except ValueError:
            return Session()
        return Session(data if isinstance(data, dict) else {})


def _let_go_of_oldest(session: Session) -> bool:
    for bucket in _TRIMMABLE:
        kept = session.get(bucket)
        if kept:  # dicts and lists both keep their oldest entry first
            trimmed = dict(list(kept.items())[1:]) if isinstance(kept, dict) else list(kept)[1:]
            session.set(bucket, trimmed)
            return True
    return False


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def content_security_policy(nonce: str) -> str:
    """Scripts only from our own files carrying this response's nonce; no inline styles; no framing."""
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def security_headers(nonce: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(nonce),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(self)",
    }


def cookie_options(production: bool) -> dict[str, Any]:
    """HttpOnly always, SameSite=Lax, Secure outside development (pages served over HTTPS)."""
    return {"httponly": True, "samesite": "Lax", "secure": production, "path": "/"}
