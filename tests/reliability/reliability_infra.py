"""The reliability run's own infrastructure: a private RabbitMQ node, a private PostgreSQL
cluster, the SMTP and webhook sinks, and the four services as separate processes.

Nothing here touches the shared broker (5672) or the shared cluster (5432) other people's
tests use: the node and the cluster are created for the run on free ports and removed
afterwards, even when the run fails. Creating them needs root (or passwordless sudo),
as `pg_createcluster` and the Debian `rabbitmq-server` wrapper do.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import requests

from beat_shared.testing import free_port

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
SERVICES = ("concerns", "referrals", "notifications", "surveys")


class InfrastructureError(Exception):
    """The private broker, cluster, sinks or a service could not be set up."""


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll `condition` until truthy; raise InfrastructureError at the deadline (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            outcome = condition()
            if outcome:
                return outcome
        if time.monotonic() > deadline:
            raise InfrastructureError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def as_root(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n", "-E"]
    return subprocess.run([*prefix, *command], capture_output=True, text=True, **kwargs)


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        raise InfrastructureError(f"{what} failed ({result.returncode}): {result.stderr.strip() or result.stdout}")


# --- RabbitMQ -----------------------------------------------------------------------------------


@dataclass
class RabbitNode:
    """A RabbitMQ node of our own (`beatrel<pid>@localhost`), with the management API."""

    base: Path
    name: str = field(default_factory=lambda: f"beatrel{os.getpid()}@localhost")
    amqp_port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    management_port: int = field(default_factory=free_port)

    @property
    def amqp_uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    @property
    def api_uri(self) -> str:
        return f"http://guest:guest@127.0.0.1:{self.management_port}"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
        }

    def create(self) -> None:
        for sub in ("mnesia", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = {self.amqp_port}\n"
            f"management.tcp.port = {self.management_port}\n"
            "management.tcp.ip = 127.0.0.1\n"
        )
        (self.base / "enabled_plugins").write_text("[rabbitmq_management].\n")
        # The Debian wrapper runs the node as user rabbitmq: it must own its directories.
        _check(as_root(["chown", "-R", "rabbitmq:rabbitmq", str(self.base)]), "chown of the node's directory")
        self.start()

    def ctl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return as_root(["rabbitmqctl", "-n", self.name, *args], timeout=timeout)

    def start(self) -> None:
        _check(as_root(["rabbitmq-server", "-detached"], env=self._env()), "rabbitmq-server -detached")
        wait_until(lambda: self.ctl("await_startup", "-t", "5", timeout=30).returncode == 0, 120, "RabbitMQ to start")
        wait_until(self.api_answers, 60, "the RabbitMQ management API")

    def api_answers(self) -> bool:
        return requests.get(
            f"http://127.0.0.1:{self.management_port}/api/overview", auth=("guest", "guest"), timeout=2
        ).ok

    def restart(self, whole_node: bool = True) -> None:
        """Stop and start the broker: the whole node (a process restart) or only the app."""
        if whole_node:
            _check(self.ctl("stop"), "rabbitmqctl stop")
            self.start()
        else:
            _check(self.ctl("stop_app"), "rabbitmqctl stop_app")
            _check(self.ctl("start_app"), "rabbitmqctl start_app")
            wait_until(self.api_answers, 60, "the RabbitMQ management API")

    def queues(self) -> list[dict[str, Any]]:
        answer = requests.get(
            f"http://127.0.0.1:{self.management_port}/api/queues/%2F",
            params={"columns": "name,messages,messages_ready,messages_unacknowledged,consumers"},
            auth=("guest", "guest"),
            timeout=10,
        )
        answer.raise_for_status()
        return list(answer.json())

    def queue_depths(self) -> dict[str, int]:
        """Messages (ready + unacknowledged) per queue, counted by the broker itself."""
        depths: dict[str, int] = {}
        for _ in range(3):
            # The management API's figures lag by a stats interval; ask rabbitmqctl, which does not.
            result = self.ctl("list_queues", "-q", "--no-table-headers", "name", "messages", timeout=60)
            if result.returncode == 0:
                for line in result.stdout.splitlines():
                    parts = line.split()
                    if len(parts) == 2 and parts[1].isdigit():
                        depths[parts[0]] = int(parts[1])
                return depths
        raise InfrastructureError(f"rabbitmqctl list_queues failed: {result.stderr}")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.ctl("stop", timeout=60)
        pid_file = self.base / "mnesia" / f"{self.name}.pid"
        with contextlib.suppress(Exception):
            os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
        as_root(["rm", "-rf", str(self.base)])


# --- PostgreSQL -----------------------------------------------------------------------------------


def _postgres_version() -> str:
    versions = sorted((p.name for p in Path("/usr/lib/postgresql").iterdir() if p.name.isdigit()), key=int)
    if not versions:
        raise InfrastructureError("no PostgreSQL server under /usr/lib/postgresql")
    return versions[-1]


@dataclass
class PostgresCluster:
    """A PostgreSQL cluster of our own (pg_createcluster), trusting local connections."""

    name: str = field(default_factory=lambda: f"beatrel{os.getpid()}")
    port: int = field(default_factory=free_port)
    version: str = field(default_factory=_postgres_version)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create(self, databases: list[str]) -> None:
        _check(
            as_root(
                [
                    "pg_createcluster",
                    self.version,
                    self.name,
                    "--port",
                    str(self.port),
                    "-o",
                    "max_connections=400",
                    "--",
                    "--auth=trust",
                ]
            ),
            "pg_createcluster",
        )
        self.start()
        connection = psycopg2.connect(self.url("postgres"))
        connection.autocommit = True
        with connection.cursor() as cursor:
            for database in databases:
                cursor.execute(f'CREATE DATABASE "{database}"')
        connection.close()

    def ctl(self, action: str) -> None:
        _check(as_root(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action]), action)

    def start(self) -> None:
        self.ctl("start")
        wait_until(self.answers, 60, "PostgreSQL to accept connections")

    def restart(self, down_seconds: float = 0) -> None:
        """Stop the cluster, leave it down for `down_seconds`, and start it again."""
        self.ctl("stop")
        # The outage's length is the fault itself (it must outlast the handlers' retry schedule),
        # not a wait for an outcome: what the scenario checks is waited for with deadlines after.
        time.sleep(down_seconds)
        self.start()

    def answers(self) -> bool:
        connection = psycopg2.connect(self.url("postgres"), connect_timeout=2)
        connection.close()
        return True

    def destroy(self) -> None:
        as_root(["pg_dropcluster", "--stop", self.version, self.name])


# --- sinks and services -------------------------------------------------------------------------


@dataclass
class Sinks:
    """The SMTP server and webhook receiver, in their own process (see reliability_sinks.py)."""

    directory: Path
    smtp_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        script = Path(__file__).with_name("reliability_sinks.py")
        log = (self.directory / "sinks.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(script), str(self.smtp_port), str(self.http_port), str(self.directory)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: (self.directory / "ready").exists(), 30, "the SMTP and webhook sinks")

    def hook_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.http_port}/hooks/{name}"

    def set_webhook_secrets(self, secrets: dict[str, list[str]]) -> None:
        target = self.directory / "webhook_secrets.json"
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(secrets))
        temporary.replace(target)

    def emails(self) -> list[dict[str, Any]]:
        return _read_lines(self.directory / "smtp.jsonl")

    def webhooks(self) -> list[dict[str, Any]]:
        return _read_lines(self.directory / "webhooks.jsonl")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
            if self.process.poll() is None:
                self.process.kill()


def _read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):  # a line being written right now
            records.append(json.loads(line))
    return records


@dataclass
class ServiceProcess:
    """One service as `beat serve <name>`, in its own process (what a pod runs)."""

    name: str
    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    stopped: bool = False  # on purpose (the slow-consumer scenario), not crashed

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, wait: bool = True) -> None:
        log = self.log_path.open("ab")
        log.write(f"\n----- start {self.starts + 1} at {time.strftime('%H:%M:%S')} -----\n".encode())
        log.flush()
        self.process = subprocess.Popen(
            [str(VENV_BIN / "beat"), "serve", self.name],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(REPO),
        )
        self.starts += 1
        self.stopped = False
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 90) -> None:
        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise InfrastructureError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            return requests.get(f"{self.base_url}/readyz", timeout=2).status_code == 200

        deadline = time.monotonic() + timeout
        while True:
            try:
                if ready():
                    return
            except InfrastructureError:
                raise
            except Exception:  # noqa: BLE001 - not listening yet
                pass
            if time.monotonic() > deadline:
                raise InfrastructureError(f"{self.name} not ready after {timeout:.0f}s; see {self.log_path}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind (what an OOM kill or a lost node does)."""
        self.stopped = True  # until start()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        self.stopped = True
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def rss_kib(self) -> int | None:
        """Resident set size from /proc (None when not running)."""
        if self.process is None or self.process.poll() is not None:
            return None
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None


