"""Configuration: every setting Beat reads, with its default and meaning.

The platform's own settings (the broker, tokens, logs, the outbox, the city's name) are declared
in the table `beat_shared/settings.toml`, and where each service listens and keeps its data here.
Each service declares its own in a `settings.toml` beside its `settings.py` (read with
:func:`declared`), registered in the `beat.settings` entry-point group of its pyproject.toml.
`SETTINGS` holds them all, so `beat`, README's table and the deployment checks see every one.
(Tables in TOML rather than Python: a declaration is data, and rows of Python tuples would read to
the duplicate finder as the same code written forty times.)

Settings come from environment variables. Each service receives them as a nameko config dict (built
by :func:`service_config`) so that tests can pass their own values without touching the process
environment; :func:`setting_from` reads one: the config, then the environment, then the default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import Enum
from importlib.resources import files
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


SERVICE_NAMES = ("concerns", "referrals", "notifications", "surveys")
# Services that own no database and consume no events: `beat run`/`serve` start them, migrate and
# seed-demo skip them. `web` (the pages) declares its WEB_* settings in web/settings.toml.
PAGE_SERVICES = ("web",)
RUNNABLE_SERVICES = (*SERVICE_NAMES, *PAGE_SERVICES)
DEFAULT_PORTS = {"concerns": 8001, "referrals": 8002, "notifications": 8003, "surveys": 8004, "web": 8000}


def declared(package: str) -> tuple[Setting, ...]:
    """The settings a package declares in its `settings.toml`: [NAME] with default, description and,
    unless public, kind."""
    rows = tomllib.loads(files(package).joinpath("settings.toml").read_text(encoding="utf-8"))
    return tuple(
        Setting(name, row["default"], row["description"], Kind(row.get("kind", Kind.PUBLIC.value)))
        for name, row in rows.items()
    )


def _per_service() -> tuple[Setting, ...]:
    """Where each service keeps its data and listens: the platform migrates and starts them."""
    stores = tuple(
        Setting(
            f"{name.upper()}_DATABASE_URL",
            f"sqlite:///var/{name}.db",
            f"SQLAlchemy URL of the {name} database (PostgreSQL in production).",
            Kind.SECRET,
        )
        for name in SERVICE_NAMES
    )
    addresses = tuple(
        Setting(
            f"{name.upper()}_HTTP_ADDRESS",
            f"0.0.0.0:{DEFAULT_PORTS[name]}",
            f"Address the {name} HTTP API listens on." if name in SERVICE_NAMES else "Address the web pages listen on.",
        )
        for name in RUNNABLE_SERVICES
    )
    return stores + addresses


PLATFORM_SETTINGS = (*declared("beat_shared"), *_per_service())


class _Settings(Mapping[str, Setting]):
    """Name → setting: the platform's, then those of every installed service (its `beat.settings`
    entry point), read on first use so that a service's settings module may import this one."""

    def __init__(self, platform: tuple[Setting, ...]) -> None:
        self._platform = platform
        self._all: dict[str, Setting] | None = None

    def _table(self) -> dict[str, Setting]:
        if self._all is None:
            found = {setting.name: setting for setting in self._platform}
            for service, table in registry.declared_settings().items():
                found |= {setting.name: replace(setting, service=service) for setting in table}
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


def outbox_retention(config: Mapping[str, Any]) -> timedelta | None:
    """How long published events stay in a service's outbox; None (the setting at 0) keeps them."""
    days = float(setting_from(config, "BEAT_OUTBOX_RETENTION_DAYS"))
    return timedelta(days=days) if days > 0 else None


def retry_delays(config: Mapping[str, Any]) -> list[float]:
    raw = setting_from(config, "BEAT_RETRY_DELAYS")
    return [float(part) for part in raw.split(",") if part.strip()]
