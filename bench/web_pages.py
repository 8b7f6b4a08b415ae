"""Page times of the web service at a steady 50 requests/s: p95 of the beat page and of the voice
form, each against the same page served as a static file by the same web process (its floor:
the platform's HTTP path and the bytes of the page, without rendering or any API call).

    .venv/bin/python bench/web_pages.py [--rate 50] [--seconds 20] [--repeat 3]

concerns and surveys run as `beat serve` processes on PostgreSQL with the demo data; web calls
them over HTTP as it does in production. The beat page makes two API calls at once (concerns'
beat, surveys' report card), the voice form one (the category and its questions). The static
copies are the pages as web rendered them, written for the run into web's static folder (served
by `GET /static/<name>`, removed at the end).

The load is an open schedule: a request starts every 1/rate s whatever the answers take (a
pool of keep-alive client threads), and a request's time runs from when it was due to its
last byte, so a page that falls behind is charged its queueing too. The kinds take turns, one
run each, so that each sees the same background load.
"""

from __future__ import annotations

import argparse
import http.client
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import REPO, Row, Runs, Sandbox, percentile, record

PAGES = {"beat page": "/beats/RV-02", "voice form": "/voice/noise"}
COPY = "bench-copy-{pid}-{kind}.html"  # the static copy of a page, in web's static folder for the run


def seeded(sandbox: Sandbox, service: str) -> str:
    """The service's database with its demo data, by the sandbox's code."""
    url = sandbox.service_database(service)
    sandbox.seed(url, f"{service}.demo:seed")
    return url


class Client:
    """GET over keep-alive HTTP, one connection per thread."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.local = threading.local()

    def get(self, path: str) -> tuple[int, bytes]:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path, headers={"Accept-Language": "en"})
            answer = connection.getresponse()
            return answer.status, answer.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            self.local.connection = None
            raise


def steady(client: Client, path: str, rate: float, seconds: float) -> dict[str, float]:
    """`rate` GETs a second for `seconds` on an open schedule: p50/p95/p99 in ms from when each was due."""
    count = int(rate * seconds)
    times: list[float] = []
    failures: list[str] = []

    def one(due: float) -> None:
        try:
            status, _body = client.get(path)
            if status != 200:
                failures.append(f"{path} answered {status}")
        except (OSError, http.client.HTTPException) as error:
            failures.append(f"{path}: {error}")
        times.append((time.perf_counter() - due) * 1000)

    with ThreadPoolExecutor(max_workers=32) as pool:
        started = time.perf_counter()
        for number in range(count):
            due = started + number / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, due)
    if failures:
        raise RuntimeError(f"{len(failures)} of {count} failed, e.g. {failures[0]}")
    return {"p50": percentile(times, 0.5), "p95": percentile(times, 0.95), "p99": percentile(times, 0.99)}


def static_folder() -> Path:
    """web's static folder in the code the sandbox runs (a worktree's with BENCH_CODE)."""
    return Path(os.environ.get("BENCH_CODE") or REPO) / "services" / "web" / "web" / "static"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=50, help="requests per second")
    parser.add_argument("--seconds", type=float, default=20, help="seconds of each run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    runs = {f"{kind}{copy}": Runs(higher_is_better=False) for kind in PAGES for copy in ("", " (static copy)")}
    details: dict[str, list[dict[str, float]]] = {name: [] for name in runs}
    copies: list[Path] = []
    try:
        with Sandbox("web") as sandbox:
            concerns = sandbox.start_service("concerns", seeded(sandbox, "concerns"))
            surveys = sandbox.start_service("surveys", seeded(sandbox, "surveys"))
            web = sandbox.start_service(
                "web", "", {"WEB_CONCERNS_URL": concerns.url, "WEB_SURVEYS_URL": surveys.url, "WEB_API_TIMEOUT": "10"}
            )
            client = Client(web.port or 0)
            paths: dict[str, str] = {}
            for kind, path in PAGES.items():
                status, page = client.get(path)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
                copy = static_folder() / COPY.format(pid=os.getpid(), kind=kind.split()[0])
                copy.write_bytes(page)
                copies.append(copy)
                paths[kind], paths[f"{kind} (static copy)"] = path, f"/static/{copy.name}"
            for path in paths.values():  # warm up: connections pooled, templates compiled
                steady(client, path, args.rate, 2)
            for _ in range(args.repeat):
                for name, path in paths.items():
                    figures = steady(client, path, args.rate, args.seconds)
                    runs[name].add(figures["p95"])
                    details[name].append({key: round(value, 2) for key, value in figures.items()})
                    print(name, figures, flush=True)
    finally:
        for copy in copies:
            copy.unlink(missing_ok=True)
    rows = [
        Row(
            f"web: p95 {kind} at {args.rate:g} req/s (ref.: the same page as a static file)",
            runs[kind].best,
            "ms",
            "report",
            None,
            reference=runs[f"{kind} (static copy)"].best,
            ratio=runs[kind].best / runs[f"{kind} (static copy)"].best,
            spread=f"{runs[kind].spread('{:.1f}')}; static {runs[f'{kind} (static copy)'].spread('{:.1f}')}",
        )
        for kind in PAGES
    ]
    record("web", rows, {"rate": args.rate, "seconds": args.seconds, "runs": details})
    for row in rows:
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
