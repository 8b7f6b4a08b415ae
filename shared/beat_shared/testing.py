"""pytest fixtures for Beat's tests: a fresh database per test (SQLite and PostgreSQL), config, waiting.

Loaded by the root conftest (`pytest_plugins`). nameko's own plugin provides
`rabbit_config` (a throw-away vhost per test), `container_factory` and friends.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import psycopg2
import pytest
import requests

from beat_shared.config import service_config
from beat_shared.db import make_engine, unit_of_work
from beat_shared.migrations import upgrade

POSTGRES_ADMIN_URL = os.environ.get("BEAT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# Polls start quick and slow down to this: a condition asked every 50 ms for a minute costs a
# service request or a query each time, and when the suite's lanes share two cores those polls
# slow down everything they wait for.
LONGEST_POLL_SECONDS = 0.5


def wait_for(
    condition: Callable[[], Any],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "",
    longest_interval: float = LONGEST_POLL_SECONDS,
) -> Any:
    """Poll `condition` until it returns something truthy; fail the test at the deadline. The
    pause between polls starts at `interval` and grows by half each time up to `longest_interval`."""
    deadline = time.monotonic() + timeout
    pause = interval
    while True:
        outcome = condition()
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message or condition}")
        time.sleep(pause)
        pause = min(max(pause * 1.5, interval), max(longest_interval, interval))


class RecordedEvents:
    """A use case's `emit` in fast tests: the events it emitted, as the outbox writer's `add`
    receives them (`events`: type, subject, data), with the headers of each (`headers`)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.headers: list[dict[str, str]] = []

    def __call__(self, event_type: str, subject: str, data: dict[str, Any], headers: Any = None) -> None:
        self.events.append((event_type, subject, data))
        self.headers.append(dict(headers or {}))

    def types(self) -> list[str]:
        return [event_type for event_type, _, _ in self.events]

    def clear(self) -> None:
        self.events.clear()
        self.headers.clear()


# Ports come from a block of their own for each lane of the suite (tests/run_suite.py sets
# BEAT_TEST_PORT_BLOCK), below the kernel's ephemeral range and above RabbitMQ's 25672. A port the
# kernel hands out (bind to port 0) is free only until another process asks: two lanes were given
# the same one, and a request for concerns was answered by another lane's service (a 404).
PORTS_FROM = 26000
PORTS_PER_BLOCK = 400
LANE_BLOCKS = 12  # blocks 12-15 are for pytest run by hand, chosen by process id
_next_ports: dict[int, Iterator[int]] = {}


def _port_block() -> int:
    lane = os.environ.get("BEAT_TEST_PORT_BLOCK")
    return int(lane) if lane is not None else LANE_BLOCKS + os.getpid() % 4


def _ports_of(block: int) -> Iterator[int]:
    first = PORTS_FROM + block * PORTS_PER_BLOCK
    while True:
        yield from range(first, first + PORTS_PER_BLOCK)


def _bindable(port: int) -> bool:
    """Whether a server could listen on the port now (SO_REUSEADDR as servers set it, so a
    connection of an earlier test waiting out TIME_WAIT does not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """The next port of this process's block that nothing listens on."""
    block = _port_block()
    ports = _next_ports.setdefault(block, _ports_of(block))
    for _ in range(PORTS_PER_BLOCK):
        port = next(ports)
        if _bindable(port):
            return port
    raise RuntimeError(f"no free port in block {block} ({PORTS_PER_BLOCK} ports from {PORTS_FROM})")


# --- a real SMTP server ------------------------------------------------------------------


@dataclass
class SmtpSink:
    port: int
    directory: Path

    def set_mode(self, mode: str) -> None:
        (self.directory / "mode").write_text(mode)

    def release(self) -> None:
        (self.directory / "release").write_text("1")

    def _read(self, folder: str) -> list[EmailMessage]:
        files = sorted((self.directory / folder).glob("*.eml"))
        return [message_from_bytes(path.read_bytes(), policy=policy.default) for path in files]  # type: ignore[misc]

    def received(self) -> list[EmailMessage]:
        """Every SMTP transaction the server accepted (or was holding)."""
        return self._read("received")

    def mailbox(self) -> list[EmailMessage]:
        """One per Message-ID."""
        return self._read("mailbox")

    def connections(self) -> int:
        """How many SMTP connections carried the accepted messages."""
        path = self.directory / "peers.log"
        return len(set(path.read_text().split())) if path.exists() else 0


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpSink]:
    """One SMTP server process for the session; `smtp_sink` empties it for each test."""
    port = free_port()
    directory = tmp_path_factory.mktemp("smtp")
    process = subprocess.Popen([sys.executable, "-m", "beat_shared.smtp_sink", str(port), str(directory)])
    try:
        wait_for(lambda: (directory / "ready").exists(), timeout=15, message="SMTP sink started")
        yield SmtpSink(port, directory)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def smtp_sink(smtp_server: SmtpSink) -> SmtpSink:
    for folder in ("received", "mailbox"):
        for path in (smtp_server.directory / folder).glob("*.eml"):
            path.unlink()
    for name in ("release", "mode", "peers.log"):
        (smtp_server.directory / name).unlink(missing_ok=True)
    return smtp_server


