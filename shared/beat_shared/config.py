"""Configuration: every setting Beat reads, with its default, in one place.

Settings come from environment variables. Each service receives them as a
nameko config dict (built by :func:`service_config`) so that tests can pass
their own values without touching the process environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    description: str
    secret: bool = False  # comes from a Secret in deployments, never from a ConfigMap


SETTINGS: dict[str, Setting] = {}

SERVICE_NAMES = ("concerns", "referrals", "notifications", "surveys")
# Services that own no database and consume no events: `beat run`/`serve` start them, migrate and
# seed-demo skip them. `web` (the pages) has its WEB_* settings below.
PAGE_SERVICES = ("web",)
RUNNABLE_SERVICES = (*SERVICE_NAMES, *PAGE_SERVICES)
DEFAULT_PORTS = {"concerns": 8001, "referrals": 8002, "notifications": 8003, "surveys": 8004, "web": 8000}


def _setting(name: str, default: str, description: str, secret: bool = False) -> Setting:
    entry = Setting(name, default, description, secret)
    SETTINGS[name] = entry
    return entry


_setting(
    "BEAT_ENVIRONMENT",
    "development",
    "development or production. Production refuses to start with development secrets and refuses "
    "webhook endpoints that are not public HTTPS.",
)
_setting("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/", "RabbitMQ connection URI.", secret=True)
_setting(
    "RABBIT_API_URI",
    "http://guest:guest@127.0.0.1:15672",
    "RabbitMQ management API, used by the CLI for agency provisioning and operations.",
    secret=True,
)
for _service in SERVICE_NAMES:
    _setting(
        f"{_service.upper()}_DATABASE_URL",
        f"sqlite:///var/{_service}.db",
        f"SQLAlchemy URL of the {_service} database (PostgreSQL in production).",
        secret=True,
    )
    _setting(
        f"{_service.upper()}_HTTP_ADDRESS",
        f"0.0.0.0:{DEFAULT_PORTS[_service]}",
        f"Address the {_service} HTTP API listens on.",
    )
_setting("BEAT_QUEUE_TYPE", "classic", "RabbitMQ queue type for consumer queues: classic or quorum.")
_setting(
    "BEAT_RETRY_DELAYS",
    "1,5,30,120,600",
    "Seconds to wait before each retry of a failed event handler; after the last, the "
    "message goes to the dead-letter queue.",
)
_setting("BEAT_MAX_BODY_BYTES", "1048576", "Largest HTTP request body accepted (bytes).")
_setting(
    "BEAT_SHUTDOWN_SECONDS",
    "60",
    "On SIGTERM, how long running workers may finish before they are killed (keep it below the pod's grace period).",
)
_setting(
    "BEAT_TRUSTED_PROXIES",
    "",
    "Addresses or networks (comma-separated) of reverse proxies, such as the ingress controller, "
    "whose X-Forwarded-For is believed for the client's address (rate limits, open-link device "
    "limits). Empty: nobody's; the peer address counts.",
)
_setting("BEAT_MAX_WORKERS", "10", "Concurrent workers per service (also the AMQP prefetch).")
_setting("BEAT_JWT_ALGORITHM", "HS256", "JWT signing algorithm: HS256 or RS256.")
_setting(
    "BEAT_JWT_SECRET",
    "beat-development-secret-change-me",
    "HS256 signing secret. Development only: set your own in any shared environment.",
    secret=True,
)
_setting("BEAT_JWT_JWKS_URL", "", "JWKS URL of the city identity provider (RS256).")
_setting("BEAT_JWT_ISSUER", "beat", "Required `iss` claim of bearer tokens.")
_setting("BEAT_JWT_AUDIENCE", "beat", "Required `aud` claim of bearer tokens.")
_setting("BEAT_OUTBOX_BATCH", "2000", "Outbox rows the relay publishes per confirmed batch.")
_setting("BEAT_OUTBOX_POLL_SECONDS", "1.0", "How often the relay looks for rows written by other processes.")
_setting("BEAT_LOG_LEVEL", "INFO", "Log level.")
_setting(
    "BEAT_LOG_FORMAT",
    "json",
    "Log format: json (one object per line) or text. `beat run` chooses text when its output is a terminal "
    "and this is not set.",
)
_setting(
    "BEAT_DEV_MAIL_PORT",
    "8025",
    "Development only: the local port of the mail catcher `beat run` starts; notifications sends its e-mail "
    "there unless NOTIFICATIONS_SMTP_HOST is set. Refused in production.",
)
_setting(
    "BEAT_DEV_MAIL_DIR",
    "var/mail",
    "Development only: where the mail catcher keeps what it received, read by notifications' /dev/outbox page.",
)


# --- the services' own settings (read with `setting_from`) ------------------------------------
_setting("REFERRALS_RESPONSE_HOURS", "48", "Hours an agency has to accept or decline a sent referral.")
_setting("REFERRALS_REMINDER_HOURS", "24", "Hours after sending when an unanswered referral gets a reminder.")
_setting("REFERRALS_RETENTION_DAYS", "365", "Days after a referral closes before its personal data is erased.")
_setting("REFERRALS_PUBLIC_URL", "http://127.0.0.1:8002", "Base URL agencies use to fetch referral details.")
_setting("REFERRALS_TIMEZONE", "America/Chicago", "Local time zone of the directory's opening hours.")
_setting("REFERRALS_WEBHOOK_SECRET_OVERLAP_HOURS", "24", "Hours a rotated-out webhook secret keeps signing.")
_setting("REFERRALS_WEBHOOKS_ALLOW_HTTP", "false", "Allow http:// agency webhook URLs (local testing only).")
_setting("SURVEYS_MIN_CELL", "30", "Smallest number of respondents a published cell may have (never below 10).")
_setting("SURVEYS_PUBLIC_URL", "http://127.0.0.1:8004", "Base URL of survey links sent to residents.")
_setting(
    "SURVEYS_TOKEN_SECRET",
    "beat-surveys-development-token-secret",
    "Key that derives one-time survey tokens. Development only: set your own.",
    secret=True,
)
_setting("SURVEYS_POST_CONTACT_DAYS", "28", "Days a post-contact survey invitation stays valid.")
_setting("SURVEYS_RESULTS_EVENT_SECONDS", "60", "Seconds between announcements of changed results.")

_setting(
    "CONCERNS_SERVICE_NOTICE",
    (
        "This is not an emergency line: if someone is in danger or a crime is happening now, call 911. "
        "An officer of your beat will acknowledge your concern within {hours} hours."
    ),
    "Notice on every answer about a concern; {hours} becomes the category's time to acknowledge.",
)
_setting(
    "CONCERNS_SERVICE_NOTICE_ES",
    (
        "Esta no es una línea de emergencias: si alguien está en peligro o se está cometiendo un delito, llame al 911. "
        "Un agente de su sector atenderá su inquietud en un plazo de {hours} horas."
    ),
    "CONCERNS_SERVICE_NOTICE for residents who write in Spanish.",
)
_setting(
    "CONCERNS_UNPLACED_NOTICE",
    (
        "This is not an emergency line: if someone is in danger or a crime is happening now, call 911. "
        "We could not place your concern in a beat from its location: a supervisor will pass it to the right "
        "officers, who will acknowledge it within {hours} hours."
    ),
    "Notice about a concern in no beat (given by address only, or outside every beat); {hours} as above.",
)
_setting(
    "CONCERNS_UNPLACED_NOTICE_ES",
    (
        "Esta no es una línea de emergencias: si alguien está en peligro o se está cometiendo un delito, llame al 911. "
        "No pudimos ubicar su inquietud en un sector por su ubicación: un supervisor la pasará a los agentes "
        "adecuados, que la atenderán en un plazo de {hours} horas."
    ),
    "CONCERNS_UNPLACED_NOTICE for residents who write in Spanish.",
)
_setting("CONCERNS_DEFAULT_ACK_HOURS", "72", "Hours to acknowledge a concern when its category sets none.")
_setting(
    "CONCERNS_DUPLICATE_METRES", "250", "Distance within which a concern of the same category is a likely duplicate."
)
_setting("CONCERNS_DUPLICATE_DAYS", "30", "Days back to look for likely duplicates.")
_setting("CONCERNS_RATE_PER_ADDRESS", "30/3600", "Submissions and 'me too's per client address: COUNT/SECONDS.")
_setting(
    "CONCERNS_RATE_PER_TOKEN", "10/3600", "Submissions and 'me too's per bearer subject, receipt token or API key."
)
_setting(
    "CONCERNS_OPEN311_API_KEYS",
    "riverton-demo-key",
    "Comma-separated API keys accepted by Open311 POST (the default is the demo city's: set your own).",
    secret=True,
)
_setting("CONCERNS_OPEN311_JURISDICTION", "riverton.example", "Open311 jurisdiction_id this endpoint serves.")
_setting("CONCERNS_PUBLIC_URL", "http://127.0.0.1:8001", "Public base URL (Open311 discovery).")
_setting("CONCERNS_AGENCY_NAME", "Riverton Police Department", "Open311 agency_responsible.")
_setting(
    "CONCERNS_CONTACT",
    "Riverton Police Department, community policing unit: community@riverton.example, +1 555 0100",
    "Open311 discovery contact.",
)
_setting("CONCERNS_RECENT_DAYS", "30", "Days a resolved concern counts as 'recently resolved' on the beat page.")
_setting(
    "CONCERNS_REFERENCE_MAX_AGE_SECONDS",
    "1",
    "Seconds another replica may serve a changed category or beat boundaries before it sees the change.",
)
_setting(
    "CONCERNS_PROBLEM_METRES",
    "150",
    "Scanning: the largest distance between two concerns of one candidate problem (a repeat place).",
)
_setting("CONCERNS_PROBLEM_DAYS", "90", "Scanning: days back that concerns count towards candidate problems.")
_setting("CONCERNS_PROBLEM_MIN_CONCERNS", "3", "Scanning: the fewest concerns that make a candidate problem.")
_setting(
    "CONCERNS_ASSESSMENT_DAYS",
    "56",
    "Assessment: days in each of the equal windows before a problem's response started and after it ended.",
)
_setting("CONCERNS_TIP_RETENTION_DAYS", "180", "Days a tip is kept; then it is erased (its read log stays).")
_setting(
    "CONCERNS_TIP_NOTICE",
    (
        "This is not an emergency line: if someone is in danger or a crime is happening now, call 911. "
        "Your tip goes only to the officers and supervisors of the beat and is never published. "
        "We do not keep your internet address or device. It is not anonymous where the law requires "
        "us to disclose it. Leave a phone number or e-mail only if you want a call back."
    ),
    "Notice shown with the tip form and every answer about a tip.",
)
_setting(
    "CONCERNS_TIP_NOTICE_ES",
    (
        "Esta no es una línea de emergencias: si alguien está en peligro o se está cometiendo un delito, llame al 911. "
        "Su aviso llega solo a los agentes y supervisores del sector y nunca se publica. "
        "No guardamos su dirección de internet ni su dispositivo. No es anónimo cuando la ley nos obliga "
        "a revelarlo. Deje un teléfono o correo solo si quiere que le llamemos."
    ),
    "CONCERNS_TIP_NOTICE in Spanish.",
)
_setting("NOTIFICATIONS_SMTP_HOST", "127.0.0.1", "SMTP relay host.")
_setting("NOTIFICATIONS_SMTP_PORT", "25", "SMTP relay port.")
_setting("NOTIFICATIONS_SMTP_USERNAME", "", "SMTP username (empty: no AUTH).")
_setting("NOTIFICATIONS_SMTP_PASSWORD", "", "SMTP password.", secret=True)
_setting("NOTIFICATIONS_SMTP_STARTTLS", "false", "Upgrade the SMTP connection with STARTTLS.")
_setting("NOTIFICATIONS_SMTP_TIMEOUT", "30", "Seconds before an SMTP conversation is abandoned.")
_setting("NOTIFICATIONS_EMAIL_FROM", "Beat Riverton <no-reply@beat.local>", "From header of every email.")
_setting("NOTIFICATIONS_MESSAGE_ID_DOMAIN", "beat.local", "Right-hand side of generated Message-IDs.")
_setting("NOTIFICATIONS_PUBLIC_URL", "http://localhost:8003", "Public base URL of this service (unsubscribe links).")
_setting(
    "NOTIFICATIONS_PORTAL_URL",
    "http://localhost:8000",
    "Public base URL of the pages residents follow for their concerns "
    "(the web service: /concerns/{id} needs no token).",
)
_setting(
    "NOTIFICATIONS_SIGNING_SECRET",
    "beat-notifications-development-secret",
    "Signs unsubscribe links and keys the address hashes of the suppression list. Set your own.",
    secret=True,
)
_setting("NOTIFICATIONS_SMS_GATEWAY_URL", "", "HTTP endpoint of the SMS gateway adapter (empty: SMS disabled).")
_setting("NOTIFICATIONS_SMS_GATEWAY_TOKEN", "", "Bearer token sent to the SMS gateway.", secret=True)
_setting("NOTIFICATIONS_SMS_SENDER", "BeatRiverton", "Sender id or number passed to the gateway.")
_setting(
    "NOTIFICATIONS_SMS_IDEMPOTENT",
    "true",
    "The gateway de-duplicates on our `reference`; if false, an SMS interrupted mid-send is not resent.",
)
_setting(
    "NOTIFICATIONS_SMS_INBOUND_TOKEN",
    "",
    "Shared token the gateway sends with inbound SMS (STOP handling).",
    secret=True,
)
_setting("NOTIFICATIONS_WEBHOOK_TIMEOUT", "15", "Seconds before a webhook request is abandoned.")
_setting("NOTIFICATIONS_WEBHOOK_REQUIRE_HTTPS", "true", "Production mode: refuse webhook URLs that are not https.")
_setting(
    "NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE",
    "false",
    "Allow webhook endpoints on private, loopback or link-local addresses (local testing only).",
)
_setting("NOTIFICATIONS_DISPATCH_SECONDS", "2", "Seconds between dispatcher rounds.")
_setting("NOTIFICATIONS_BATCH_SIZE", "50", "Messages a dispatcher round claims at most.")
_setting(
    "NOTIFICATIONS_DISPATCH_CONCURRENCY",
    "2",
    "Dispatcher rounds one replica runs at once (each claims its own batch); 1 runs them one after another.",
)
_setting("NOTIFICATIONS_MAX_ATTEMPTS", "9", "Delivery attempts before a message fails permanently (about a day).")
_setting("NOTIFICATIONS_RETRY_BASE_SECONDS", "60", "First retry delay; each next one is three times longer.")
_setting("NOTIFICATIONS_RETRY_MAX_SECONDS", "28800", "Longest single retry delay (before jitter).")
_setting(
    "NOTIFICATIONS_SENDING_LEASE_SECONDS",
    "120",
    "A message 'sending' for longer than this is considered interrupted (crash) and reconciled.",
)
_setting("NOTIFICATIONS_RPC_TIMEOUT", "10", "Seconds to wait for another service's RPC answer.")
_setting("NOTIFICATIONS_TIMEZONE", "America/Chicago", "Default time zone for quiet hours and digests.")
_setting("NOTIFICATIONS_DIGEST_HOUR", "7", "Local hour at which daily digests are sent.")
_setting(
    "NOTIFICATIONS_SUBSCRIBE_RATE_PER_ADDRESS",
    "10/3600",
    "Requests to follow a beat by e-mail without an account (each sends a confirmation mail) per client address: "
    "COUNT/SECONDS.",
)

# The web service (pages): where it reaches the four services' APIs, the city's time zone, the
# key that signs its session cookie.
_setting("WEB_HTTP_ADDRESS", "0.0.0.0:8000", "Address the web pages listen on.")
for _service in SERVICE_NAMES:
    _setting(
        f"WEB_{_service.upper()}_URL",
        f"http://127.0.0.1:{DEFAULT_PORTS[_service]}",
        f"Base URL of the {_service} API, as the web service calls it.",
    )
_setting(
    "WEB_SURVEYS_PUBLIC_URL",
    "http://127.0.0.1:8004",
    "Base URL of the surveys pages (dashboard) as a person's browser reaches them.",
)
_setting("WEB_TIMEZONE", "America/Chicago", "The city's time zone: every date and time on a page is shown in it.")
_setting(
    "WEB_SESSION_SECRET",
    "beat-web-development-session-secret",
    "Signs the session cookie (CSRF token, language, receipts being followed). Set your own.",
    secret=True,
)
_setting("WEB_API_TIMEOUT", "10", "Seconds a page waits for a service's API answer.")
# Signing in with the city's OpenID Connect provider (authorization code with PKCE). Empty: no
# provider (development offers its demo people instead; production then has no sign-in).
_setting(
    "WEB_OIDC_DISCOVERY_URL",
    "",
    "The city's OpenID Connect provider: its discovery document (`…/.well-known/openid-configuration`). Set, "
    "people sign in there and the development sign-in is off; needs BEAT_JWT_ALGORITHM=RS256 with its JWKS.",
)
_setting("WEB_OIDC_CLIENT_ID", "", "The web service's client id at the OpenID Connect provider.")
_setting(
    "WEB_OIDC_CLIENT_SECRET",
    "",
    "The web service's client secret at the OpenID Connect provider (production requires one).",
    secret=True,
)
_setting(
    "WEB_OIDC_REDIRECT_URL",
    "",
    "The sign-in callback as registered with the provider (`https://<site host>/sign-in/callback`). Empty: "
    "made from the address the browser used.",
)
_setting("WEB_OIDC_SCOPES", "openid profile", "Scopes the web service asks the OpenID Connect provider for.")

# Secrets whose default is the demo city's: production refuses them. An empty value counts as the
# default (settings fall back to it), so an empty Secret is refused too, not silently the demo value.
DEVELOPMENT_SECRETS = (
    "BEAT_JWT_SECRET",
    "SURVEYS_TOKEN_SECRET",
    "NOTIFICATIONS_SIGNING_SECRET",
    "CONCERNS_OPEN311_API_KEYS",
)
# Switches that let webhooks reach private or plain-http addresses (local testing only), with the
# value that does so: production refuses them, as it refuses development secrets.
DEVELOPMENT_SWITCHES = {
    "REFERRALS_WEBHOOKS_ALLOW_HTTP": True,
    "NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE": True,
    "NOTIFICATIONS_WEBHOOK_REQUIRE_HTTPS": False,
}


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


class UnsafeConfiguration(Exception):
    """A production service configured with a development secret."""


def is_production(config: Mapping[str, Any]) -> bool:
    return setting_from(config, "BEAT_ENVIRONMENT") == "production"


def check_production_settings(config: Mapping[str, Any], service: str | None = None) -> None:
    """In production, refuse the development defaults of secrets; raises UnsafeConfiguration.

    With `service`, only the secrets that service reads count: the platform's (BEAT_*) and its own,
    so a pod need not be given another service's secret to start."""
    if not is_production(config):
        return
    unsafe = [
        name
        for name in DEVELOPMENT_SECRETS
        if _read_by(name, service) and setting_from(config, name) == SETTINGS[name].default
    ]
    if setting_from(config, "BEAT_JWT_ALGORITHM") == "RS256":
        unsafe = [name for name in unsafe if name != "BEAT_JWT_SECRET"]
    keys = "CONCERNS_OPEN311_API_KEYS"
    if _read_by(keys, service) and keys not in unsafe and not setting_from(config, keys).strip(", "):
        unsafe.append(keys)  # only commas and spaces: no key, which no Open311 client could use
    unsafe += [name for name, risky in DEVELOPMENT_SWITCHES.items() if _flag(setting_from(config, name)) == risky]
    if unsafe:
        raise UnsafeConfiguration(
            f"BEAT_ENVIRONMENT=production but {', '.join(unsafe)} still has its development value"
            " (a development secret, empty or left at its default, or a switch that lets webhooks reach"
            " private or plain-http addresses)"
        )


