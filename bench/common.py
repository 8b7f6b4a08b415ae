"""What every benchmark shares: a throw-away vhost and databases, services as processes, the figures.

A benchmark opens a `Sandbox` (its own RabbitMQ vhost, its own PostgreSQL databases, the
service processes it started) and records its figures as `Row`s in bench/results.json;
`bench/run.py` prints every benchmark's rows as one table. Everything the sandbox made is
removed when it closes, also after a failure or Ctrl-C.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import requests

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results.json"
LOGS = REPO / "var" / "bench"

RABBIT_API = os.environ.get("RABBIT_API_URI", "http://guest:guest@127.0.0.1:15672")
AMQP_BASE = os.environ.get("BENCH_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
POSTGRES_ADMIN = os.environ.get("BEAT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def exit_cleanly_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so that `with Sandbox()` removes what it made."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# --- figures ------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: Beat's figure against the stack's own reference, measured in the same run."""

    figure: str
    beat: float | None
    unit: str
    target: str
    met: bool | None
    reference: float | None = None
    ratio: float | None = None
    spread: str = ""  # the runs behind the figure, e.g. "3 runs: 11,900-12,600"


@dataclass
class Runs:
    """Repeated measurements of one figure (the machine is shared, so figures are noisy)."""

    values: list[float] = field(default_factory=list)
    higher_is_better: bool = True

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def best(self) -> float:
        return max(self.values) if self.higher_is_better else min(self.values)

    def spread(self, fmt: str = "{:,.0f}") -> str:
        if len(self.values) == 1:
            return "1 run"
        low, high = min(self.values), max(self.values)
        return f"{len(self.values)} runs: {fmt.format(low)}-{fmt.format(high)}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "median": statistics.median(self.values),
            "runs": [round(v, 4) for v in self.values],
        }


