"""Fixtures of the web service's tests: the concerns service on the test's database backend and
the web service in front of it, both real nameko containers on a throw-away vhost."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from beat_shared.config import DEVELOPMENT_SECRETS, DEVELOPMENT_SWITCHES
from beat_shared.db import make_engine, unit_of_work
from beat_shared.outbox import Outbox
from beat_shared.testing import free_port
from concerns.demo import seed_reference
from concerns.service import ConcernsService
from referrals import demo as referrals_demo
from referrals.service import ReferralsService
from surveys import demo as surveys_demo
from surveys.service import SurveysService
from web.service import WebService

# The helpers module beside this file (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))


# The pages name the demo city whose beats and people the tests run on, as `make run` does (the
# screenshots in docs/ are theirs); the code's own default names no city.
DEMO_CITY = {"BEAT_CITY_NAME": "Riverton"}


@dataclass(frozen=True)
class Stack:
    concerns_url: str
    web_url: str


@pytest.fixture
def concerns_db(migrated_database) -> str:
    url = migrated_database("concerns")
    engine = make_engine(url, pool_size=1)
    with unit_of_work(engine) as session:
        seed_reference(session, datetime.now(UTC))
    engine.dispose()
    return url


@pytest.fixture
def start_web(container_factory, beat_config):
    """Starts the web service with config overrides; returns its base URL."""

    def start(**overrides) -> str:
        port = free_port()
        config = beat_config("web", WEB_SERVER_ADDRESS=f"127.0.0.1:{port}", **{**DEMO_CITY, **overrides})
        web = container_factory(WebService, config)
        web.start()
        return f"http://127.0.0.1:{port}"

    return start


@pytest.fixture
def start_stack(concerns_db, container_factory, beat_config, start_web):
    """Starts concerns (on the test's backend) and web in front of it, each with its overrides.
    No surveys: the beat page shows its report card as unavailable."""
    relays = []

    def start(concerns: dict | None = None, web: dict | None = None) -> Stack:
        port = free_port()
        config = {"CONCERNS_DATABASE_URL": concerns_db, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", **(concerns or {})}
        container = container_factory(ConcernsService, beat_config("concerns", **config))
        container.start()
        relays.extend(d.relay for d in container.dependencies if isinstance(d, Outbox))
        concerns_url = f"http://127.0.0.1:{port}"
        nobody = f"http://127.0.0.1:{free_port()}"  # nobody listens: surveys is down
        # Nobody at referrals either unless a test starts it: never a referrals service someone runs on 8002.
        # Surveys too, unless a test starts it.
        web = {"WEB_REFERRALS_URL": nobody, "WEB_SURVEYS_URL": nobody, **(web or {})}
        web_url = start_web(WEB_CONCERNS_URL=concerns_url, **web)
        return Stack(concerns_url, web_url)

    yield start
    for relay in relays:  # the outbox relay must stop before the test database is dropped under it
        relay.stop()


@pytest.fixture
def stack(start_stack) -> Stack:
    return start_stack(concerns={"CONCERNS_RATE_PER_ADDRESS": "1000/3600"}, web={})


@pytest.fixture
def proxied_stack(start_stack) -> Stack:
    """Web behind a trusted proxy and concerns trusting web (as in production), and a submission
    limit of one per client address."""
    trusted = {"BEAT_TRUSTED_PROXIES": "127.0.0.1/32"}
    return start_stack(concerns={"CONCERNS_RATE_PER_ADDRESS": "1/3600", **trusted}, web=trusted)


@pytest.fixture
def web_alone(start_web) -> str:
    """The web service with no service behind it (every API unreachable); its base URL."""
    unreachable = f"http://127.0.0.1:{free_port()}"
    return start_web(WEB_CONCERNS_URL=unreachable, WEB_SURVEYS_URL=unreachable, WEB_API_TIMEOUT="2")


@pytest.fixture
def production_web(start_web) -> str:
    """The web service configured for production (every development secret and switch replaced)."""
    safe = {name: f"a-city-secret-for-{name.lower()}" for name in DEVELOPMENT_SECRETS}
    safe |= {name: "false" if risky else "true" for name, risky in DEVELOPMENT_SWITCHES.items()}
    return start_web(BEAT_ENVIRONMENT="production", WEB_SESSION_SECRET="a-city-session-secret", **safe)


@pytest.fixture
def referrals_url(migrated_database, container_factory, beat_config):
    """The referrals service (demo directory, on the test's backend) on the test's vhost; its base URL."""
    url = migrated_database("referrals")
    engine = make_engine(url, pool_size=1)
    with unit_of_work(engine) as session:
        referrals_demo.seed_directory(session)
    engine.dispose()
    port = free_port()
    config = beat_config("referrals", REFERRALS_DATABASE_URL=url, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}")
    container = container_factory(ReferralsService, config)
    container.start()
    yield f"http://127.0.0.1:{port}"
    for relay in (d.relay for d in container.dependencies if isinstance(d, Outbox)):
        relay.stop()  # before the test database is dropped under it


@pytest.fixture
def surveys_url(migrated_database, container_factory, beat_config, clock):
    """The surveys service (its demo results, dated from the test module's `clock`) on the test's backend; its URL."""
    now = clock.now()
    url = migrated_database("surveys", (f"demo results at {now.isoformat()}", lambda s: surveys_demo.seed(s, now)))
    port = free_port()
    container = container_factory(
        SurveysService, beat_config("surveys", SURVEYS_DATABASE_URL=url, WEB_SERVER_ADDRESS=f"127.0.0.1:{port}")
    )
    container.start()
    yield f"http://127.0.0.1:{port}"
    for relay in (d.relay for d in container.dependencies if isinstance(d, Outbox)):
        relay.stop()  # before the test database is dropped under it


@pytest.fixture
def partners(start_stack, referrals_url) -> tuple[Stack, str]:
    """concerns, referrals and web together (an officer refers, an agency answers); the stack and referrals' URL."""
    stack = start_stack(concerns={"CONCERNS_RATE_PER_ADDRESS": "1000/3600"}, web={"WEB_REFERRALS_URL": referrals_url})
    return stack, referrals_url