def text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def html_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return part.get_content()


def _admin(statement: str) -> None:
    connection = psycopg2.connect(POSTGRES_ADMIN_URL)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


# `deploy/local/ensure-postgres.sh` makes this tablespace in /dev/shm where it can: creating and
# dropping a database for every test on the disk cost PostgreSQL about four times the CPU, most of
# it the kernel's. The databases and what the tests prove of them are the same.
TESTS_TABLESPACE = "beat_tests_in_memory"


def _create_database(name: str, template: str | None = None) -> None:
    copy = f' TEMPLATE "{template}"' if template else ""
    place = f' TABLESPACE "{TESTS_TABLESPACE}"' if _tests_tablespace_works() else ""
    _admin(f'CREATE DATABASE "{name}"{copy}{place}')


@functools.cache
def _tests_tablespace_works() -> bool:
    """Whether the tests' tablespace exists and takes a database (after a restart of the machine its
    folder in /dev/shm is gone until `make test` makes it again): otherwise the default one serves."""
    probe = f"beat_test_probe_{uuid.uuid4().hex[:10]}"
    try:
        _admin(f'CREATE DATABASE "{probe}" TABLESPACE "{TESTS_TABLESPACE}"')
    except psycopg2.Error:
        return False
    _admin(f'DROP DATABASE "{probe}"')
    return True


def _postgres_url(name: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def postgres_database() -> Iterator[Callable[..., str]]:
    """A factory of PostgreSQL databases, dropped after the test: `url = make("concerns")` (empty),
    or a copy of a `template` database."""
    created: list[str] = []

    def make(label: str = "db", template: str | None = None) -> str:
        name = f"beat_test_{label}_{uuid.uuid4().hex[:10]}"
        _create_database(name, template)
        created.append(name)
        return _postgres_url(name)

    yield make
    for name in created:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


BACKENDS = ("sqlite", "postgresql")
POSTGRESQL_ONLY = "postgresql_only"  # marker, registered in pyproject.toml
SQLITE_ONLY = "sqlite_only"  # marker, registered in pyproject.toml


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the SQLite variant of the tests marked `postgresql_only`, and the PostgreSQL variant
    of those marked `sqlite_only`: browser journeys, whose services need a database only to run
    (their storage is tested on both backends at the HTTP level), and whose Chromium is most of a lane's CPU."""
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        (left_out if _one_backend_elsewhere(item) else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


def _one_backend_elsewhere(item: pytest.Item) -> bool:
    """Whether the item is the variant of a test marked to run on the other backend only."""
    backend = _backend_of(item)
    if backend == "sqlite":
        return item.get_closest_marker(POSTGRESQL_ONLY) is not None
    return backend == "postgresql" and item.get_closest_marker(SQLITE_ONLY) is not None


def _backend_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get("backend")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend a test runs on: every test that asks for `database` runs on both,
    SQLite (what `make run` gives a newcomer) and PostgreSQL (what a city runs)."""
    return str(request.param)


@pytest.fixture
def database(backend: str, postgres_database: Callable[[str], str], tmp_path: Path) -> Callable[[str], str]:
    """A factory of empty databases on the test's backend: `url = make("concerns")`.

    A test of a PostgreSQL-only mechanism (advisory locks, pg_terminate_backend...) is marked
    `@pytest.mark.postgresql_only`, says why in its docstring, and runs on PostgreSQL alone. A browser
    journey, which needs its services' databases only to run them, is marked `sqlite_only` (what
    `make run` gives) and says so in its docstring; the HTTP-level tests keep both backends."""

    def make(label: str = "db") -> str:
        if backend == "postgresql":
            return postgres_database(label)
        return f"sqlite:///{tmp_path / f'{label}-{uuid.uuid4().hex[:8]}.db'}"

    return make


# What a template holds besides the migrations: a name that says what and as of when (the same name,
# the same rows), and the function that writes it.
Seed = tuple[str, Callable[[Any], Any]]


class MigratedTemplates:
    """Each service's database migrated once per pytest process and backend (and seeded, for a
    `Seed`), then copied for every test that asks for one (`migrated_database`): a file copy on
    SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL. Running the migrations again for every test
    was a quarter of a service lane's CPU, and seeding the reference data a seventh (py-spy,
    concerns' integration tests); the copies are the same databases."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite_files: dict[tuple[str, str], Path] = {}
        self.postgresql_names: dict[tuple[str, str], str] = {}

    def sqlite(self, service: str, seed: Seed | None = None) -> Path:
        key = (service, seed[0] if seed else "")
        if key not in self.sqlite_files:
            path = self.folder / f"{service}-{len(self.sqlite_files)}.db"
            self._prepare(service, f"sqlite:///{path}", seed)
            self.sqlite_files[key] = path
        return self.sqlite_files[key]

    def postgresql(self, service: str, seed: Seed | None = None) -> str:
        key = (service, seed[0] if seed else "")
        if key not in self.postgresql_names:
            name = f"beat_test_template_{service}_{uuid.uuid4().hex[:10]}"
            _create_database(name)
            self._prepare(service, _postgres_url(name), seed)
            self.postgresql_names[key] = name
        return self.postgresql_names[key]

    @staticmethod
    def _prepare(service: str, url: str, seed: Seed | None) -> None:
        upgrade(service, url)  # disposes its engine: no session keeps a template busy
        if seed is not None:
            engine = make_engine(url, pool_size=1)
            with unit_of_work(engine) as session:
                seed[1](session)
            engine.dispose()

    def drop(self) -> None:
        for name in self.postgresql_names.values():
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    templates = MigratedTemplates(tmp_path_factory.mktemp("migrated-templates"))
    yield templates
    templates.drop()