def _read_by(setting: str, service: str | None) -> bool:
    owner = setting.split("_", 1)[0].lower()
    return service is None or owner not in SERVICE_NAMES or owner == service


def env(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The value of a registered setting, or its default."""
    source = os.environ if environ is None else environ
    return source.get(name) or SETTINGS[name].default


def service_config(service: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The nameko config dict for one service, read from the environment."""
    config: dict[str, Any] = {name: env(name) for name in SETTINGS}
    config["WEB_SERVER_ADDRESS"] = http_address(service)
    config["max_workers"] = int(env("BEAT_MAX_WORKERS"))
    config["serializer"] = "json"
    config["ACCEPT"] = ["json", "cloudevents"]
    config.update(overrides or {})
    return config


def http_address(service: str) -> str:
    """Where a service listens: its `<SERVICE>_HTTP_ADDRESS` setting, or its default port."""
    key = f"{service.upper()}_HTTP_ADDRESS"
    if key in SETTINGS:
        return env(key)
    return os.environ.get(key) or f"0.0.0.0:{DEFAULT_PORTS.get(service, 8000)}"


def database_url(service: str, config: Mapping[str, Any]) -> str:
    key = f"{service.upper()}_DATABASE_URL"
    return str(config.get(key) or os.environ.get(key) or f"sqlite:///var/{service}.db")


def setting_from(config: Mapping[str, Any], name: str) -> str:
    """A setting from a service's config dict, falling back to the environment."""
    value = config.get(name)
    return env(name) if value in (None, "") else str(value)


def retry_delays(config: Mapping[str, Any]) -> list[float]:
    raw = setting_from(config, "BEAT_RETRY_DELAYS")
    return [float(part) for part in raw.split(",") if part.strip()]
