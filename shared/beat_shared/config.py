"""Configuration: every setting Beat reads, with its default and meaning.

The platform's own settings (the broker, tokens, logs, the outbox, where each service listens and
keeps its data, the city's name) are declared here. Each service declares its own in its
`settings.py`, as a table registered in the `beat.settings` entry-point group of its
pyproject.toml; `SETTINGS` holds both, so `beat`, README's table and the deployment checks see them
all. Settings come from environment variables. Each service receives them as a nameko config dict
(built by :func:`service_config`) so that tests can pass their own values without touching the
process environment; :func:`setting_from` reads one: the config, then the environment, then the
default.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from beat_shared import registry


class Kind(Enum):
    """What a setting is to a deployment, and what production refuses of it."""

    PUBLIC = "public"  # in a ConfigMap
    SECRET = "secret"  # from a Secret in deployments, never from a ConfigMap
    DEVELOPMENT_SECRET = "development secret"  # a secret whose default production refuses (also empty)
    DEVELOPMENT_SWITCH = "development switch"  # local testing only: production refuses any value but the default


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    description: str
    kind: Kind = Kind.PUBLIC
    service: str = ""  # the service that declares it; empty: the platform's

    @property
    def secret(self) -> bool:
        return self.kind in (Kind.SECRET, Kind.DEVELOPMENT_SECRET)


SECRET = Kind.SECRET
DEVELOPMENT_SECRET = Kind.DEVELOPMENT_SECRET
DEVELOPMENT_SWITCH = Kind.DEVELOPMENT_SWITCH


def table(*rows: tuple[Any, ...]) -> tuple[Setting, ...]:
    """Settings from rows of (name, default, description[, kind]): a service's declaration."""
    return tuple(Setting(*row) for row in rows)


SERVICE_NAMES = ("concerns", "referrals", "notifications", "surveys")
# Services that own no database and consume no events: `beat run`/`serve` start them, migrate and
# seed-demo skip them. `web` (the pages) declares its WEB_* settings in web/settings.py.
PAGE_SERVICES = ("web",)
RUNNABLE_SERVICES = (*SERVICE_NAMES, *PAGE_SERVICES)
DEFAULT_PORTS = {"concerns": 8001, "referrals": 8002, "notifications": 8003, "surveys": 8004, "web": 8000}

PLATFORM_SETTINGS = table(
    (
        "BEAT_ENVIRONMENT",
        "development",
        "development or production. Production refuses to start with development secrets and refuses "
        "webhook endpoints that are not public HTTPS.",
    ),
    (
        "BEAT_CITY_NAME",
        "Anytown",
        "The city's name, as residents know it: the pages' title and brand, their maps, the footer of every "
        "e-mail and the survey dashboard. `make run` sets the demo city's (deploy/local/demo-city.env).",
    ),
    ("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/", "RabbitMQ connection URI.", SECRET),
    (
        "RABBIT_API_URI",
        "http://guest:guest@127.0.0.1:15672",
        "RabbitMQ management API, used by the CLI for agency provisioning and operations.",
        SECRET,
    ),
    *(
        (
            f"{service.upper()}_DATABASE_URL",
            f"sqlite:///var/{service}.db",
            f"SQLAlchemy URL of the {service} database (PostgreSQL in production).",
            SECRET,
        )
        for service in SERVICE_NAMES
    ),
    *(
        (
            f"{service.upper()}_HTTP_ADDRESS",
            f"0.0.0.0:{DEFAULT_PORTS[service]}",
            f"Address the {service} HTTP API listens on."
            if service in SERVICE_NAMES
            else "Address the web pages listen on.",
        )
        for service in RUNNABLE_SERVICES
    ),
    ("BEAT_QUEUE_TYPE", "classic", "RabbitMQ queue type for consumer queues: classic or quorum."),
    (
        "BEAT_RETRY_DELAYS",
        "1,5,30,120,600",
        "Seconds to wait before each retry of a failed event handler; after the last, the "
        "message goes to the dead-letter queue.",
    ),
    ("BEAT_MAX_BODY_BYTES", "1048576", "Largest HTTP request body accepted (bytes)."),
    (
        "BEAT_SHUTDOWN_SECONDS",
        "60",
        "On SIGTERM, how long running workers may finish before they are killed (keep it below the pod's grace "
        "period).",
    ),
    (
        "BEAT_TRUSTED_PROXIES",
        "",
        "Addresses or networks (comma-separated) of reverse proxies, such as the ingress controller, "
        "whose X-Forwarded-For is believed for the client's address (rate limits, open-link device "
        "limits). Empty: nobody's; the peer address counts.",
    ),
    ("BEAT_MAX_WORKERS", "10", "Concurrent workers per service (also the AMQP prefetch)."),
    ("BEAT_JWT_ALGORITHM", "HS256", "JWT signing algorithm: HS256 or RS256."),
    (
        "BEAT_JWT_SECRET",
        "beat-development-secret-change-me",
        "HS256 signing secret. Development only: set your own in any shared environment.",
        DEVELOPMENT_SECRET,
    ),
    ("BEAT_JWT_JWKS_URL", "", "JWKS URL of the city identity provider (RS256)."),
    ("BEAT_JWT_ISSUER", "beat", "Required `iss` claim of bearer tokens."),
    ("BEAT_JWT_AUDIENCE", "beat", "Required `aud` claim of bearer tokens."),
    ("BEAT_OUTBOX_BATCH", "2000", "Outbox rows the relay publishes per confirmed batch."),
    ("BEAT_OUTBOX_POLL_SECONDS", "1.0", "How often the relay looks for rows written by other processes."),
    ("BEAT_LOG_LEVEL", "INFO", "Log level."),
    (
        "BEAT_LOG_FORMAT",
        "json",
        "Log format: json (one object per line) or text. `beat run` chooses text when its output is a terminal "
        "and this is not set.",
    ),
    (
        "BEAT_DEV_MAIL_PORT",
        "8025",
        "Development only: the local port of the mail catcher `beat run` starts; notifications sends its e-mail "
        "there unless NOTIFICATIONS_SMTP_HOST is set. Refused in production.",
    ),
    (
        "BEAT_DEV_MAIL_DIR",
        "var/mail",
        "Development only: where the mail catcher keeps what it received, read by notifications' /dev/outbox page.",
    ),
)


