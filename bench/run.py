"""Run every benchmark, print one table (figure, Beat, reference, ratio, target, met?), write bench/results.json.

Each benchmark runs as its own process (its output goes to var/bench/<name>.out) and stores its
rows in bench/results.json; this script starts that file afresh with the machine's description
and prints the rows of all benchmarks at the end.

    .venv/bin/python bench/run.py [--only relay,intake] [--quick] [--code REV] [--baseline REV]

--quick runs each benchmark shorter and fewer times (a smoke run; the figures are not the
reported ones). --code runs the services of a commit (from a git worktree under
var/bench/worktrees/) instead of this checkout's files, e.g. `--code HEAD` while the tree holds
unfinished edits. --baseline names the commit the pipeline's CPU per flow is compared with,
measured alternately in the same run; by default the commit of the latest stored run that
measured another commit (the `history` of bench/results.json), else HEAD~1.

bench/results.json is not committed (figures of one machine): each run moves the previous one
into its `history` (rows and commit of the last HISTORY runs), so a run can compare with it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from common import LOGS, RESULTS, PrivateBroker, checkout, code_env, current_commit, fmt_number, git, machine

HISTORY = 20  # previous runs kept in bench/results.json

# (name, script, arguments, arguments with --quick)
BENCHMARKS: list[tuple[str, str, list[str], list[str]]] = [
    ("relay", "relay.py", [], ["--events", "5000", "--repeat", "1"]),
    ("intake", "intake.py", [], ["--seconds", "4", "--repeat", "1", "--memory-seconds", "4"]),
    (
        "pipeline",
        "pipeline.py",
        [],
        [
            *("--seconds", "10", "--repeat", "1", "--light-seconds", "5", "--steps", "20", "--step-seconds", "5"),
            *("--cpu-seconds", "10", "--cpu-repeat", "1"),
        ],
    ),
    ("surveys", "survey_results.py", [], ["--responses", "100000", "--repeat", "3"]),
    ("scaleout", "scaleout.py", [], ["--events", "300", "--repeat", "1"]),
    ("web", "web_pages.py", [], ["--seconds", "5", "--repeat", "1"]),
    ("broadcast", "broadcast.py", [], ["--subscribers", "5000"]),
]


def table(results: dict, chosen: set[str]) -> str:
    header = ("figure", "Beat", "reference", "ratio", "target", "met?", "runs")
    lines = []
    for name, _script, _args, _quick in BENCHMARKS:
        if name not in chosen:
            continue
        entry = results.get("benchmarks", {}).get(name)
        if entry is None:
            lines.append((f"{name}: did not finish", "-", "-", "-", "-", "FAILED", ""))
            continue
        for row in entry["rows"]:
            met = {True: "yes", False: "NO", None: "-"}[row["met"]]
            ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}"
            lines.append(
                (
                    row["figure"],
                    fmt_number(row["beat"], row["unit"]),
                    fmt_number(row["reference"], row["unit"]),
                    ratio,
                    row["target"],
                    met,
                    row["spread"],
                )
            )
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]
    render = [
        "  ".join(
            str(cell).ljust(widths[i]) if i in (0, len(line) - 1) else str(cell).rjust(widths[i])
            for i, cell in enumerate(line)
        ).rstrip()
        for line in [header, *lines]
    ]
    render.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(render)


def previous_runs() -> list[dict[str, Any]]:
    """The stored runs, newest first: the last run's rows and commit, then its own history."""
    if not RESULTS.exists():
        return []
    try:
        last = json.loads(RESULTS.read_text())
    except ValueError:
        return []
    summary = {key: last.get(key) for key in ("commit", "started_at", "finished_at", "machine")}
    summary["rows"] = {name: entry["rows"] for name, entry in last.get("benchmarks", {}).items()}
    return ([summary] if summary["rows"] else []) + last.get("history", [])


def default_baseline(history: list[dict[str, Any]], commit: str) -> str:
    """The commit of the latest stored run of another commit, else HEAD~1."""
    for run in history:
        stored = (run.get("commit") or "").removesuffix("+dirty")
        if stored and stored != commit.removesuffix("+dirty"):
            return stored
    return git("rev-parse", "HEAD~1")


def run_all(chosen: set[str], quick: bool, baseline: str) -> list[str]:
    """Run the chosen benchmarks one after another; returns the names of those that failed."""
    here = RESULTS.parent
    failed = []
    for name, script, arguments, quick_arguments in BENCHMARKS:
        if name not in chosen:
            continue
        output = LOGS / f"{name}.out"
        started = time.monotonic()
        print(f"running {name:<9} ... ", end="", flush=True)
        extra = ["--baseline", baseline] if name == "pipeline" else []
        with output.open("w") as sink:
            code = subprocess.run(
                [sys.executable, str(here / script), *(quick_arguments if quick else arguments), *extra],
                stdout=sink,
                stderr=subprocess.STDOUT,
            ).returncode
        took = time.monotonic() - started
        print(f"{'done' if code == 0 else 'FAILED'} in {took:.0f}s (output: {output.relative_to(here.parent)})")
        if code != 0:
            failed.append(name)
    return failed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--code", help="run the services of this commit (a git worktree), not this checkout's")
    parser.add_argument("--baseline", help="commit the pipeline's CPU per flow is compared with")
    parser.add_argument(
        "--shared-broker", action="store_true", help="use the machine's RabbitMQ, not one of the run's own"
    )
    args = parser.parse_args()
    chosen = set(args.only.split(",")) if args.only else {name for name, *_ in BENCHMARKS}
    here = RESULTS.parent
    LOGS.mkdir(parents=True, exist_ok=True)
    if args.code:
        os.environ.update(code_env(checkout(args.code)))  # every benchmark and service it starts
    commit = current_commit()
    history = previous_runs()[:HISTORY]
    baseline = args.baseline or default_baseline(history, commit)
    info = machine()
    RESULTS.write_text(
        json.dumps(
            {
                "machine": info,
                "commit": commit,
                "baseline": baseline,
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "history": history,
            },
            indent=2,
        )
    )
    print(f"machine: {info['nproc']} cores, {info['cpu']}, {info['memory_gb']} GB; Python {info['python']}")
    print(f"code: {commit}; CPU per flow compared with {baseline}")
    started_all = time.monotonic()
    if args.shared_broker:
        failed = run_all(chosen, args.quick, baseline)
    else:
        print("starting a RabbitMQ node of this run's own ... ", end="", flush=True)
        with PrivateBroker():
            print(f"up after {time.monotonic() - started_all:.0f}s")
            failed = run_all(chosen, args.quick, baseline)
    results = json.loads(RESULTS.read_text())
    results["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    results["total_seconds"] = round(time.monotonic() - started_all)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results, chosen))
    print(
        "\nBest of several runs on a shared machine; ratios compare figures measured in the same run."
        f"\nDetails and every run: {RESULTS.relative_to(here.parent)}; total {results['total_seconds']}s."
    )
    if failed:
        print(f"benchmarks that failed to run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
