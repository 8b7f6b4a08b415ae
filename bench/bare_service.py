"""The reference of the intake benchmark: a bare nameko `@http` endpoint returning a constant.

Started exactly like a Beat service (its own process, eventlet monkey-patched first, nameko's
runner, the same config: `max_workers`, serializer), but no database, no schema, no auth, no
outbox: what nameko's HTTP path alone costs on this machine.

    BENCH_HTTP_ADDRESS=127.0.0.1:8099 .venv/bin/python bench/bare_service.py
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402

from nameko.cli.run import run  # noqa: E402
from nameko.web.handlers import http  # noqa: E402
from werkzeug.wrappers import Request  # noqa: E402

import beat_shared.amqp  # noqa: E402, F401 - registers the cloudevents serializer the config accepts
from beat_shared.config import service_config  # noqa: E402

CONSTANT = '{"concern": {"id": "bare", "status": "submitted"}}'


class BareService:
    name = "bare"

    @http("POST", "/concerns")
    def submit(self, request: Request) -> tuple[int, dict[str, str], str]:
        return 201, {"Content-Type": "application/json"}, CONSTANT

    @http("GET", "/healthz")
    def healthz(self, request: Request) -> tuple[int, dict[str, str], str]:
        return 200, {"Content-Type": "application/json"}, '{"status": "ok"}'


if __name__ == "__main__":
    config = service_config("bare", {"WEB_SERVER_ADDRESS": os.environ["BENCH_HTTP_ADDRESS"]})
    run([BareService], config)