@pytest.fixture
def migrated_database(
    backend: str, postgres_database: Callable[..., str], tmp_path: Path, migrated_templates: MigratedTemplates
) -> Callable[..., str]:
    """A factory of databases on the test's backend at a service's newest migration:
    `url = make("concerns")` (what `database` then `upgrade` would give, without running the
    migrations again), or also seeded: `make("concerns", ("reference at <time>", seed))`."""

    def make(service: str, seed: Seed | None = None) -> str:
        if backend == "postgresql":
            return postgres_database(service, template=migrated_templates.postgresql(service, seed))
        path = tmp_path / f"{service}-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(migrated_templates.sqlite(service, seed), path)
        return f"sqlite:///{path}"

    return make


@pytest.fixture
def container_factory(postgres_database: Callable[[str], str], container_factory: Any) -> Any:
    """nameko's container_factory, set up after the test's databases so that its containers
    (and their outbox relays) stop before those databases are dropped."""
    return container_factory


@pytest.fixture
def web_config(empty_config: dict[str, Any]) -> dict[str, Any]:
    """nameko's fixture of the same name, on a port of this lane's block (see `free_port`): its
    own asks the kernel for a free port, which another lane may be given as well."""
    return {**empty_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}"}


@pytest.fixture
def beat_config(rabbit_config: dict[str, Any], web_config: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    """Config for a service under test: its own vhost, a free HTTP port, given overrides."""

    def build(service: str, **overrides: Any) -> dict[str, Any]:
        return service_config(
            service,
            {
                "AMQP_URI": rabbit_config["AMQP_URI"],
                "WEB_SERVER_ADDRESS": web_config["WEB_SERVER_ADDRESS"],
                "BEAT_RETRY_DELAYS": "0.05,0.1",
                "BEAT_OUTBOX_POLL_SECONDS": "0.2",
                **overrides,
            },
        )

    return build


@dataclass(frozen=True)
class RunningService:
    url: str  # http://127.0.0.1:<port>
    database_url: str
    container: Any


# name -> (service class, seed(session), clock or None for the system clock)
ServiceSpecs = dict[str, tuple[type, Callable[[Any], Any], Any]]


@pytest.fixture
def running_services(
    migrated_database: Callable[[str], str], container_factory: Any, rabbit_config: dict[str, Any]
) -> Callable[[ServiceSpecs], dict[str, RunningService]]:
    """Real services side by side on one throw-away vhost, each with its own port and a migrated,
    seeded database on the test's backend: `running_services({"concerns": (ConcernsService, seed, clock)})`."""

    def start(specs: ServiceSpecs) -> dict[str, RunningService]:
        started = {}
        for name, (service_class, seed, clock) in specs.items():
            url = migrated_database(name)
            engine = make_engine(url, pool_size=1)
            with unit_of_work(engine) as session:
                seed(session)
            engine.dispose()
            address = f"127.0.0.1:{free_port()}"
            config = service_config(
                name,
                {
                    "AMQP_URI": rabbit_config["AMQP_URI"],
                    "WEB_SERVER_ADDRESS": address,
                    f"{name.upper()}_DATABASE_URL": url,
                    "BEAT_RETRY_DELAYS": "0.05,0.1",
                    "BEAT_OUTBOX_POLL_SECONDS": "0.2",
                },
            )
            if clock is not None:
                config["BEAT_CLOCK"] = clock
            container = container_factory(service_class, config)
            container.start()
            started[name] = RunningService(f"http://{address}", url, container)
        return started

    return start


# --- a real browser ------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"  # Debian's chromium and chromium-driver (deploy/local/ensure-test-tools.sh)
CHROMEDRIVER = "/usr/bin/chromedriver"


def headless_chromium(window: tuple[int, int], page_load_seconds: float, *extra_arguments: str) -> Any:
    """Debian's Chromium driven by Selenium, headless, with nothing reaching beyond this machine."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--window-size={window[0]},{window[1]}",
        *extra_arguments,
    ):
        options.add_argument(argument)
    # An explicit driver path: Selenium Manager never tries to download anything.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(page_load_seconds)
    return driver


# Chromium sometimes answers a question about a node of a document that a navigation has just
# replaced with this, rather than with WebDriver's "stale element reference".
NODE_GONE = "does not belong to the document"


def page_replaced(page: Any) -> Callable[[Any], bool]:
    """A WebDriverWait condition: the element `page` (the old page's <html>) is gone, whichever of
    the two ways Chromium says so (selenium's own `staleness_of` knows only the first)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def replaced(_driver: Any) -> bool:
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if NODE_GONE in str(error):
                return True
            raise
        return False

    return replaced


# --- Beat as `make run` starts it ------------------------------------------------------------

BANNER_END = "Press Ctrl-C to stop."


@dataclass
class BeatRun:
    """A `beat run` in its own working directory: where each service answers and what it printed."""

    urls: dict[str, str]
    workdir: Path
    environ: dict[str, str]
    output: Path

    def url(self, service: str, path: str) -> str:
        return self.urls[service] + path

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def cli(self, *args: str) -> str:
        """Run a `beat` command as the person at this run's terminal would; its standard output."""
        done = subprocess.run(
            [sys.executable, "-m", "beat_shared.cli", *args],
            cwd=self.workdir,
            env=self.environ,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"beat {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout


def isolated_addresses(services: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Free ports for a run beside others on this machine: (service URLs, the settings that place them)."""
    urls = {service: f"http://127.0.0.1:{free_port()}" for service in services}
    settings = {f"{service.upper()}_HTTP_ADDRESS": url.removeprefix("http://") for service, url in urls.items()}
    settings["BEAT_DEV_MAIL_PORT"] = str(free_port())
    for service, url in urls.items():
        if service == "web":
            settings["NOTIFICATIONS_PORTAL_URL"] = url
        else:
            settings[f"{service.upper()}_PUBLIC_URL"] = url
            settings[f"WEB_{service.upper()}_URL"] = url
    if "surveys" in urls:
        settings["WEB_SURVEYS_PUBLIC_URL"] = urls["surveys"]
    return urls, settings


@contextmanager
def beat_running(workdir: Path, environ: dict[str, str], urls: dict[str, str]) -> Iterator[BeatRun]:
    """`beat migrate`, `beat seed-demo` and `beat run` (the services named in `urls`) in `workdir`, as
    `make run` runs them; yields once the banner is printed, stops the run with Ctrl-C afterwards."""
    output = workdir / "beat-run.log"
    run = BeatRun(urls, workdir, environ, output)
    run.cli("migrate")
    run.cli("seed-demo")
    with output.open("wb") as sink:  # stdout and stderr together, as a terminal shows them
        process = subprocess.Popen(
            [sys.executable, "-m", "beat_shared.cli", "run", "--services", ",".join(urls)],
            cwd=workdir,
            env=environ,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: BANNER_END in run.text() or process.poll() is not None, timeout=120, interval=0.3)
        assert process.poll() is None, run.text()[-3000:]
        yield run
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # Ctrl-C stops every service cleanly, as a person at the terminal expects.
    assert process.returncode == 0 and "stopped unexpectedly" not in run.text(), run.text()[-2000:]


@pytest.fixture
def web_session(web_config_port: int) -> Iterator[requests.Session]:
    """nameko's fixture imports werkzeug.urls.url_join, gone in Werkzeug 3 (see STACK.md)."""

    class WebSession(requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
            return super().request(method, urljoin(f"http://127.0.0.1:{web_config_port}/", url), *args, **kwargs)

    with WebSession() as session:
        yield session