class _Settings(Mapping[str, Setting]):
    """Name → setting: the platform's, then those of every installed service (its `beat.settings`
    entry point), read on first use so that a service's settings module may import this one."""

    def __init__(self, platform: tuple[Setting, ...]) -> None:
        self._platform = platform
        self._all: dict[str, Setting] | None = None

    def _table(self) -> dict[str, Setting]:
        if self._all is None:
            found = {setting.name: setting for setting in self._platform}
            for service, declared in registry.declared_settings().items():
                found |= {setting.name: replace(setting, service=service) for setting in declared}
            self._all = found
        return self._all

    def __getitem__(self, name: str) -> Setting:
        return self._table()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


SETTINGS: Mapping[str, Setting] = _Settings(PLATFORM_SETTINGS)


def __getattr__(name: str) -> Any:
    """DEVELOPMENT_SECRETS (names) and DEVELOPMENT_SWITCHES (name → the value production refuses),
    made from the settings' kinds when asked for (the services' settings are found on first use)."""
    if name == "DEVELOPMENT_SECRETS":
        return tuple(setting.name for setting in SETTINGS.values() if setting.kind is Kind.DEVELOPMENT_SECRET)
    if name == "DEVELOPMENT_SWITCHES":
        return {
            setting.name: not _flag(setting.default)
            for setting in SETTINGS.values()
            if setting.kind is Kind.DEVELOPMENT_SWITCH
        }
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


class UnsafeConfiguration(Exception):
    """A production service configured with a development secret."""


def is_production(config: Mapping[str, Any]) -> bool:
    return setting_from(config, "BEAT_ENVIRONMENT") == "production"


def check_production_settings(config: Mapping[str, Any], service: str | None = None) -> None:
    """In production, refuse the development defaults of secrets and the development switches left
    on; raises UnsafeConfiguration.

    With `service`, only the settings that service reads count: the platform's and its own, so a pod
    need not be given another service's secret to start."""
    if not is_production(config):
        return
    unsafe = [
        setting.name
        for setting in SETTINGS.values()
        if setting.service in ("", service or setting.service) and _unsafe(setting, config)
    ]
    if unsafe:
        raise UnsafeConfiguration(
            f"BEAT_ENVIRONMENT=production but {', '.join(unsafe)} still has its development value"
            " (a development secret, empty or left at its default, or a switch that lets webhooks reach"
            " private or plain-http addresses)"
        )


def _unsafe(setting: Setting, config: Mapping[str, Any]) -> bool:
    value = setting_from(config, setting.name)
    if setting.kind is Kind.DEVELOPMENT_SWITCH:
        return _flag(value) != _flag(setting.default)
    if setting.kind is not Kind.DEVELOPMENT_SECRET:
        return False
    if setting.name == "BEAT_JWT_SECRET" and setting_from(config, "BEAT_JWT_ALGORITHM") == "RS256":
        return False  # tokens are verified with the provider's keys: no shared secret is used
    # An empty value falls back to the default; one of only commas and spaces is an empty list of keys.
    return value == setting.default or not value.strip(", ")


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
    """A setting from a service's config dict, falling back to the environment, then its default."""
    value = config.get(name)
    return env(name) if value in (None, "") else str(value)


def retry_delays(config: Mapping[str, Any]) -> list[float]:
    raw = setting_from(config, "BEAT_RETRY_DELAYS")
    return [float(part) for part in raw.split(",") if part.strip()]