def service_environment(
    rabbit: RabbitNode, cluster: PostgresCluster, sinks: Sinks, ports: dict[str, int], retry_delays: str
) -> dict[str, str]:
    """Every setting the services read (shared/beat_shared/config.py SETTINGS), for this run."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BEAT_", "AMQP_", "RABBIT_"))}
    for service in SERVICES:
        env.pop(f"{service.upper()}_DATABASE_URL", None)
    env.update(
        {
            "PATH": f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}",
            "AMQP_URI": rabbit.amqp_uri,
            "RABBIT_API_URI": rabbit.api_uri,
            "BEAT_ENVIRONMENT": "development",
            "BEAT_RETRY_DELAYS": retry_delays,
            "BEAT_OUTBOX_POLL_SECONDS": "0.5",
            "BEAT_LOG_FORMAT": "text",
            "BEAT_LOG_LEVEL": "INFO",
            "CONCERNS_RATE_PER_ADDRESS": "1000000/3600",
            "CONCERNS_RATE_PER_TOKEN": "1000000/3600",
            "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            "NOTIFICATIONS_SMTP_PORT": str(sinks.smtp_port),
            "NOTIFICATIONS_SMTP_TIMEOUT": "10",
            "NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE": "true",
            "NOTIFICATIONS_WEBHOOK_REQUIRE_HTTPS": "false",
            "NOTIFICATIONS_WEBHOOK_TIMEOUT": "5",
            "NOTIFICATIONS_DISPATCH_SECONDS": "0.5",
            "NOTIFICATIONS_BATCH_SIZE": "200",
            "NOTIFICATIONS_RETRY_BASE_SECONDS": "1",
            "NOTIFICATIONS_RETRY_MAX_SECONDS": "5",
            "NOTIFICATIONS_SENDING_LEASE_SECONDS": "5",
            "NOTIFICATIONS_RPC_TIMEOUT": "5",
            "REFERRALS_WEBHOOKS_ALLOW_HTTP": "true",
        }
    )
    for service in SERVICES:
        env[f"{service.upper()}_DATABASE_URL"] = cluster.url(f"beat_{service}")
        env[f"{service.upper()}_HTTP_ADDRESS"] = f"127.0.0.1:{ports[service]}"
    env["REFERRALS_PUBLIC_URL"] = f"http://127.0.0.1:{ports['referrals']}"
    env["SURVEYS_PUBLIC_URL"] = f"http://127.0.0.1:{ports['surveys']}"
    env["CONCERNS_PUBLIC_URL"] = f"http://127.0.0.1:{ports['concerns']}"
    env["NOTIFICATIONS_PUBLIC_URL"] = f"http://127.0.0.1:{ports['notifications']}"
    return env


def beat_cli(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "beat"), *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=str(REPO)
    )
    if result.returncode != 0:
        raise InfrastructureError(f"beat {' '.join(args)} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout


@dataclass
class Stack:
    """Everything the run needs, created by `up()` and removed by `down()`."""

    workdir: Path
    retry_delays: str
    rabbit: RabbitNode = field(init=False)
    cluster: PostgresCluster = field(init=False)
    sinks: Sinks = field(init=False)
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rabbit = RabbitNode(Path(tempfile.mkdtemp(prefix="beat-rel-rabbit-")))
        self.cluster = PostgresCluster()
        self.sinks = Sinks(self.workdir / "sinks")

    def longer_than_retries(self) -> float:
        """An outage that outlasts every retry of a failing handler (the schedule's sum, and 2 s)."""
        return sum(float(delay) for delay in self.retry_delays.split(",")) + 2

    def up(self) -> None:
        began = time.monotonic()
        self.rabbit.create()
        self.timings["rabbitmq_start_s"] = time.monotonic() - began
        began = time.monotonic()
        self.cluster.create([f"beat_{service}" for service in SERVICES])
        self.timings["postgres_create_s"] = time.monotonic() - began
        self.sinks.start()
        ports = {service: free_port() for service in SERVICES}
        self.env = service_environment(self.rabbit, self.cluster, self.sinks, ports, self.retry_delays)
        began = time.monotonic()
        beat_cli(self.env, "migrate")
        beat_cli(self.env, "seed-demo")
        self.timings["migrate_and_seed_s"] = time.monotonic() - began
        began = time.monotonic()
        for service in SERVICES:
            self.services[service] = ServiceProcess(service, self.env, self.workdir / f"{service}.log", ports[service])
            self.services[service].start(wait=False)
        for service in self.services.values():
            service.wait_ready()
        self.timings["services_start_s"] = time.monotonic() - began

    def down(self) -> None:
        for service in self.services.values():
            with contextlib.suppress(Exception):
                service.stop()
        with contextlib.suppress(Exception):
            self.sinks.stop()
        with contextlib.suppress(Exception):
            self.cluster.destroy()
        with contextlib.suppress(Exception):
            self.rabbit.destroy()

    def database(self, service: str) -> Any:
        """A psycopg2 connection to a service's database (autocommit, for checks)."""
        connection = psycopg2.connect(self.cluster.url(f"beat_{service}"), connect_timeout=5)
        connection.autocommit = True
        return connection


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
