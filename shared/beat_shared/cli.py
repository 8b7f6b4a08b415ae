"""`beat`: run, migrate and operate the platform.

beat run                       all four services and the web pages, one process each
beat serve concerns            one service in this process (what a pod runs)
beat migrate [SERVICE ...]     Alembic upgrade to head
beat seed-demo                 demo data in every service's database
beat token --role officer      a development bearer token
beat dlq list | replay         dead letters
beat outbox status             unpublished events per service
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")  # it is in bug-fix mode; we know

import eventlet  # noqa: E402

eventlet.monkey_patch()  # before anything opens sockets, as `nameko run` does

import argparse  # noqa: E402
import errno  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import requests  # noqa: E402
from kombu import Connection  # noqa: E402
from sqlalchemy.exc import OperationalError as DatabaseUnreachable  # noqa: E402

from beat_shared import registry  # noqa: E402
from beat_shared.config import (  # noqa: E402
    PAGE_SERVICES,
    RUNNABLE_SERVICES,
    SERVICE_NAMES,
    database_url,
    env,
    http_address,
    service_config,
)
from beat_shared.db import make_engine, unit_of_work  # noqa: E402
from beat_shared.dev_mail import RefusedInProduction, refuse_in_production, start_catcher  # noqa: E402
from beat_shared.logs import configure_logging  # noqa: E402


class CommandFailed(Exception):
    """A failure with a message that tells the operator what was tried and how to fix it."""


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def service_class(service: str) -> type:
    if service not in RUNNABLE_SERVICES:
        raise CommandFailed(f"unknown service {service!r}; choose from {', '.join(RUNNABLE_SERVICES)}")
    try:
        return registry.service_class(service)
    except registry.NotRegistered as missing:
        raise CommandFailed(f"{missing}.\n  Install the service: pip install -e services/{service}") from missing


def selected(services: Sequence[str], known: Sequence[str] = SERVICE_NAMES) -> Sequence[str]:
    unknown = [name for name in services if name not in known]
    if unknown:
        raise CommandFailed(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return services or known


def check_broker(amqp_uri: str) -> None:
    try:
        with Connection(amqp_uri, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as error:
        raise CommandFailed(
            f"cannot reach RabbitMQ at {redact(amqp_uri)} ({error}).\n"
            "  Start it with `rabbitmq-server -detached` (or `make broker`), or set AMQP_URI."
        ) from error


def check_database(service: str, url: str) -> None:
    try:
        engine = make_engine(url, pool_size=1)
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            connection.rollback()
        engine.dispose()
    except DatabaseUnreachable as error:
        raise CommandFailed(
            f"cannot reach the {service} database at {redact(url)} ({error.orig}).\n"
            f"  Check that the server runs and the database exists, or set {service.upper()}_DATABASE_URL."
        ) from error


# --- commands ---------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> None:
    config = service_config(args.service)
    check_broker(config["AMQP_URI"])
    if args.service not in PAGE_SERVICES:
        check_database(args.service, database_url(args.service, config))
    serve(service_class(args.service), config, float(env("BEAT_SHUTDOWN_SECONDS")))


def serve(service_cls: type, config: dict[str, Any], grace_seconds: float) -> None:
    """Run until SIGTERM or SIGINT, then stop once: stop consuming, let running workers finish
    (unacknowledged messages go back to the broker), and kill whatever still runs at the deadline."""
    from nameko.runners import ServiceRunner

    runner = ServiceRunner(config)
    runner.add_service(service_cls)
    stopping: list[bool] = []

    def stop_once() -> None:
        if stopping:
            return  # a second signal must not start a second, competing stop
        stopping.append(True)
        eventlet.spawn_after(grace_seconds, runner.kill)
        runner.stop()

    def on_signal(signum: int, frame: Any) -> None:
        eventlet.spawn_n(stop_once)  # signal handlers may not block on green primitives

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner.start()
    waiting = eventlet.spawn(runner.wait)
    # The stop a signal schedules runs only when the hub wakes; a service with no timers (web)
    # would otherwise sleep through it for up to a minute.
    ticking = eventlet.spawn(_wake_hub_every, HUB_WAKE_SECONDS)
    try:
        while True:
            try:
                waiting.wait()
                return
            except OSError as error:  # a signal interrupting the hub's poll
                if error.errno != errno.EINTR:
                    raise
    finally:
        ticking.kill()


HUB_WAKE_SECONDS = 0.5


def _wake_hub_every(seconds: float) -> None:
    while True:
        eventlet.sleep(seconds)


def refuse_dev_mail_in_production() -> None:
    """Production sends real mail to the city's relay: asking for the catcher there is a mistake."""
    if os.environ.get("BEAT_DEV_MAIL_PORT"):
        try:
            refuse_in_production("BEAT_DEV_MAIL_PORT (the development mail catcher)")
        except RefusedInProduction as refused:
            raise CommandFailed(f"{refused}.\n  Unset BEAT_DEV_MAIL_PORT and set NOTIFICATIONS_SMTP_HOST.") from refused


