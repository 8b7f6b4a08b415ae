"""Page times of the web service: p95 of the beat page and of the voice form, against a static
file served by the same web process (its floor: the platform's HTTP path without any API call).

    .venv/bin/python bench/web_pages.py [--requests 300] [--repeat 3]

concerns and surveys run as `beat serve` processes on PostgreSQL with the demo data; web calls
them over HTTP as it does in production. The beat page makes two API calls at once (concerns'
beat, surveys' report card), the voice form one (the category and its questions). Requests are
sent one after another on one keep-alive connection, the three kinds interleaved so that each
sees the same background load.
"""

from __future__ import annotations

import argparse
import http.client
import time

from common import Row, Runs, Sandbox, percentile, record

PAGES = {
    "beat page": "/beats/RV-02",
    "voice form": "/voice/noise",
    "static file": "/static/beat.css",
}


def seeded(sandbox: Sandbox, service: str) -> str:
    """The service's database with its demo data, by the sandbox's code."""
    url = sandbox.service_database(service)
    sandbox.seed(url, f"{service}.demo:seed")
    return url


def measure(port: int, requests: int) -> dict[str, float]:
    """p95 milliseconds per page kind, the kinds interleaved on one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times: dict[str, list[float]] = {name: [] for name in PAGES}
    for _ in range(requests):
        for name, path in PAGES.items():
            started = time.perf_counter()
            connection.request("GET", path, headers={"Accept-Language": "en"})
            answer = connection.getresponse()
            answer.read()
            times[name].append((time.perf_counter() - started) * 1000)
            if answer.status != 200:
                raise RuntimeError(f"{path} answered {answer.status}")
    connection.close()
    return {name: percentile(values, 0.95) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="requests of each kind per run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = {name: Runs(higher_is_better=False) for name in PAGES}
    with Sandbox("web") as sandbox:
        concerns = sandbox.start_service("concerns", seeded(sandbox, "concerns"))
        surveys = sandbox.start_service("surveys", seeded(sandbox, "surveys"))
        web = sandbox.start_service(
            "web", "", {"WEB_CONCERNS_URL": concerns.url, "WEB_SURVEYS_URL": surveys.url, "WEB_API_TIMEOUT": "10"}
        )
        measure(web.port, 20)  # warm up: connections pooled, templates compiled
        for _ in range(args.repeat):
            for name, p95 in measure(web.port, args.requests).items():
                runs[name].add(p95)
    floor = runs["static file"].best
    rows = [
        # A figure, not a goal (no target yet): how many static files' time a page costs.
        Row(
            f"web: p95 {name} (vs a static file)",
            runs[name].best,
            "ms",
            "-",
            None,
            reference=floor,
            ratio=runs[name].best / floor,
            spread=runs[name].spread("{:.1f}"),
        )
        for name in ("beat page", "voice form")
    ]
    record("web", rows, {name: run.as_dict() for name, run in runs.items()} | {"requests": args.requests})
    for row in rows:
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
