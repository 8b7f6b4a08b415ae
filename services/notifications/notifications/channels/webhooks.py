"""Webhooks following Standard Webhooks (standardwebhooks.com).

Each request carries `webhook-id` (stable across retries: the receiver's idempotency
key), `webhook-timestamp` (Unix seconds) and `webhook-signature`: one
`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per active secret, space-separated,
so a receiver part-way through rotating its secret accepts either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests

from beat_shared.errors import InvalidInput
from notifications.channels import Outcome
from notifications.settings import Settings

SECRET_PREFIX = "whsec_"
THROTTLE_STATUSES = (429, 502, 504)


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret: the decoded base64 part."""
    encoded = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except ValueError as error:
        raise ValueError("webhook secret is not valid base64") from error
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Iterable[str], webhook_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(secret, webhook_id, timestamp, body) for secret in secrets)


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Retry-After as seconds (it may be a number of seconds or an HTTP date)."""
    raw = headers.get("Retry-After")
    if not raw:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def check_url(url: str, require_https: bool, allow_private: bool) -> list[str]:
    """Why a webhook URL may not be called (empty list: it may).

    Refuses non-https URLs in production mode and hosts that resolve to private,
    loopback, link-local or otherwise internal addresses (server-side request forgery).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ["the URL must be an absolute http(s) URL"]
    problems = []
    if require_https and parts.scheme != "https":
        problems.append("webhook URLs must use https")
    if parts.username or parts.password:
        problems.append("webhook URLs must not carry credentials")
    if not allow_private:
        try:
            infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return [*problems, f"the host {parts.hostname!r} does not resolve"]
        addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}
        if any(_forbidden(address) for address in addresses):
            problems.append("the host resolves to a private, loopback or internal address")
    return problems


def validate_url(url: str, settings: Settings) -> None:
    """Raise InvalidInput (400) naming what is wrong with a webhook URL."""
    problems = check_url(url, settings.webhook_require_https, settings.webhook_allow_private)
    if problems:
        raise InvalidInput("this webhook URL cannot be used", {"url": problems})


@dataclass(frozen=True)
class WebhookRequest:
    url: str
    secrets: tuple[str, ...]
    webhook_id: str
    timestamp: int
    body: bytes

    def headers(self) -> dict[str, str]:
        return {
            "webhook-id": self.webhook_id,
            "webhook-timestamp": str(self.timestamp),
            "webhook-signature": signature_header(self.secrets, self.webhook_id, self.timestamp, self.body),
            "Content-Type": "application/json",
            "User-Agent": "Beat-Notifications/1.0",
        }


class WebhookTransport:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, request: WebhookRequest, now: datetime) -> Outcome:
        """POST the exact signed bytes. 2xx succeeds; 410 disables the endpoint; 429/502/504
        throttle (honouring Retry-After); 3xx and other answers are failures to retry."""
        settings = self.settings
        problems = check_url(request.url, settings.webhook_require_https, settings.webhook_allow_private)
        if problems:
            return Outcome.permanent("endpoint refused: " + "; ".join(problems))
        try:
            headers = request.headers()
        except ValueError as error:
            return Outcome.permanent(f"endpoint secret unusable: {error}")
        try:
            response = requests.post(
                request.url,
                data=request.body,
                headers=headers,
                timeout=settings.webhook_timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            return Outcome.temporary(f"no answer within {settings.webhook_timeout:g}s")
        except requests.RequestException as error:
            return Outcome.temporary(f"endpoint unreachable: {type(error).__name__}")
        return outcome_for(response.status_code, response.headers, now)


def outcome_for(status: int, headers: Mapping[str, str], now: datetime) -> Outcome:
    if 200 <= status < 300:
        return Outcome.delivered(status)
    if status == 410:
        return Outcome.permanent("endpoint answered 410 Gone; disabled", status, disable_endpoint=True)
    if status in THROTTLE_STATUSES:
        return Outcome.temporary(
            f"endpoint throttled us ({status})", status, retry_after=retry_after_seconds(headers, now), throttle=True
        )
    if 300 <= status < 400:
        return Outcome.temporary(f"endpoint answered a redirect ({status}); redirects are not followed", status)
    return Outcome.temporary(f"endpoint answered {status}", status)
