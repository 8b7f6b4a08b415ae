"""What every service has: its index at /, /healthz, /readyz, /metrics, /openapi.json and its
reference page, the request-id log context, and client errors logged as such."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kombu import Connection
from nameko.containers import WorkerContext
from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Request, Response

from beat_shared.config import check_production_settings, is_production
from beat_shared.db import find_database
from beat_shared.docs import reference_page
from beat_shared.http import http, json_response, quiet_client_errors
from beat_shared.logs import request_id_var
from beat_shared.metrics import BROKER_UP, OUTBOX_BACKLOG, exposition
from beat_shared.openapi import build_openapi
from beat_shared.outbox import Outbox, backlog
from beat_shared.service_index import Page, index_document, index_response

log = logging.getLogger(__name__)

CHECK_CACHE_SECONDS = 2.0


class Platform(DependencyProvider):
    """Health checks for the service's database and broker; sets the log context per worker.

    Readiness is what a request needs: the database. The broker is not part of it, because writes
    go to the outbox (published when the broker returns) and reads need no broker; making pods
    unready during a broker outage would turn it into a whole-site 503. The broker's state is
    reported in `/healthz` details and the `beat_broker_up` gauge, which alerts watch.
    """

    def setup(self) -> None:
        check_production_settings(self.container.config, self.container.service_name)  # never start unsafe
        quiet_client_errors()
        self._cached: dict[str, tuple[float, bool]] = {}

    def worker_setup(self, worker_ctx: WorkerContext) -> None:
        request_id_var.set(worker_ctx.context_data.get("request_id") or worker_ctx.call_id)

    def get_dependency(self, worker_ctx: WorkerContext) -> Platform:
        return self

    @property
    def service_name(self) -> str:
        return self.container.service_name

    @property
    def production(self) -> bool:
        return is_production(self.container.config)

    def index(self, request: Request, service_cls: type, extra: dict[str, Any] | None = None) -> Response:
        """The service's index (`/`): HTML for a browser, JSON otherwise."""
        pages: tuple[Page, ...] = getattr(service_cls, "index_pages", ())
        return index_response(request, index_document(service_cls, pages, self.production, extra))

    def readiness(self) -> dict[str, bool]:
        """{"database": bool}: what answering a request needs."""
        return {"database": self._checked("database", self._database_ok)}

    def broker_up(self) -> bool:
        up = self._checked("broker", self._broker_ok)
        BROKER_UP.labels(self.service_name).set(1 if up else 0)
        return up

    def _checked(self, name: str, check: Callable[[], bool]) -> bool:
        """The check's result, cached briefly so frequent probes stay cheap."""
        now = time.monotonic()
        cached = self._cached.get(name)
        if cached and now - cached[0] < CHECK_CACHE_SECONDS:
            return cached[1]
        result = check()
        self._cached[name] = (now, result)
        return result

    def _database_ok(self) -> bool:
        database = find_database(self.container)
        if database is None:
            return True
        return database.answers()

    def _broker_ok(self) -> bool:
        try:
            with Connection(self.container.config["AMQP_URI"], connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1, timeout=2)
            return True
        except Exception as error:  # noqa: BLE001
            log.warning("health: broker unreachable (events wait in the outbox): %s", error)
            return False

    def refresh_gauges(self) -> None:
        self.broker_up()
        database = find_database(self.container)
        outbox = next((d for d in self.container.dependencies if isinstance(d, Outbox)), None)
        if database is not None and outbox is not None:
            OUTBOX_BACKLOG.labels(self.service_name).set(backlog(database.engine, outbox.table))


class PlatformEndpoints:
    """Mixin for service classes: index, health, readiness, metrics and API reference endpoints.
    A service lists its pages for browsers in `index_pages`."""

    platform = Platform()
    index_pages: tuple[Page, ...] = ()

    @http("GET", "/", auth="none", summary="What this service is and where to look (HTML or JSON)", tags=["platform"])
    def index(self, request: Request) -> Response:
        return self.platform.index(request, type(self))

    @http("GET", "/healthz", auth="none", tags=["platform"])
    def healthz(self, request: Request) -> Response:
        """Liveness: the process answers; `checks.broker` says whether RabbitMQ is reachable.

        While it is not, events wait in the outbox and the service keeps answering (still 200)."""
        checks = {"broker": self.platform.broker_up()}
        return json_response({"status": "ok", "service": self.platform.service_name, "checks": checks})

    @http("GET", "/readyz", auth="none", tags=["platform"])
    def readyz(self, request: Request) -> Response:
        """Readiness: the database is reachable (503 otherwise); the broker is not needed.

        A broker outage leaves the service ready: writes go to the outbox and are published when it returns."""
        checks = self.platform.readiness()
        ready = all(checks.values())
        return json_response({"ready": ready, "checks": checks}, status=200 if ready else 503)

    @http("GET", "/openapi.json", auth="none", tags=["platform"])
    def openapi(self, request: Request) -> Response:
        """This service's OpenAPI 3.1 document."""
        return json_response(build_openapi(type(self)))

    @http("GET", "/openapi.html", auth="none", tags=["platform"])
    def openapi_reference(self, request: Request) -> Response:
        """This service's API reference, a page for people."""
        return Response(reference_page(build_openapi(type(self))), mimetype="text/html")

    @http("GET", "/metrics", auth="none", tags=["platform"])
    def metrics(self, request: Request) -> Response:
        """Prometheus metrics in text format."""
        self.platform.refresh_gauges()
        self.refresh_service_gauges()
        body, content_type = exposition()
        return Response(body, status=200, content_type=content_type)

    def refresh_service_gauges(self) -> None:
        """A service's own gauges, measured when /metrics is read (none unless the service says)."""
