"""Run the whole test suite as a few pytest processes side by side, then the broker restarts alone.

Most tests spend their time waiting for a broker, a database or a service process, so one pytest
process leaves the machine mostly idle. Each lane below is an ordinary pytest process over its own
folders; every test already gets its own vhost, database and ports, so lanes cannot see each other.
The tests marked `broker_restart` stop the shared RabbitMQ and run last, alone.

    python tests/run_suite.py            # what `make test` runs
    BEAT_TEST_LANES=1 python tests/run_suite.py   # the same tests in one process, one after another

Exit status: pytest's, the worst lane's; 5 only when no lane collected anything.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "var" / "test-lanes"
NO_TESTS = 5
ALONE = "broker_restart"

# Balanced by the seconds each lane took (the table printed at the end); one more lane takes every
# folder not named here.
# Since the integration tests run on SQLite as well as PostgreSQL (issue 21), the SQLite half alone
# took 111 s for notifications, 139 s for shared/tests and 114 s for concerns (one pytest each, on
# a shared machine): each of the three has its own lane now.
LANES: list[tuple[str, list[str]]] = [
    # The lanes below that hold one or a few files were split off their folder's lane on 4 December:
    # the long lanes wait more than they compute (web 1,016 s for 255 s of CPU, security 965 s for
    # 242 s), so the suite lasted as long as they did while lanes of 400 s left the cores free.
    ("images", ["tests/deploy/test_images.py"]),  # builds and smoke-tests the five images: ~440 s
    ("reliability-deploy", ["tests/reliability", "tests/deploy"]),
    ("security-fuzz", ["tests/security/test_security_schemathesis.py"]),  # ~370 s, both backends
    ("security", ["tests/security"]),
    ("notifications", ["services/notifications"]),
    ("shared", ["shared/tests"]),
    ("concerns", ["services/concerns"]),
    # The web pages (browser journeys) and referrals with surveys made the rest lane take 25+ minutes.
    ("web-browser", ["services/web/tests/integration/*_browser.py"]),
    ("web", ["services/web"]),
    ("referrals-surveys", ["services/referrals", "services/surveys"]),
]
REST = "the-rest"
# Each lane's log ends with its slowest tests, so the lane table above says where the time went.
SLOWEST = ["--durations=12", "--durations-min=5"]


@dataclass
class Lane:
    name: str
    args: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    handle: IO[bytes] | None = None
    started: float = 0.0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    status: int | None = None

    def start(self, port_block: int = 0) -> None:
        self.handle = self.log.open("wb")
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pytest", *SLOWEST, *self.args],
            cwd=ROOT,
            # lanes running together listen on ports of their own (beat_shared.testing.free_port)
            env={**os.environ, "BEAT_TEST_PORT_BLOCK": str(port_block)},
            stdout=self.handle,
            stderr=subprocess.STDOUT,
        )

    def finish(self) -> int:
        assert self.process is not None and self.handle is not None
        # wait4 also gives the CPU the lane and the processes it waited for used (its service
        # processes, browsers, builds; not the shared broker's or database's).
        _, wait_status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = self.status = os.waitstatus_to_exitcode(wait_status)
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        self.seconds = time.monotonic() - self.started
        self.handle.close()
        return self.status


def the_rest(named: list[str]) -> list[str]:
    """pytest arguments for every test path not in a named lane. A path given on the command line
    is collected even when ignored, so only folders below a test path can be left out by --ignore."""
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())
    test_paths: list[str] = settings["tool"]["pytest"]["ini_options"]["testpaths"]
    kept = [path for path in test_paths if path not in named]
    ignored = [f"--ignore={folder}" for folder in named if any(folder.startswith(f"{path}/") for path in kept)]
    return [*kept, *ignored]


def expanded(paths: list[str]) -> list[str]:
    """A lane's paths with its patterns (`*_browser.py`) replaced by the files they match."""
    return [str(match.relative_to(ROOT)) for path in paths for match in sorted(ROOT.glob(path))]


def lane_arguments(paths: list[str], named: list[str]) -> list[str]:
    """A lane's paths, and --ignore for the paths below them that another lane runs."""
    ignored = [f"--ignore={other}" for other in named if any(other.startswith(f"{path}/") for path in paths)]
    return [*paths, *ignored]


def lanes_in_parallel() -> list[Lane]:
    paths = {name: expanded(patterns) for name, patterns in LANES}
    named = [path for lane_paths in paths.values() for path in lane_paths]
    rest = the_rest(named)
    marker = ["-m", f"not {ALONE}"]
    lanes = [
        Lane(name, [*lane_arguments(lane_paths, named), *marker], LOGS / f"{name}.log")
        for name, lane_paths in paths.items()
    ]
    lanes.append(Lane(REST, [*rest, *marker], LOGS / f"{REST}.log"))
    return lanes


def run_together(lanes: list[Lane]) -> None:
    for port_block, lane in enumerate(lanes):
        lane.start(port_block)
    # A thread waits on each lane; each is shown as it ends, so a failure shows up before the
    # slowest lane is done.
    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        finishing = {pool.submit(lane.finish): lane for lane in lanes}
        for done in as_completed(finishing):
            show(finishing[done])


def show(lane: Lane) -> None:
    print(f"\n===== lane {lane.name}: pytest {' '.join(lane.args)} =====", flush=True)
    sys.stdout.buffer.write(lane.log.read_bytes())
    print(f"===== lane {lane.name}: exit {lane.status} after {lane.seconds:.0f} s =====", flush=True)


def overall_status(statuses: list[int]) -> int:
    ran = [status for status in statuses if status != NO_TESTS]
    if not ran:
        return NO_TESTS
    return max(ran)


def main() -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if os.environ.get("BEAT_TEST_LANES") == "1":
        lanes = [Lane("all", [], LOGS / "all.log")]
    else:
        lanes = lanes_in_parallel()
        run_together(lanes)
        lanes.append(Lane("broker-restart", ["-m", ALONE], LOGS / "broker-restart.log"))
    for lane in lanes:
        if lane.status is None:
            lane.start()
            lane.finish()
            show(lane)
    print(f"\n{'lane':<22} {'exit':>4} {'seconds':>8} {'CPU s':>8}")
    for lane in lanes:
        print(f"{lane.name:<22} {lane.status:>4} {lane.seconds:>8.0f} {lane.cpu_seconds:>8.0f}")
    cpu = sum(lane.cpu_seconds for lane in lanes)
    print(f"whole suite: {time.monotonic() - started:.0f} s, {cpu:.0f} s of CPU in the lanes' processes")
    return overall_status([lane.status for lane in lanes if lane.status is not None])


if __name__ == "__main__":
    sys.exit(main())
