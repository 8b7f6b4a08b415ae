"""Fixtures of the security tests: the four services running on fresh, seeded databases."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from beat_shared.db import make_engine, unit_of_work
from beat_shared.outbox import Outbox

sys.path.insert(0, str(Path(__file__).parent))  # for `import security_world` (unique name)

from security_world import SERVICES, World, free_port

SERVICE_CLASSES = {
    "concerns": "concerns.service:ConcernsService",
    "referrals": "referrals.service:ReferralsService",
    "notifications": "notifications.service:NotificationsService",
    "surveys": "surveys.service:SurveysService",
}

# Settings every world runs with; tests add their own per service.
BASE_SETTINGS: dict[str, dict[str, str]] = {
    "concerns": {"CONCERNS_RATE_PER_ADDRESS": "100000/3600", "CONCERNS_RATE_PER_TOKEN": "100000/3600"},
    "referrals": {"REFERRALS_PUBLIC_URL": "https://referrals.beat.test"},
    "notifications": {
        "NOTIFICATIONS_DISPATCH_SECONDS": "3600",  # tests drive rounds themselves
        "NOTIFICATIONS_SMTP_PORT": "1",  # nothing listens: a world without a sink sends nothing
        "NOTIFICATIONS_RPC_TIMEOUT": "5",
        "NOTIFICATIONS_SMS_INBOUND_TOKEN": "security-gateway-token",
        # every caller here is one client address: the matrix and schemathesis ask more than 10 an hour
        "NOTIFICATIONS_SUBSCRIBE_RATE_PER_ADDRESS": "100000/3600",
    },
    "surveys": {},
}


def service_class(service: str) -> type:
    module, _, name = SERVICE_CLASSES[service].partition(":")
    return getattr(importlib.import_module(module), name)


def prepare_database(migrated_database: Any, service: str) -> str:
    """A fresh database on the test's backend, migrated and seeded with the service's demo data."""
    url = migrated_database(service)
    demo = importlib.import_module(f"{service}.demo")
    engine = make_engine(url, pool_size=1)
    with unit_of_work(engine) as session:
        demo.seed(session)
    engine.dispose()
    return url


@pytest.fixture
def start_world(migrated_database, container_factory, beat_config, rabbit_config):
    """`start_world(services=..., settings={"concerns": {...}})` → a running World, its databases
    on the test's backend (every security test runs on SQLite and on PostgreSQL)."""
    worlds: list[World] = []

    def start(services: tuple[str, ...] = SERVICES, settings: dict[str, dict[str, str]] | None = None) -> World:
        started = time.monotonic()
        urls, databases, containers = {}, {}, {}
        for service in services:
            databases[service] = prepare_database(migrated_database, service)
        for service in services:
            port = free_port()
            overrides = {
                f"{service.upper()}_DATABASE_URL": databases[service],
                "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                **BASE_SETTINGS[service],
                **(settings or {}).get(service, {}),
            }
            config = beat_config(service, **overrides)
            container = container_factory(service_class(service), config)
            container.start()
            urls[service], containers[service] = f"http://127.0.0.1:{port}", container
        world = World(urls, databases, containers, rabbit_config["AMQP_URI"])
        world.started_in = time.monotonic() - started  # type: ignore[attr-defined]
        worlds.append(world)
        return world

    yield start
    for world in worlds:
        world.close()
        # The outbox relays must stop before the test databases are dropped under them.
        for container in world.containers.values():
            for dependency in container.dependencies:
                if isinstance(dependency, Outbox):
                    dependency.relay.stop()


@pytest.fixture
def world(start_world) -> World:
    return start_world()