def record(benchmark: str, rows: Sequence[Row], details: Mapping[str, Any]) -> None:
    """Store a benchmark's rows and details in bench/results.json (other benchmarks' entries stay)."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.setdefault("benchmarks", {})[benchmark] = {
        "rows": [_finite(asdict(row)) for row in rows],
        "details": _finite(dict(details)),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")


def _finite(value: Any) -> Any:
    """JSON has no infinity: a figure that never came (e.g. an email still missing) is null."""
    if isinstance(value, float) and math.isinf(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def fmt_number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit in ("s", "ms"):
        return f"{value:,.3f} {unit}" if unit == "s" else f"{value:,.1f} {unit}"
    if abs(value) >= 100:
        return f"{value:,.0f}{(' ' + unit) if unit else ''}"
    return f"{value:,.2f}{(' ' + unit) if unit else ''}"


# --- a broker of the benchmark's own -------------------------------------------------------


class PrivateBroker:
    """A RabbitMQ node of the run's own (the installed server, its own ports, data and logs under
    var/bench/), so that the broker's CPU a benchmark counts is its own traffic: the machine's
    shared broker also carries every other session's tests. Sets RABBIT_API_URI, BENCH_AMQP_BASE
    and BENCH_BROKER_PID for the benchmarks started meanwhile."""

    def __enter__(self) -> PrivateBroker:
        self.root = LOGS / f"broker-{os.getpid()}"
        self.root.mkdir(parents=True, exist_ok=True)
        amqp, api, dist = free_port(), free_port(), free_port()
        (self.root / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{amqp}\nmanagement.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {api}\n"
        )
        (self.root / "enabled_plugins").write_text("[rabbitmq_management].\n")
        environment = {
            **os.environ,
            "RABBITMQ_CONF_ENV_FILE": "/dev/null",  # not the shared node's name and ports
            "RABBITMQ_NODENAME": f"bench{os.getpid()}@localhost",
            "RABBITMQ_NODE_PORT": str(amqp),
            "RABBITMQ_DIST_PORT": str(dist),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "enabled_plugins"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        with (self.root / "server.log").open("wb") as output:
            self.popen = subprocess.Popen(
                [RABBITMQ_SERVER], env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        api_uri = f"http://guest:guest@127.0.0.1:{api}"
        wait_until(lambda: _answers(f"{api_uri}/api/overview"), 180, "the benchmark's RabbitMQ", interval=1)
        os.environ.update(
            RABBIT_API_URI=api_uri,
            BENCH_AMQP_BASE=f"amqp://guest:guest@127.0.0.1:{amqp}",
            BENCH_BROKER_PID=str(self.popen.pid),
        )
        return self

    def __exit__(self, *exc: object) -> None:
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
        wait_until(lambda: not _group_alive(self.popen.pid), 60, "the benchmark's RabbitMQ to stop", interval=0.5)
        shutil.rmtree(self.root / "mnesia", ignore_errors=True)


RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"  # the Debian package's, without its switch to user rabbitmq


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


def _group_alive(group: int) -> bool:
    return bool(subprocess.run(["pgrep", "-g", str(group)], capture_output=True, check=False).stdout.strip())


def broker_pids() -> list[int]:
    """The broker's processes: the run's own node (BENCH_BROKER_PID's process group) if there is
    one, else every process of user rabbitmq (the shared node: others' traffic counts too)."""
    group = os.environ.get("BENCH_BROKER_PID")
    if not group:
        return pids_of_user("rabbitmq")
    found = subprocess.run(["pgrep", "-g", group], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid in found.split()]


# --- the code under test ------------------------------------------------------------------

PACKAGE_DIRS = (
    "shared",
    "services/concerns",
    "services/referrals",
    "services/notifications",
    "services/surveys",
    "services/web",
)
WORKTREES = LOGS / "worktrees"


def checkout(revision: str) -> Path:
    """A `git worktree` of `revision` under var/bench/worktrees/ (made once per commit, detached):
    a benchmark can run another commit's services beside this checkout's."""
    commit = git("rev-parse", "--verify", f"{revision}^{{commit}}")
    root = WORKTREES / commit[:12]
    if not (root / "shared").is_dir():
        WORKTREES.mkdir(parents=True, exist_ok=True)
        git("worktree", "add", "--detach", "--force", str(root), commit)
    return root


def code_env(root: Path) -> dict[str, str]:
    """Environment that makes Python import Beat's packages from `root`: PYTHONPATH comes before
    the editable installs of .venv (their finders are consulted after sys.path)."""
    return {"PYTHONPATH": os.pathsep.join(str(root / directory) for directory in PACKAGE_DIRS), "BENCH_CODE": str(root)}


def git(*arguments: str) -> str:
    return subprocess.run(["git", *arguments], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()


def current_commit() -> str:
    """The commit whose services run: BENCH_CODE's worktree if set, else this checkout's HEAD
    (with "+dirty" when tracked files differ from it)."""
    code = os.environ.get("BENCH_CODE")
    if code:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=code, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=REPO, check=False).returncode != 0
    return git("rev-parse", "HEAD") + ("+dirty" if dirty else "")


# --- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15)


def pids_of_user(user: str) -> list[int]:
    """Every process of a system user (all of PostgreSQL's, all of RabbitMQ's)."""
    found = subprocess.run(["pgrep", "-u", user], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid in found.split()]


class CpuMeter:
    """CPU seconds used by named groups of processes between `start()` and `stop()`.

    A group is a function returning its pids, asked at both ends, so a PostgreSQL backend that
    started meanwhile counts whole; one that ended meanwhile is lost (the services' pooled
    backends live as long as the services)."""

    def __init__(self, groups: Mapping[str, Any]) -> None:
        self.groups = groups
        self._started: dict[str, dict[int, float]] = {}

    def _sample(self) -> dict[str, dict[int, float]]:
        return {name: {pid: cpu_seconds(pid) for pid in pids()} for name, pids in self.groups.items()}

    def start(self) -> None:
        self._started = self._sample()

    def stop(self) -> dict[str, float]:
        ended = self._sample()
        return {
            name: sum(used - self._started[name].get(pid, 0.0) for pid, used in ended[name].items())
            for name in self.groups
        }


def wait_until(condition: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def beat_command() -> list[str]:
    beat = Path(sys.executable).with_name("beat")
    return [str(beat)] if beat.exists() else [sys.executable, "-m", "beat_shared.cli"]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    port: int | None
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        return rss_mb(self.pid)


class Sandbox:
    """A throw-away vhost, throw-away databases and the processes started in them."""

    def __init__(self, label: str, code: Path | None = None) -> None:
        """`code`: a checkout (see `checkout`) whose services this sandbox runs, instead of the
        packages this process imports."""
        self.code_env = code_env(code) if code is not None else {}
        self.id = f"beat_bench_{label}_{uuid.uuid4().hex[:6]}"
        self.vhost = self.id
        self.amqp_uri = f"{AMQP_BASE}/{self.vhost}"
        self.databases: list[str] = []
        self.processes: list[Process] = []

    # --- lifetime
    def __enter__(self) -> Sandbox:
        exit_cleanly_on_sigterm()
        LOGS.mkdir(parents=True, exist_ok=True)
        requests.put(f"{RABBIT_API}/api/vhosts/{self.vhost}", timeout=10).raise_for_status()
        requests.put(
            f"{RABBIT_API}/api/permissions/{self.vhost}/guest",
            json={"configure": ".*", "write": ".*", "read": ".*"},
            timeout=10,
        ).raise_for_status()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()
        for database in self.databases:
            try:
                admin_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            except psycopg2.Error as error:
                print(f"could not drop database {database}: {error}", file=sys.stderr)
        requests.delete(f"{RABBIT_API}/api/vhosts/{self.vhost}", timeout=10)

    # --- databases
    def database(self, name: str) -> str:
        """A new, empty PostgreSQL database; returns its URL."""
        database = f"{self.id}_{name}"
        admin_sql(f'CREATE DATABASE "{database}"')
        self.databases.append(database)
        return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{database}"

    def postgres_pids(self) -> list[int]:
        """PostgreSQL backends connected to this sandbox's databases (other sessions' are not
        counted; neither are the server's shared background processes)."""
        connection = psycopg2.connect(POSTGRES_ADMIN)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname LIKE %s", (f"{self.id}%",))
                return [int(pid) for (pid,) in cursor.fetchall()]
        finally:
            connection.close()

    def service_database(self, service: str, label: str | None = None) -> str:
        """A database migrated to the service's latest schema (`label` names a second one), by the
        sandbox's code."""
        url = self.database(label or service)
        self.python(f"from beat_shared.migrations import upgrade; upgrade({service!r}, {url!r})")
        return url

    def python(self, source: str) -> None:
        """Run Python source with the sandbox's code (a worktree's migrations and seeds for its schema)."""
        done = subprocess.run([sys.executable, "-c", source], env=self.env(), cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{source!r} failed:\n{done.stderr[-3000:]}")

    def seed(self, url: str, seed: str) -> None:
        """Call `seed` ("module:function", taking a session and maybe the time) in one unit of work."""
        module, function = seed.split(":")
        self.python(
            "from datetime import UTC, datetime; import inspect\n"
            "from beat_shared.db import make_engine, unit_of_work\n"
            f"from {module} import {function} as seed\n"
            f"engine = make_engine({url!r}, pool_size=1)\n"
            "with unit_of_work(engine) as session:\n"
            "    seed(*[session, datetime.now(UTC)][: len(inspect.signature(seed).parameters)])\n"
            "engine.dispose()"
        )

    # --- processes
    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        environment = {
            **os.environ,
            "AMQP_URI": self.amqp_uri,
            "RABBIT_API_URI": RABBIT_API,
            "BEAT_LOG_LEVEL": "WARNING",
            "BEAT_LOG_FORMAT": "text",
            "PYTHONUNBUFFERED": "1",
            **self.code_env,
        }
        environment.update(extra or {})
        return environment

    def start_service(
        self, service: str, database_url: str, extra_env: Mapping[str, str] | None = None, label: str | None = None
    ) -> Process:
        """`beat serve <service>` as its own process, on a free port; returns once /healthz answers."""
        port = free_port()
        environment = {
            f"{service.upper()}_DATABASE_URL": database_url,
            f"{service.upper()}_HTTP_ADDRESS": f"127.0.0.1:{port}",
            **(extra_env or {}),
        }
        return self.start(label or service, [*beat_command(), "serve", service], environment, port)

    def start(
        self, name: str, command: Sequence[str], extra_env: Mapping[str, str], port: int | None, http: bool = True
    ) -> Process:
        """Start a process; with a port, return once it answers /healthz (or accepts TCP if not `http`)."""
        log = LOGS / f"{self.id}-{name}.log"
        with log.open("wb") as output:
            popen = subprocess.Popen(
                list(command), env=self.env(extra_env), stdout=output, stderr=subprocess.STDOUT, cwd=REPO
            )
        process = Process(name, popen, port, log)
        self.processes.append(process)
        if port is not None and http:
            self._wait_healthy(process)
        elif port is not None:
            wait_until(lambda: _accepts(port), 30, f"{name} to listen on {port}", interval=0.1)
        return process

    def start_smtp_sink(self) -> tuple[Process, Path]:
        """bench/smtp_sink.py on a free port; returns the process and the file it logs acceptances to."""
        port = free_port()
        accepted = LOGS / f"{self.id}-smtp-accepted.log"
        accepted.write_text("")
        command = [sys.executable, str(BENCH / "smtp_sink.py"), str(port), str(accepted)]
        return self.start("smtp-sink", command, {}, port, http=False), accepted

    def _wait_healthy(self, process: Process) -> None:
        def healthy() -> bool:
            if process.popen.poll() is not None:
                tail = process.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{process.name} exited with {process.popen.returncode}:\n{tail}")
            try:
                return requests.get(f"{process.url}/healthz", timeout=1).ok
            except requests.RequestException:
                return False

        wait_until(healthy, 60, f"{process.name} to answer /healthz", interval=0.2)

    def wait_for_consumers(self, queue_part: str, consumers: int, timeout: float = 60) -> None:
        """Wait until the queue whose name contains `queue_part` has `consumers` consumers: a
        service answers /healthz before its queues are bound, and events published earlier are lost."""

        def ready() -> bool:
            answer = requests.get(f"{RABBIT_API}/api/queues/{self.vhost}", timeout=5)
            answer.raise_for_status()
            return any(
                queue_part in queue["name"] and queue.get("consumers", 0) >= consumers for queue in answer.json()
            )

        wait_until(ready, timeout, f"{consumers} consumer(s) on {queue_part}", interval=0.3)

    def stop(self, process: Process, timeout: float = 15) -> None:
        if process.popen.poll() is None:
            process.popen.send_signal(signal.SIGTERM)
            try:
                process.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(timeout=5)
        if process in self.processes:
            self.processes.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.processes)):
            self.stop(process)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def accepted_emails(path: Path) -> list[tuple[float, str]]:
    """(unix time, recipient) of every email the SMTP sink accepted so far."""
    lines = path.read_text().splitlines()
    return [(float(when), recipient) for when, recipient in (line.split(" ", 1) for line in lines if " " in line)]


def admin_sql(statement: str, url: str = POSTGRES_ADMIN) -> None:
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(statement)
    connection.close()


def percentile(values: Iterable[float], fraction: float) -> float:
    """Nearest-rank percentile (fraction 0.5 = median, 0.99 = p99)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = math.ceil(fraction * len(ordered))
    return ordered[max(0, min(len(ordered), rank) - 1)]
