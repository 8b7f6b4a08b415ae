"""Benchmarks 2 and 6: concern intake over HTTP, and the services' memory.

Intake: sustained `POST /concerns` per second from concurrent keep-alive clients against the
concerns service (PostgreSQL, its outbox relay publishing to RabbitMQ), against its **write
floor** (bench/bare_service.py with a database of concerns' schema): an endpoint on the same
stack that writes, in one transaction, what a submission must write durably (the concern row,
its first history row and its outbox row) and nothing else. Also measured alternately, for
scale, the same bare endpoint returning a constant. Then the latency (p50, p99) at half of
Beat's best rate, on an open schedule.
Targets (issue 27): Beat >= 0.5 x the write floor; p99 < 100 ms at half the maximum rate.

The load generator is wrk (Debian package `wrk`, C, one thread, epoll) with bench/intake.lua
making each request a different concern; it uses a fraction of one core at these rates.

Memory: RSS (VmRSS from /proc) of each of the four services idle after start, then after the
intake load (run again with all four services up, so notifications also consumes the
submissions' events). Target < 150 MB each.

    .venv/bin/python bench/intake.py [--seconds 10] [--repeat 2] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from common import BENCH, CpuMeter, Process, Row, Runs, Sandbox, broker_pids, record

from beat_shared.db import make_engine, unit_of_work

MEMORY_TARGET_MB = 150
# What each side sends PostgreSQL per request (statement log of one submission; see docs/performance.md).
ROUND_TRIPS = (
    "Beat 6 round trips (BEGIN, nearest with the open problems' counter, 2 INSERTs, INSERT outbox, COMMIT) "
    "+ the relay's read and mark, "
    "floor 5 (BEGIN, 3 INSERTs, COMMIT)"
)
UNLIMITED = "1000000000/1"  # the per-address rate limit, out of the way of a load generator


def wrk(url: str, seconds: float, connections: int, rate: float = 0) -> dict[str, Any]:
    """One wrk run; returns its RESULT line with `rate` (requests/s) added."""
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(BENCH / "intake.lua"),
        url,
        "--",
        f"{rate:.1f}",
        "1",
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rate"] = result["requests"] / (result["duration_us"] / 1e6)
    errors = sum(result[key] for key in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    result["errors"] = errors
    return result


def seed_concerns(url: str, sandbox: Sandbox | None = None) -> None:
    """Riverton's categories and beats, by the sandbox's code if given (else by this process's)."""
    if sandbox is not None:
        sandbox.seed(url, "concerns.demo:seed_reference")
        return
    from concerns.demo import seed_reference

    engine = make_engine(url, pool_size=1)
    with unit_of_work(engine) as session:
        seed_reference(session, datetime.now(UTC))
    engine.dispose()


def start_concerns(sandbox: Sandbox, url: str, extra: dict[str, str] | None = None) -> Process:
    return sandbox.start_service(
        "concerns",
        url,
        {"CONCERNS_RATE_PER_ADDRESS": UNLIMITED, "CONCERNS_RATE_PER_TOKEN": UNLIMITED, **(extra or {})},
    )


def start_bare(sandbox: Sandbox, database_url: str | None = None) -> Process:
    """The bare endpoint; with a database migrated to concerns' schema, the write floor (a
    submission's three rows in one transaction, bench/bare_service.py)."""
    from common import free_port

    port = free_port()
    command = [sys.executable, str(BENCH / "bare_service.py")]
    environment = {"BENCH_HTTP_ADDRESS": f"127.0.0.1:{port}"}
    if database_url is not None:
        environment["BENCH_DATABASE_URL"] = database_url
    return sandbox.start("write-floor" if database_url else "bare", command, environment, port)


def cpu_meter(target: Process, sandbox: Sandbox) -> CpuMeter:
    """The service, its PostgreSQL backends (not other sessions') and RabbitMQ (one process for
    everyone: on a shared machine it also counts others' traffic)."""
    return CpuMeter(
        {
            "service": lambda: [target.pid],
            "PostgreSQL": sandbox.postgres_pids,
            "RabbitMQ": broker_pids,
        }
    )


def cpu_row(cpu_per_request: dict[str, list[dict[str, float]]]) -> Row:
    """CPU per request at the maximum rate, all parts together (the cheapest run of each): on two
    busy cores the rates stand roughly in the inverse ratio of these."""

    def cheapest(name: str) -> dict[str, float]:
        return min(cpu_per_request[name], key=lambda parts: sum(parts.values()))

    beat, floor, bare = cheapest("beat"), cheapest("write floor"), cheapest("bare")

    def parts(costs: dict[str, float]) -> str:
        return ", ".join(f"{part} {ms:.2f}" for part, ms in costs.items())

    return Row(
        "intake: CPU per request, service + PostgreSQL + RabbitMQ (ref.: write floor)",
        round(sum(beat.values()), 3),
        "ms",
        "-",
        None,
        reference=round(sum(floor.values()), 3),
        ratio=sum(beat.values()) / sum(floor.values()),
        spread=f"Beat: {parts(beat)}; floor: {parts(floor)}; bare {sum(bare.values()):.2f}: {parts(bare)}",
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--memory-seconds", type=float, default=15)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("intake needs wrk: apt-get install -y wrk", file=sys.stderr)
        return 1

    beat_rates, bare_rates, floor_rates = Runs(), Runs(), Runs()
    half_p50, half_p99, half_rate = Runs(higher_is_better=False), Runs(higher_is_better=False), Runs()
    bare_half_p99 = Runs(higher_is_better=False)
    runs: list[dict[str, Any]] = []
    cpu_per_request: dict[str, list[dict[str, float]]] = {"bare": [], "write floor": [], "beat": []}
    memory: dict[str, dict[str, float]] = {}
    with Sandbox("intake") as sandbox:
        concerns_url = sandbox.service_database("concerns")
        seed_concerns(concerns_url, sandbox)
        bare = start_bare(sandbox)
        floor_url = sandbox.service_database("concerns", "write_floor")
        seed_concerns(floor_url, sandbox)  # the concern rows' categories
        floor = start_bare(sandbox, floor_url)
        concerns = start_concerns(sandbox, concerns_url)
        memory["concerns"] = {"idle": concerns.rss_mb()}
        for target in (bare, floor, concerns):  # warm up: first requests compile, connect pools, fill caches
            wrk(target.url, 3, args.connections)

        # 1. The maximum rate, alternating bare, the write floor and Beat so that all see the same
        # background noise; with the CPU each request cost the service, PostgreSQL and RabbitMQ.
        for _ in range(args.repeat):
            targets = (("bare", bare, bare_rates), ("write floor", floor, floor_rates), ("beat", concerns, beat_rates))
            for name, target, rates in targets:
                meter = cpu_meter(target, sandbox)
                meter.start()
                result = wrk(target.url, args.seconds, args.connections)
                used = meter.stop()
                result["cpu_ms_per_request"] = {
                    part: round(1000 * seconds / max(1, result["requests"]), 3) for part, seconds in used.items()
                }
                cpu_per_request[name].append(result["cpu_ms_per_request"])
                runs.append({"phase": "max", "target": name, **result})
                print(
                    f"max rate {name}: {result['rate']:,.0f}/s p99 {result['p99_us'] / 1000:.1f} ms "
                    f"errors {result['errors']}",
                    flush=True,
                )
                if result["errors"] == 0:
                    rates.add(result["rate"])

        # 2. Latency at half of Beat's best rate (and bare at half of its own, for reference).
        for _ in range(args.repeat):
            for name, target, rate in (("beat", concerns, beat_rates.best / 2), ("bare", bare, bare_rates.best / 2)):
                result = wrk(target.url, args.seconds, args.connections, rate)
                runs.append({"phase": "half", "target": name, "offered_rate": rate, **result})
                print(
                    f"half rate {name}: offered {rate:,.0f}/s got {result['rate']:,.0f}/s "
                    f"p50 {result['p50_us'] / 1000:.1f} ms p99 {result['p99_us'] / 1000:.1f} ms",
                    flush=True,
                )
                if name == "beat":
                    half_p50.add(result["p50_us"] / 1000)
                    half_p99.add(result["p99_us"] / 1000)
                    half_rate.add(result["rate"])
                else:
                    bare_half_p99.add(result["p99_us"] / 1000)
        memory["concerns"]["after_intake"] = concerns.rss_mb()
        memory["bare"] = {"after_intake": bare.rss_mb()}
        sandbox.stop(bare)
        sandbox.stop(floor)

        # 3. Memory of all four services: idle, then after the intake load with all of them up.
        sink, _accepted = sandbox.start_smtp_sink()
        others: dict[str, Process] = {}
        for service in ("referrals", "notifications", "surveys"):
            extra = {"NOTIFICATIONS_SMTP_PORT": str(sink.port)} if service == "notifications" else {}
            others[service] = sandbox.start_service(service, sandbox.service_database(service), extra)
        time.sleep(5)  # let timers run once and connections settle
        for service, process in others.items():
            memory[service] = {"idle": process.rss_mb()}
        wrk(concerns.url, args.memory_seconds, args.connections)
        time.sleep(10)  # notifications works through the submissions' events
        for service, process in {"concerns": concerns, **others}.items():
            memory[service]["after_intake"] = process.rss_mb()

    ratio = beat_rates.best / floor_rates.best
    rows = [
        Row(
            "intake: POST /concerns per second (ref.: its write floor)",
            beat_rates.best,
            "req/s",
            ">= 0.5 x floor",
            ratio >= 0.5,
            reference=floor_rates.best,
            ratio=ratio,
            spread=f"Beat {beat_rates.spread()}; floor {floor_rates.spread()}; {ROUND_TRIPS}",
        ),
        Row(
            "intake: write floor, a submission's 3 rows in 1 transaction (ref.: bare)",
            floor_rates.best,
            "req/s",
            "-",
            None,
            reference=bare_rates.best,
            ratio=floor_rates.best / bare_rates.best,
            spread=f"bare {bare_rates.spread()}",
        ),
        Row(
            "intake: POST /concerns vs the bare endpoint (first round's reference)",
            beat_rates.best,
            "req/s",
            "-",
            None,
            reference=bare_rates.best,
            ratio=beat_rates.best / bare_rates.best,
            spread="",
        ),
        cpu_row(cpu_per_request),
        Row(
            f"intake: p99 at half rate ({half_rate.best:,.0f}/s)",
            half_p99.best,
            "ms",
            "< 100 ms",
            half_p99.best < 100,
            reference=bare_half_p99.best,
            ratio=half_p99.best / bare_half_p99.best,
            spread=half_p99.spread("{:.1f}"),
        ),
        Row(
            "intake: p50 at half rate",
            half_p50.best,
            "ms",
            "-",
            None,
            spread=half_p50.spread("{:.1f}"),
        ),
    ]
    for service in ("concerns", "referrals", "notifications", "surveys"):
        peak = max(memory[service].values())
        rows.append(
            Row(
                f"memory: {service} RSS after intake (ref.: idle)",
                memory[service]["after_intake"],
                "MB",
                f"< {MEMORY_TARGET_MB} MB",
                peak < MEMORY_TARGET_MB,
                reference=memory[service]["idle"],
                spread=f"idle {memory[service]['idle']:.0f} MB",
            )
        )
    details = {
        "load_generator": "wrk 4.1 (Debian), 1 thread, bench/intake.lua, keep-alive",
        "connections": args.connections,
        "seconds": args.seconds,
        "beat_rate": beat_rates.as_dict(),
        "bare_rate": bare_rates.as_dict(),
        "write_floor_rate": floor_rates.as_dict(),
        "half_rate_p50_ms": half_p50.as_dict(),
        "half_rate_p99_ms": half_p99.as_dict(),
        "bare_half_rate_p99_ms": bare_half_p99.as_dict(),
        "memory_mb": {service: {k: round(v, 1) for k, v in values.items()} for service, values in memory.items()},
        "runs": runs,
    }
    record("intake", rows, details)
    for row in rows:
        print(f"{row.figure}: {row.beat:,.1f} {row.unit} (reference {row.reference}) met={row.met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
