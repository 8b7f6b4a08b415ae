"""Run every benchmark, print one table (figure, Beat, reference, ratio, target, met?), write bench/results.json.

Each benchmark runs as its own process (its output goes to var/bench/<name>.out) and stores its
rows in bench/results.json; this script starts that file afresh with the machine's description
and prints the rows of all benchmarks at the end.

    .venv/bin/python bench/run.py [--only relay,intake] [--quick]

--quick runs each benchmark shorter and fewer times (a smoke run; the figures are not the
reported ones).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from common import LOGS, RESULTS, fmt_number, machine

# (name, script, arguments, arguments with --quick)
BENCHMARKS: list[tuple[str, str, list[str], list[str]]] = [
    ("relay", "relay.py", [], ["--events", "5000", "--repeat", "1"]),
    ("intake", "intake.py", [], ["--seconds", "4", "--repeat", "1", "--memory-seconds", "4"]),
    (
        "pipeline",
        "pipeline.py",
        [],
        ["--seconds", "10", "--repeat", "1", "--light-seconds", "5", "--steps", "20", "--step-seconds", "5"],
    ),
    ("surveys", "survey_results.py", [], ["--responses", "100000", "--repeat", "3"]),
    ("scaleout", "scaleout.py", [], ["--events", "300", "--repeat", "1"]),
    ("web", "web_pages.py", [], ["--requests", "30", "--repeat", "1"]),
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    chosen = set(args.only.split(",")) if args.only else {name for name, *_ in BENCHMARKS}
    here = RESULTS.parent
    LOGS.mkdir(parents=True, exist_ok=True)
    info = machine()
    RESULTS.write_text(json.dumps({"machine": info, "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=2))
    print(f"machine: {info['nproc']} cores, {info['cpu']}, {info['memory_gb']} GB; Python {info['python']}")
    failed = []
    started_all = time.monotonic()
    for name, script, arguments, quick in BENCHMARKS:
        if name not in chosen:
            continue
        output = LOGS / f"{name}.out"
        started = time.monotonic()
        print(f"running {name:<9} ... ", end="", flush=True)
        with output.open("w") as sink:
            code = subprocess.run(
                [sys.executable, str(here / script), *(quick if args.quick else arguments)],
                stdout=sink,
                stderr=subprocess.STDOUT,
            ).returncode
        took = time.monotonic() - started
        print(f"{'done' if code == 0 else 'FAILED'} in {took:.0f}s (output: {output.relative_to(here.parent)})")
        if code != 0:
            failed.append(name)
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
