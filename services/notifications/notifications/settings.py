"""The settings the notifications service reads: their names, defaults and meanings (registered
with the platform in pyproject.toml's `beat.settings`; listed in the README), and the typed values
a worker is given. Values come from the nameko config dict (tests pass their own) and fall back to
environment variables, then the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from beat_shared.config import declared, setting_from
from beat_shared.ratelimit import Rate

SETTINGS = declared("notifications")  # notifications/settings.toml: names, defaults, meanings


def _flag(raw: str) -> bool:
    return raw.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: str
    smtp_starttls: bool
    smtp_timeout: float
    email_from: str
    message_id_domain: str
    public_url: str
    portal_url: str
    signing_secret: str
    sms_gateway_url: str
    sms_gateway_token: str
    sms_sender: str
    sms_idempotent: bool
    sms_inbound_token: str
    webhook_timeout: float
    webhook_require_https: bool
    webhook_allow_private: bool
    dispatch_seconds: float
    batch_size: int
    dispatch_concurrency: int
    dispatch_gather_seconds: float
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    sending_lease_seconds: float
    rpc_timeout: float
    timezone: str
    digest_hour: int
    subscribe_rate: Rate
    city_name: str  # BEAT_CITY_NAME: every e-mail's footer says whose platform sent it

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Settings from a nameko config dict, falling back to the environment, then defaults."""

        def read(name: str) -> str:
            return setting_from(config, name)

        return cls(
            smtp_host=read("NOTIFICATIONS_SMTP_HOST"),
            smtp_port=int(read("NOTIFICATIONS_SMTP_PORT")),
            smtp_username=read("NOTIFICATIONS_SMTP_USERNAME"),
            smtp_password=read("NOTIFICATIONS_SMTP_PASSWORD"),
            smtp_starttls=_flag(read("NOTIFICATIONS_SMTP_STARTTLS")),
            smtp_timeout=float(read("NOTIFICATIONS_SMTP_TIMEOUT")),
            email_from=read("NOTIFICATIONS_EMAIL_FROM"),
            message_id_domain=read("NOTIFICATIONS_MESSAGE_ID_DOMAIN"),
            public_url=read("NOTIFICATIONS_PUBLIC_URL").rstrip("/"),
            portal_url=read("NOTIFICATIONS_PORTAL_URL").rstrip("/"),
            signing_secret=read("NOTIFICATIONS_SIGNING_SECRET"),
            sms_gateway_url=read("NOTIFICATIONS_SMS_GATEWAY_URL"),
            sms_gateway_token=read("NOTIFICATIONS_SMS_GATEWAY_TOKEN"),
            sms_sender=read("NOTIFICATIONS_SMS_SENDER"),
            sms_idempotent=_flag(read("NOTIFICATIONS_SMS_IDEMPOTENT")),
            sms_inbound_token=read("NOTIFICATIONS_SMS_INBOUND_TOKEN"),
            webhook_timeout=float(read("NOTIFICATIONS_WEBHOOK_TIMEOUT")),
            webhook_require_https=_flag(read("NOTIFICATIONS_WEBHOOK_REQUIRE_HTTPS")),
            webhook_allow_private=_flag(read("NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE")),
            dispatch_seconds=float(read("NOTIFICATIONS_DISPATCH_SECONDS")),
            batch_size=int(read("NOTIFICATIONS_BATCH_SIZE")),
            dispatch_concurrency=max(1, int(read("NOTIFICATIONS_DISPATCH_CONCURRENCY"))),
            dispatch_gather_seconds=float(read("NOTIFICATIONS_DISPATCH_GATHER_SECONDS")),
            max_attempts=int(read("NOTIFICATIONS_MAX_ATTEMPTS")),
            retry_base_seconds=float(read("NOTIFICATIONS_RETRY_BASE_SECONDS")),
            retry_max_seconds=float(read("NOTIFICATIONS_RETRY_MAX_SECONDS")),
            sending_lease_seconds=float(read("NOTIFICATIONS_SENDING_LEASE_SECONDS")),
            rpc_timeout=float(read("NOTIFICATIONS_RPC_TIMEOUT")),
            timezone=read("NOTIFICATIONS_TIMEZONE"),
            digest_hour=int(read("NOTIFICATIONS_DIGEST_HOUR")),
            subscribe_rate=Rate.parse(read("NOTIFICATIONS_SUBSCRIBE_RATE_PER_ADDRESS")),
            city_name=read("BEAT_CITY_NAME"),
        )
