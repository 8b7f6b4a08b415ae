"""`make reliability`: the fault-injection run, printed as a table; non-zero exit on any mismatch.

    .venv/bin/python tests/reliability/run.py            # the full run: 2,000 concerns, every fault
    .venv/bin/python tests/reliability/run.py --fast     # the subset the test suite runs (150 concerns)

It builds its own RabbitMQ node and PostgreSQL cluster (never the shared ones), starts the
four services as processes with an SMTP and a webhook sink, runs the scenarios of
reliability_harness.py and removes everything afterwards, also on failure or Ctrl-C.
See docs/reliability.md for what is checked and the latest figures.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reliability_harness import Run, RunConfig, Tally, faults, table
from reliability_infra import Stack, remove_tree

FULL = {
    "concerns_per_scenario": 250,
    "rate": 8.0,
    "faults": "baseline,rabbitmq-restart,kill-concerns,kill-referrals,kill-notifications,kill-surveys,postgres-restart",
    "slow": 230,
    "poison": 20,
    "retry_delays": "1,2,5,10,20",
}
FAST = {
    "concerns_per_scenario": 20,
    "rate": 6.0,
    "faults": "rabbitmq-restart,kill-concerns,kill-referrals,kill-notifications,kill-surveys,postgres-restart",
    "slow": 24,
    "poison": 6,
    "retry_delays": "0.5,1,2,4",
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="the test suite's subset (150 concerns)")
    parser.add_argument("--concerns-per-scenario", type=int)
    parser.add_argument("--rate", type=float, help="concerns started per second")
    parser.add_argument("--faults", help="comma-separated scenario names")
    parser.add_argument("--slow", type=int, help="concerns submitted while notifications is stopped")
    parser.add_argument("--poison", type=int, help="concerns submitted behind the poison messages")
    parser.add_argument("--retry-delays", help="BEAT_RETRY_DELAYS for the services")
    parser.add_argument("--json", type=Path, help="write the tallies and figures here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (service logs, sinks)")
    args = parser.parse_args(argv)
    for key, value in (FAST if args.fast else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # Ctrl-C and SIGTERM unwind through `finally`, which removes the node and the cluster.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    workdir = Path(tempfile.mkdtemp(prefix="beat-reliability-"))
    stack = Stack(workdir, args.retry_delays)
    wanted = args.faults.split(",")
    known = {fault.name: fault for fault in faults()}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}; choose from {', '.join(known)}", file=sys.stderr)
        return 2
    config = RunConfig(
        concerns_per_scenario=args.concerns_per_scenario,
        rate=args.rate,
        fault_names=wanted,
        slow_consumer_concerns=args.slow,
        poison_followers=args.poison,
    )
    began = time.monotonic()
    tallies: list[Tally] = []
    figures: dict[str, Any] = {}
    failure: str | None = None
    try:
        print(f"starting a private RabbitMQ node, PostgreSQL cluster, sinks and the four services in {workdir}")
        stack.up()
        print(f"  up: {', '.join(f'{k} {v:.1f}' for k, v in stack.timings.items())}", flush=True)
        run = Run(stack, config, log=lambda line: print(line, flush=True))
        run.prepare()
        for name in wanted:
            run.fault_scenario(known[name])
        if args.poison:
            print("scenario poison-message: a malformed and a failing event published by hand", flush=True)
            run.poison_scenario()
        if args.slow:
            run.slow_consumer_scenario()
        run.report_card_check()
        tallies, figures = run.tallies, run.figures
    except KeyboardInterrupt:
        failure = "interrupted"
    except Exception as error:  # noqa: BLE001 - reported, then everything is removed
        failure = f"{type(error).__name__}: {error}"
        import traceback

        traceback.print_exc()
    finally:
        if "run" in locals():
            tallies, figures = run.tallies, run.figures
            if hasattr(run, "client"):
                run.client.abort.set()  # the load's threads give up at once
        stack.down()
        if args.keep or failure or any(not t.ok for t in tallies):
            print(f"service logs and sink records kept in {workdir}")
        else:
            remove_tree(workdir)
    elapsed = time.monotonic() - began
    print()
    print(table(tallies))
    for tally in tallies:
        for problem in tally.problems[:20]:
            print(f"  {tally.scenario}: {problem}")
    for name, values in figures.items():
        print(f"{name}: {json.dumps(values)}")
    submitted = sum(t.submitted for t in tallies if t.scenario != "report-card")
    ok = failure is None and bool(tallies) and all(t.ok for t in tallies)
    print(f"\n{submitted} concerns, {len(tallies)} checks, {elapsed:.0f}s in all: {'ALL MATCH' if ok else 'MISMATCH'}")
    if failure:
        print(f"run failed: {failure}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "ok": ok,
                    "failure": failure,
                    "elapsed_seconds": round(elapsed, 1),
                    "setup_seconds": {k: round(v, 1) for k, v in stack.timings.items()},
                    "tallies": [t.as_dict() for t in tallies],
                    "figures": figures,
                },
                indent=2,
                default=str,
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
