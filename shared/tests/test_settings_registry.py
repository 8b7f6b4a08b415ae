"""Settings live with their services: each declares its own table (its settings.toml, registered
through `beat.settings`), the platform declares none of theirs, and one provider gives a service
its typed settings, built once when it starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from nameko.testing.services import entrypoint_hook

from beat_shared import registry
from beat_shared.config import PLATFORM_SETTINGS, RUNNABLE_SERVICES, SETTINGS, setting_from
from beat_shared.entrypoints import rpc
from beat_shared.settings_provider import SettingsProvider

SERVICE_PREFIXES = tuple(f"{service.upper()}_" for service in RUNNABLE_SERVICES)
# Where each service keeps its data and listens: the platform's own, since it migrates and starts them.
PLATFORM_PER_SERVICE = ("_DATABASE_URL", "_HTTP_ADDRESS")


def test_each_service_declares_its_own_settings_and_the_platform_none_of_theirs():
    declared = registry.declared_settings()
    assert set(declared) == set(RUNNABLE_SERVICES)
    for service, table in declared.items():
        assert table, f"{service} declares no setting"
        assert all(setting.name.startswith(f"{service.upper()}_") for setting in table), service
        assert all(SETTINGS[setting.name].service == service for setting in table)
    theirs = [
        setting.name
        for setting in PLATFORM_SETTINGS
        if setting.name.startswith(SERVICE_PREFIXES) and not setting.name.endswith(PLATFORM_PER_SERVICE)
    ]
    assert theirs == [], "the platform declares a service's setting"


def test_every_setting_is_declared_once():
    names = [setting.name for setting in PLATFORM_SETTINGS]
    names += [setting.name for table in registry.declared_settings().values() for setting in table]
    assert len(names) == len(set(names)) == len(SETTINGS)


BUILT: list[Limits] = []  # every Limits from_config made


@dataclass(frozen=True)
class Limits:
    """A service's typed settings (as in its settings.py), refusing a bad value."""

    max_workers: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        workers = int(setting_from(config, "BEAT_MAX_WORKERS"))
        if workers < 1:
            raise ValueError("BEAT_MAX_WORKERS must be at least 1")
        BUILT.append(cls(workers))
        return BUILT[-1]


class Limited:
    name = "limited"
    settings = SettingsProvider(Limits)

    @rpc
    def limits(self) -> Limits:
        return self.settings


def test_the_provider_builds_the_settings_once_and_gives_every_worker_the_same(container_factory, beat_config):
    BUILT.clear()
    container = container_factory(Limited, beat_config("limited", BEAT_MAX_WORKERS="3"))
    container.start()
    with entrypoint_hook(container, "limits") as limits:
        first, second = limits(), limits()
    assert first is second is BUILT[0] and first.max_workers == 3
    assert len(BUILT) == 1  # built at start-up, not per worker


def test_a_bad_setting_stops_the_service_at_start_up(container_factory, beat_config):
    container = container_factory(Limited, beat_config("limited", BEAT_MAX_WORKERS="0"))
    with pytest.raises(ValueError, match="BEAT_MAX_WORKERS"):
        container.start()