def development_conveniences(services: Sequence[str]) -> tuple[dict[str, str], subprocess.Popen[bytes] | None]:
    """The children's environment, and the mail catcher when one was started.

    Text logs when a person watches the terminal and did not choose a format. In development,
    notifications' e-mail goes to a local mail catcher started here (unless NOTIFICATIONS_SMTP_HOST
    names a server), so that what was sent can be read at notifications' /dev/outbox page.
    """
    child_env = dict(os.environ)
    if not os.environ.get("BEAT_LOG_FORMAT") and sys.stdout.isatty():
        child_env["BEAT_LOG_FORMAT"] = "text"
        configure_logging(env("BEAT_LOG_LEVEL"), "text")
    refuse_dev_mail_in_production()
    if env("BEAT_ENVIRONMENT") == "production" or "notifications" not in services:
        return child_env, None
    if os.environ.get("NOTIFICATIONS_SMTP_HOST"):
        return child_env, None  # the person chose a mail server
    port = int(env("BEAT_DEV_MAIL_PORT"))
    try:
        catcher = start_catcher(port, Path(env("BEAT_DEV_MAIL_DIR")))
    except RuntimeError as error:
        raise CommandFailed(
            f"{error}.\n  Set BEAT_DEV_MAIL_PORT to a free port, or NOTIFICATIONS_SMTP_HOST to your own SMTP server."
        ) from error
    child_env.update(
        NOTIFICATIONS_SMTP_HOST="127.0.0.1",
        NOTIFICATIONS_SMTP_PORT=str(port),
        NOTIFICATIONS_SMTP_USERNAME="",
        NOTIFICATIONS_SMTP_STARTTLS="false",
    )
    return child_env, catcher


def mail_banner(catcher: subprocess.Popen[bytes] | None) -> list[str]:
    """The banner's line about e-mail: where the catcher listens and where to read what was sent."""
    if catcher is None:
        return []
    outbox = f"http://127.0.0.1:{env('NOTIFICATIONS_HTTP_ADDRESS').rsplit(':', 1)[-1]}/dev/outbox"
    return [f"  {'mail catcher':<14} smtp://127.0.0.1:{env('BEAT_DEV_MAIL_PORT')}   what was sent: {outbox}"]


def cmd_run(args: argparse.Namespace) -> None:
    services = selected(args.services.split(",") if args.services else [], RUNNABLE_SERVICES)
    refuse_dev_mail_in_production()
    check_broker(env("AMQP_URI"))
    for service in (name for name in services if name not in PAGE_SERVICES):
        check_database(service, database_url(service, service_config(service)))
    child_env, catcher = development_conveniences(services)
    children = {
        service: subprocess.Popen([sys.executable, "-m", "beat_shared.cli", "serve", service], env=child_env)
        for service in services
    }

    def stop_all(*_: Any) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop_all)
    signal.signal(signal.SIGINT, stop_all)
    _print_urls_when_healthy(services, children, mail_banner(catcher))
    while all(child.poll() is None for child in children.values()):
        time.sleep(0.5)
    stop_all()
    for child in children.values():
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
    if catcher is not None:
        catcher.terminate()
        catcher.wait(timeout=10)
    failed = [name for name, child in children.items() if child.returncode not in (0, -signal.SIGTERM)]
    if failed:
        raise CommandFailed(f"service(s) stopped unexpectedly: {', '.join(failed)}")


def _print_urls_when_healthy(
    services: Sequence[str], children: dict[str, subprocess.Popen[bytes]], more: Sequence[str] = ()
) -> None:
    """The banner, once every service answers: printed after their start-up logs, so it stays last."""
    deadline = time.monotonic() + 60
    pending = set(services)
    while pending and time.monotonic() < deadline:
        for service in sorted(pending):
            if children[service].poll() is not None:
                return
            port = http_address(service).rsplit(":", 1)[-1]
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                    pending.discard(service)
            except requests.RequestException:
                pass
        time.sleep(0.3)
    print("\nBeat is running:", flush=True)
    for service in services:
        port = http_address(service).rsplit(":", 1)[-1]
        if service in PAGE_SERVICES:
            print(f"  {service:<14} http://127.0.0.1:{port}/   <- start here: Beat's pages for residents and officers")
            continue
        print(f"  {service:<14} http://127.0.0.1:{port}/   (what it is, its pages; API reference: /openapi.html)")
    for line in more:
        print(line)
    print("Press Ctrl-C to stop.\n", flush=True)


def cmd_migrate(args: argparse.Namespace) -> None:
    from beat_shared.migrations import upgrade

    for service in selected(args.services):
        url = database_url(service, service_config(service))
        check_database(service, url)
        upgrade(service, url)
        print(f"{service}: migrated {redact(url)}")


def cmd_seed_demo(args: argparse.Namespace) -> None:
    for service in selected(args.services):
        try:
            seed = registry.demo_seed(service)
        except registry.NotRegistered:
            print(f"{service}: no demo data defined")
            continue
        url = database_url(service, service_config(service))
        check_database(service, url)
        engine = make_engine(url, pool_size=1)
        with unit_of_work(engine) as session:
            summary = seed(session)
        engine.dispose()
        print(f"{service}: {summary}")


