"""Agency webhook endpoints and their Standard Webhooks signing secrets.

This service owns the registration and the secrets; the notifications service signs
and delivers (it asks for them over RPC). Rotation adds a new secret and lets the old
ones keep signing for an overlap period, so an agency can switch without losing events.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from beat_shared.errors import Conflict, InvalidInput, NotFound
from beat_shared.rows import fields_of
from referrals.models import WebhookEndpoint, WebhookSecret

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec allows 24 to 64
MAX_LIVE_SECRETS = 5
ENDPOINT_FIELDS = ("agency_id", "url", "description", "active", "disabled_reason", "created_at")


def new_secret() -> str:
    """`whsec_` + base64 of random bytes, as Standard Webhooks defines it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def check_url(url: str, allow_http: bool) -> None:
    """HTTPS with a host name or a public address; InvalidInput naming `url` otherwise."""
    parts = urlsplit(url)
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed or not parts.hostname:
        raise InvalidInput("webhook endpoints must be HTTPS URLs", {"url": ["must be an https:// URL"]})
    if allow_http:
        return
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return  # a name: the delivering service checks what it resolves to
    if address.is_private or address.is_loopback or address.is_link_local or address.is_reserved:
        raise InvalidInput("webhook endpoints must be public", {"url": ["private or loopback address"]})


def register(
    session: Session, agency_id: str, url: str, description: str | None, now: datetime, allow_http: bool
) -> WebhookEndpoint:
    check_url(url, allow_http)
    endpoint = WebhookEndpoint(
        id=str(uuid.uuid4()), agency_id=agency_id, url=url, description=description, active=True, created_at=now
    )
    endpoint.secrets = [WebhookSecret(id=str(uuid.uuid4()), secret=new_secret(), created_at=now)]
    session.add(endpoint)
    session.flush()
    return endpoint


def endpoint_of(session: Session, agency_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.agency_id != agency_id:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist")
    return endpoint


def live_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[WebhookSecret]:
    """Secrets that still sign, newest first."""
    live = [s for s in endpoint.secrets if s.expires_at is None or s.expires_at > now]
    # The current secret never expires; rotated-out ones expire in the order they were replaced.
    return sorted(live, key=lambda s: (s.expires_at is None, s.expires_at or s.created_at, s.created_at), reverse=True)


def rotate(session: Session, endpoint: WebhookEndpoint, now: datetime, overlap: timedelta) -> WebhookSecret:
    """A new secret; the current ones expire after `overlap` (at most a few stay live)."""
    if not endpoint.active:
        raise Conflict("this endpoint is disabled; register it again")
    for old in live_secrets(endpoint, now):
        if old.expires_at is None or old.expires_at > now + overlap:
            old.expires_at = now + overlap
    fresh = WebhookSecret(id=str(uuid.uuid4()), secret=new_secret(), created_at=now)
    endpoint.secrets.append(fresh)
    for surplus in live_secrets(endpoint, now)[MAX_LIVE_SECRETS:]:
        surplus.expires_at = now
    session.flush()
    return fresh


def disable(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    if endpoint.active:
        endpoint.active = False
        endpoint.disabled_reason = reason[:300]
        endpoint.disabled_at = now


def endpoints_for(session: Session, agency_id: str) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.agency_id == agency_id).order_by(WebhookEndpoint.created_at)
        )
    )


def endpoint_view(endpoint: WebhookEndpoint, now: datetime) -> dict[str, Any]:
    """What an agency or admin sees (never the secrets themselves)."""
    shown = fields_of(endpoint, ENDPOINT_FIELDS, endpoint_id="id")
    return {**shown, "live_secrets": len(live_secrets(endpoint, now))}
