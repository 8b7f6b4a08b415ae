"""Fixtures of the web service's tests: the concerns service on the test's database backend and
the web service in front of it, both real nameko containers on a throw-away vhost."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from beat_shared.db import make_engine, unit_of_work
from beat_shared.migrations import upgrade
from beat_shared.outbox import Outbox
from beat_shared.testing import free_port
from concerns.demo import seed_reference
from concerns.service import ConcernsService
from web.service import WebService

# The helpers module beside this file (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))


@dataclass(frozen=True)
class Stack:
    concerns_url: str
    web_url: str


@pytest.fixture
def concerns_db(database) -> str:
    url = database("concerns")
    upgrade("concerns", url)
    engine = make_engine(url, pool_size=1)
    with unit_of_work(engine) as session:
        seed_reference(session, datetime.now(UTC))
    engine.dispose()
    return url


@pytest.fixture
def stack(concerns_db, container_factory, beat_config) -> Stack:
    """concerns (no surveys: the beat page shows its report card as unavailable) and web."""
    concerns_port, web_port = free_port(), free_port()
    concerns = container_factory(
        ConcernsService,
        beat_config(
            "concerns",
            CONCERNS_DATABASE_URL=concerns_db,
            WEB_SERVER_ADDRESS=f"127.0.0.1:{concerns_port}",
            CONCERNS_RATE_PER_ADDRESS="1000/3600",
        ),
    )
    concerns.start()
    web = container_factory(
        WebService,
        beat_config(
            "web",
            WEB_SERVER_ADDRESS=f"127.0.0.1:{web_port}",
            WEB_CONCERNS_URL=f"http://127.0.0.1:{concerns_port}",
            WEB_SURVEYS_URL=f"http://127.0.0.1:{free_port()}",  # nobody listens: surveys is down
            WEB_API_TIMEOUT="5",
        ),
    )
    web.start()
    yield Stack(f"http://127.0.0.1:{concerns_port}", f"http://127.0.0.1:{web_port}")
    # The outbox relay must stop before the test database is dropped under it.
    for dependency in concerns.dependencies:
        if isinstance(dependency, Outbox):
            dependency.relay.stop()


@pytest.fixture
def proxied_stack(concerns_db, container_factory, beat_config) -> Stack:
    """Like `stack`, with web behind a trusted proxy and concerns trusting web (as in production),
    and a submission limit of one per client address."""
    concerns_port, web_port = free_port(), free_port()
    concerns = container_factory(
        ConcernsService,
        beat_config(
            "concerns",
            CONCERNS_DATABASE_URL=concerns_db,
            WEB_SERVER_ADDRESS=f"127.0.0.1:{concerns_port}",
            CONCERNS_RATE_PER_ADDRESS="1/3600",
            BEAT_TRUSTED_PROXIES="127.0.0.1/32",
        ),
    )
    concerns.start()
    web = container_factory(
        WebService,
        beat_config(
            "web",
            WEB_SERVER_ADDRESS=f"127.0.0.1:{web_port}",
            WEB_CONCERNS_URL=f"http://127.0.0.1:{concerns_port}",
            BEAT_TRUSTED_PROXIES="127.0.0.1/32",
        ),
    )
    web.start()
    yield Stack(f"http://127.0.0.1:{concerns_port}", f"http://127.0.0.1:{web_port}")
    for dependency in concerns.dependencies:
        if isinstance(dependency, Outbox):
            dependency.relay.stop()


@pytest.fixture
def web_alone(container_factory, beat_config) -> str:
    """The web service with no service behind it (every API unreachable); its base URL."""
    web_port = free_port()
    unreachable = f"http://127.0.0.1:{free_port()}"
    web = container_factory(
        WebService,
        beat_config(
            "web",
            WEB_SERVER_ADDRESS=f"127.0.0.1:{web_port}",
            WEB_CONCERNS_URL=unreachable,
            WEB_SURVEYS_URL=unreachable,
            WEB_API_TIMEOUT="2",
        ),
    )
    web.start()
    return f"http://127.0.0.1:{web_port}"


@pytest.fixture
def production_web(container_factory, beat_config) -> str:
    """The web service configured for production (every development secret and switch replaced)."""
    from beat_shared.config import DEVELOPMENT_SECRETS, DEVELOPMENT_SWITCHES

    web_port = free_port()
    safe = {name: f"a-city-secret-for-{name.lower()}" for name in DEVELOPMENT_SECRETS}
    safe |= {name: "false" if risky else "true" for name, risky in DEVELOPMENT_SWITCHES.items()}
    web = container_factory(
        WebService,
        beat_config(
            "web",
            WEB_SERVER_ADDRESS=f"127.0.0.1:{web_port}",
            BEAT_ENVIRONMENT="production",
            WEB_SESSION_SECRET="a-city-session-secret",
            **safe,
        ),
    )
    web.start()
    return f"http://127.0.0.1:{web_port}"