def cmd_token(args: argparse.Namespace) -> None:
    from beat_shared.auth import mint_token

    if env("BEAT_JWT_ALGORITHM") != "HS256":
        raise CommandFailed("development tokens are HS256; with RS256 the city identity provider issues tokens")
    if args.role == "agency" and not args.agency_id:
        raise CommandFailed("an agency token names its agency: add --agency-id agency-<name>")
    print(
        mint_token(
            args.role,
            args.subject,
            env("BEAT_JWT_SECRET"),
            agency_id=args.agency_id,
            name=args.name,
            ttl_seconds=args.ttl,
            issuer=env("BEAT_JWT_ISSUER"),
            audience=env("BEAT_JWT_AUDIENCE"),
        )
    )


def cmd_dlq(args: argparse.Namespace) -> None:
    from beat_shared.deadletters import dead_letter_queues, peek, queue_depth, replay

    amqp_uri = env("AMQP_URI")
    check_broker(amqp_uri)
    queues = [args.queue] if args.queue else dead_letter_queues(service_class(s) for s in SERVICE_NAMES)
    if args.action == "list":
        for queue in queues:
            depth = queue_depth(amqp_uri, queue)
            if depth:
                print(f"{queue}: {depth} message(s)")
                for letter in peek(amqp_uri, queue, limit=args.limit):
                    print(f"  {letter.message_id}  {letter.event_type}  attempts={letter.attempts}  {letter.error}")
        if not any(queue_depth(amqp_uri, queue) for queue in queues):
            print("no dead letters")
    else:
        total = 0
        for queue in queues:
            if queue_depth(amqp_uri, queue):
                moved = replay(amqp_uri, queue, limit=args.limit)
                total += moved
                print(f"{queue}: replayed {moved}")
        print(f"replayed {total} message(s)")


def cmd_outbox_status(args: argparse.Namespace) -> None:
    from sqlalchemy import MetaData

    from beat_shared.db import add_platform_tables
    from beat_shared.outbox import backlog

    metadata = MetaData()
    add_platform_tables(metadata)
    for service in SERVICE_NAMES:
        url = database_url(service, service_config(service))
        check_database(service, url)
        engine = make_engine(url, pool_size=1)
        print(f"{service}: {backlog(engine, metadata.tables['outbox'])} unpublished event(s)")
        engine.dispose()


def cmd_agency(args: argparse.Namespace) -> None:
    """Agency subscriptions are the referrals service's; the command it declares does the work."""
    try:
        provision = registry.agency_command()
    except registry.NotRegistered as missing:
        raise CommandFailed(f"{missing}.\n  Install the referrals service (services/referrals).") from missing
    status = provision([*args.arguments, *(["--remove"] if args.action == "remove" else [])])
    if status:
        raise CommandFailed(f"agency {args.action} failed")


def cmd_docs(args: argparse.Namespace) -> None:
    from pathlib import Path

    from beat_shared.docs import write_contracts

    for path in write_contracts(Path(args.root)):
        print(f"wrote {path}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="beat", description="Run and operate the Beat platform.")
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace], None], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(handler=handler)
        return sub

    add("run", cmd_run, "start the services, one process each").add_argument(
        "--services", help="comma-separated subset (default: the four services and web)"
    )
    add("serve", cmd_serve, "run one service in this process").add_argument("service", choices=RUNNABLE_SERVICES)
    add("migrate", cmd_migrate, "upgrade databases to the latest schema").add_argument(
        "services", nargs="*", help="default: all four"
    )
    add("seed-demo", cmd_seed_demo, "load demo data").add_argument("services", nargs="*", help="default: all four")
    token = add("token", cmd_token, "mint a development token")
    token.add_argument(
        "--role", required=True, choices=["resident", "officer", "supervisor", "agency", "analyst", "admin"]
    )
    token.add_argument("--subject", help="the token's sub claim (default: random)")
    token.add_argument("--agency-id", help="the agency (required for role agency)")
    token.add_argument("--name")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="seconds (default 8 hours)")
    dlq = add("dlq", cmd_dlq, "list or replay dead letters")
    dlq.add_argument("action", choices=["list", "replay"])
    dlq.add_argument("--queue", help="one dead-letter queue (default: every handler's)")
    dlq.add_argument("--limit", type=int, default=None)
    agency = add("agency", cmd_agency, "give an agency its own RabbitMQ user and queue (or remove them)")
    agency.add_argument("action", choices=["provision", "remove"])
    agency.add_argument("arguments", nargs=argparse.REMAINDER, help="AGENCY_ID [--vhost V] [--amqp-host H] [--tls]")
    add("docs", cmd_docs, "regenerate docs/contracts (AsyncAPI and OpenAPI)").add_argument(
        "--root", default=".", help="repository root (default: here)"
    )
    outbox = add("outbox", cmd_outbox_status, "outbox status")
    outbox.add_argument("action", choices=["status"])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(env("BEAT_LOG_LEVEL"), env("BEAT_LOG_FORMAT"))
    if args.command == "dlq" and args.action == "list" and args.limit is None:
        args.limit = 20
    try:
        args.handler(args)
    except CommandFailed as failure:
        print(f"beat: {failure}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
