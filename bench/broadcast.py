"""Benchmark 7: a district-wide broadcast, from the officer's request to the last delivery.

N subscribers of beat RV-01 are written straight into a fresh notifications database, with a
mix of what people choose (by their number, see `Subscriber`):

- 40 % follow the beat by e-mail alone (no account): e-mail;
- 30 % are signed-in residents: e-mail and in-app inbox;
- 10 % signed in with SMS instead of e-mail: SMS and inbox;
- 10 % signed in with e-mail and SMS: e-mail, SMS and inbox;
- 10 % signed in, in their quiet hours now: e-mail and inbox (e-mail held until the quiet hours end);
- a third of everyone reads Spanish, the rest English; four time zones.

The officer of RV-01 announces a meeting (`POST /broadcasts/RV-01`, the page's own API, with an
officer's token; concerns runs to confirm the assignment). Non-urgent, so quiet hours apply.
E-mail goes to the aiosmtpd sink (bench/smtp_sink.py), SMS to a local HTTP gateway stub (the
`NOTIFICATIONS_SMS_GATEWAY_URL` adapter the notifications tests use), the inbox is a table.

Exactly once, asserted (a wrong count exits 1): every subscriber gets one message per channel they
chose; the sink's recipients, the gateway's numbers and the inbox's subjects are counted, and a
message held for quiet hours counts when it is *correctly deferred*: still `queued`, due at the
end of the recipient's quiet hours, and never seen at the sink or the gateway.

Figures: time from the request to the last delivery; e-mails per second against a bare sender
in the same run (Python smtplib sending the same rendered messages, built by the dispatcher's own
code, to the same sink over as many concurrent connections as the dispatcher may hold:
NOTIFICATIONS_DISPATCH_CONCURRENCY rounds x 10 senders, each connection closed after 50 messages as
the dispatcher does); notifications' resident memory sampled from /proc every 0.1 s, peak against
idle; CPU per delivery of notifications, PostgreSQL and RabbitMQ.

    .venv/bin/python bench/broadcast.py [--subscribers 50000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import io
import json
import smtplib
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.generator import BytesGenerator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.extras
import requests
from common import CpuMeter, Process, Row, Runs, Sandbox, free_port, pids_of_user, record, rss_mb
from intake import seed_concerns, start_concerns

from beat_shared.auth import mint_token
from beat_shared.config import env

BEAT = "RV-01"
OFFICER = "officer-rv01"
TIMEZONES = ("America/Chicago", "America/New_York", "America/Los_Angeles", "UTC")
SEND_CONCURRENCY = 10  # the dispatcher's senders per round (dispatcher.SEND_CONCURRENCY)
MESSAGES_PER_CONNECTION = 50  # as the dispatcher's SMTP transport
DISPATCH_CONCURRENCY = 2  # NOTIFICATIONS_DISPATCH_CONCURRENCY's default
STALL_SECONDS = 90.0  # no new delivery for this long: the rest count as missing
MEMORY_TARGET = 1.5
RATE_TARGET = 0.5


@dataclass(frozen=True)
class Subscriber:
    number: int
    subject: str
    email: str | None
    phone: str | None
    language: str
    timezone: str
    account: bool  # signed in (inbox) or following by e-mail alone
    quiet: bool

    @property
    def channels(self) -> set[str]:
        wanted = {"inbox"} if self.account else set()
        if self.email:
            wanted.add("email")
        if self.phone:
            wanted.add("sms")
        return wanted


def subscriber(number: int) -> Subscriber:
    kind = number % 10
    account = kind >= 4
    sms_only, both = kind == 7, kind == 8
    return Subscriber(
        number=number,
        subject=f"email:bench{number:07d}" if not account else f"resident-bench-{number:07d}",
        email=None if sms_only else f"sub{number:07d}@bench.example",
        phone=f"+1555{number:07d}" if sms_only or both else None,
        language="es" if number % 3 == 0 else "en",
        timezone=TIMEZONES[number % len(TIMEZONES)],
        account=account,
        quiet=kind == 9,
    )


def quiet_window(timezone: str, now: datetime) -> tuple[str, str]:
    """Quiet hours that started an hour ago and end in three hours, local time."""
    local = now.astimezone(ZoneInfo(timezone))
    return (local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=3)).strftime("%H:%M")


def seed_subscribers(url: str, count: int, now: datetime) -> list[Subscriber]:
    """The beat's subscribers, written with a few multi-row INSERTs (not through the API)."""
    people = [subscriber(number) for number in range(count)]
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        rows = []
        for person in people:
            start, end = quiet_window(person.timezone, now) if person.quiet else (None, None)
            rows.append(
                (
                    f"ref-{person.number:07d}",
                    person.subject,
                    "resident",
                    person.email,
                    person.phone,
                    person.language,
                    person.timezone,
                    start,
                    end,
                    False,
                    False,
                    now,
                    now,
                )
            )
        ids = psycopg2.extras.execute_values(
            cursor,
            "INSERT INTO recipients (ref, subject, role, email, phone, language, timezone, quiet_start, quiet_end,"
            " digest, opted_out, created_at, updated_at) VALUES %s RETURNING id",
            rows,
            page_size=2000,
            fetch=True,
        )
        recipient_ids = [row[0] for row in ids]
        psycopg2.extras.execute_values(
            cursor,
            "INSERT INTO subscriptions (recipient_id, beat_code, created_at, confirmed_at, watch) VALUES %s",
            [(recipient_id, BEAT, now, now, False) for recipient_id in recipient_ids],
            page_size=5000,
        )
        preferences = []
        for person, recipient_id in zip(people, recipient_ids, strict=True):
            if person.phone:  # SMS is opt-in
                preferences.append((recipient_id, "*", "sms", True))
            if person.account and not person.email:
                preferences.append((recipient_id, "*", "email", False))
        psycopg2.extras.execute_values(
            cursor,
            "INSERT INTO preferences (recipient_id, topic, channel, enabled) VALUES %s",
            preferences,
            page_size=5000,
        )
    connection.close()
    return people


class SmsGatewayStub:
    """The SMS gateway adapter's protocol (POST {to, from, body, reference}), answering 202 and
    keeping (time, number) of every text, in a thread of this process."""

    def __init__(self) -> None:
        self.received: list[tuple[float, str]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.received.append((time.time(), body["to"]))
                answer = b'{"status":"accepted"}'
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SinkLog:
    """The SMTP sink's log of accepted recipients, read incrementally."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size
        self.accepted: list[tuple[float, str]] = []

    def read(self) -> list[tuple[float, str]]:
        with self.path.open() as log:
            log.seek(self.offset)
            chunk = log.read()
        complete = chunk[: chunk.rfind("\n") + 1]
        self.offset += len(complete.encode())
        for line in complete.splitlines():
            when, recipient = line.split(" ", 1)
            self.accepted.append((float(when), recipient))
        return self.accepted


class MemorySampler:
    """VmRSS of a process every `interval` seconds, in a thread, until stopped."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(rss_mb(self.pid))
            except (OSError, RuntimeError):
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def inbox_count(url: str) -> int:
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inbox_items")
        (count,) = cursor.fetchone()
    connection.close()
    return int(count)


def broadcast_body(now: datetime) -> dict[str, Any]:
    starts = (now + timedelta(days=3)).replace(hour=23, minute=0, second=0, microsecond=0)
    return {
        "kind": "meeting",
        "title": "Riverton North district meeting",
        "body": "Traffic on Main Street and the park at night. Everyone is welcome.",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1, minutes=30)).isoformat(),
        "venue": "Riverton Library, Room 2",
    }


@dataclass
class Outcome:
    started: float
    last_delivery: float
    emails: list[tuple[float, str]]
    texts: list[tuple[float, str]]
    inbox: int
    peak_mb: float
    cpu: dict[str, float]
    problems: list[str]


def run_broadcast(
    notifications: Process,
    url: str,
    people: list[Subscriber],
    sink: SinkLog,
    gateway: SmsGatewayStub,
    deadline: float,
) -> Outcome:
    expected = Counter(channel for person in people for channel in person.channels if not _deferred(person, channel))
    token = mint_token("officer", OFFICER, env("BEAT_JWT_SECRET"), ttl_seconds=3600)
    meter = CpuMeter(
        {
            "notifications": lambda: [notifications.pid],
            "PostgreSQL": lambda: pids_of_user("postgres"),
            "RabbitMQ": lambda: pids_of_user("rabbitmq"),
        }
    )
    with MemorySampler(notifications.pid) as memory:
        meter.start()
        started = time.time()
        answer = requests.post(
            f"{notifications.url}/broadcasts/{BEAT}",
            json=broadcast_body(datetime.now(UTC)),
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        answered = time.time()
        if answer.status_code != 201:
            raise RuntimeError(f"the broadcast answered {answer.status_code}: {answer.text[:500]}")
        print(f"broadcast answered in {answered - started:.2f}s: {answer.json()}", flush=True)
        inbox, progress_at, seen = 0, time.time(), -1
        while True:
            emails, texts = len(sink.read()), len(gateway.received)
            inbox = inbox_count(url)
            done = emails + texts + inbox
            if done != seen:
                seen, progress_at = done, time.time()
                print(f"  {time.time() - started:7.1f}s e-mail {emails}, SMS {texts}, inbox {inbox}", flush=True)
            if emails >= expected["email"] and texts >= expected["sms"] and inbox >= expected["inbox"]:
                break
            if time.time() - progress_at > STALL_SECONDS:
                print(f"no delivery for {STALL_SECONDS:.0f}s: the rest count as missing", flush=True)
                break
            if time.time() - started > deadline:
                print(f"still delivering after {deadline:.0f}s (--deadline): the rest count as missing", flush=True)
                break
            time.sleep(0.5)
        inbox_done = time.time()
        time.sleep(3)  # anything sent twice arrives now, before the count
        cpu = meter.stop()
    emails_seen, texts_seen = list(sink.read()), list(gateway.received)
    last = max([when for when, _ in emails_seen + texts_seen] or [started])
    if inbox and inbox >= expected["inbox"]:
        last = max(last, _last_inbox_time(url) or inbox_done)
    problems = check_exactly_once(url, people, emails_seen, texts_seen, started)
    return Outcome(started, last, emails_seen, texts_seen, inbox, max(memory.samples), cpu, problems)


def _deferred(person: Subscriber, channel: str) -> bool:
    return person.quiet and channel in ("email", "sms")


def _last_inbox_time(url: str) -> float | None:
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT max(created_at) FROM inbox_items")
        (latest,) = cursor.fetchone()
    connection.close()
    if latest is None:
        return None
    return (latest if latest.tzinfo else latest.replace(tzinfo=UTC)).timestamp()


def check_exactly_once(
    url: str, people: list[Subscriber], emails: list[tuple[float, str]], texts: list[tuple[float, str]], started: float
) -> list[str]:
    """What is wrong with the counts per recipient (empty: each got exactly one message per channel)."""
    by_email, by_phone = Counter(to for _, to in emails), Counter(to for _, to in texts)
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT subject, count(*) FROM inbox_items GROUP BY subject")
        by_subject = dict(cursor.fetchall())
        cursor.execute(
            "SELECT recipient_key, channel, status, next_attempt_at FROM messages WHERE channel IN ('email', 'sms')"
            " AND status <> 'delivered'"
        )
        waiting = {(key.removeprefix("user:"), channel): (status, due) for key, channel, status, due in cursor}
        cursor.execute("SELECT status, count(*) FROM messages GROUP BY status")
        statuses = dict(cursor.fetchall())
    connection.close()
    print(f"messages by status: {statuses}", flush=True)
    problems: list[str] = []
    for person in people:
        for channel, address, counts in (
            ("email", person.email, by_email),
            ("sms", person.phone, by_phone),
        ):
            got = counts.pop(address, 0) if address else 0
            if address is None:
                continue
            if _deferred(person, channel):
                status, due = waiting.get((person.subject, channel), (None, None))
                if got or status != "queued" or due is None or due.timestamp() < started + 3600:
                    problems.append(f"{person.subject} {channel}: {got} sent, {status} due {due} (expected deferred)")
            elif got != 1:
                problems.append(f"{person.subject} {channel}: {got} sent")
        inbox = by_subject.pop(person.subject, 0)
        if inbox != (1 if person.account else 0):
            problems.append(f"{person.subject} inbox: {inbox} items")
    problems += [f"{to}: {count} unexpected e-mail(s)" for to, count in by_email.items()]
    problems += [f"{to}: {count} unexpected SMS" for to, count in by_phone.items()]
    problems += [f"{subject}: {count} unexpected inbox item(s)" for subject, count in by_subject.items()]
    return problems


def rendered_emails(url: str, people: list[Subscriber], settings: Any) -> list[tuple[str, bytes]]:
    """The e-mails the broadcast delivered, prepared again by the dispatcher's own code (address,
    context, links, templates, footers, headers) from the stored messages, to send with smtplib alone."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from beat_shared.db import make_engine
    from notifications.channels.email import build_email
    from notifications.dispatcher import Dispatcher
    from notifications.models import Message
    from notifications.rendering import Renderer

    engine = make_engine(url, pool_size=1)
    with Session(engine, expire_on_commit=False) as session:
        messages = list(
            session.scalars(select(Message).where(Message.channel == "email", Message.status == "delivered"))
        )
    engine.dispose()
    dispatcher = Dispatcher(None, None, settings, datetime.now(UTC), lambda *_: None, Renderer())  # type: ignore[arg-type]
    dispatcher._local_details = {  # what a round reads from the directory
        "recipients": {p.subject: {"email": p.email, "phone": p.phone, "timezone": p.timezone} for p in people},
        "digests": {},
    }
    emails = []
    for message in messages:
        item = dispatcher.prepare(message)
        if item.email is None:
            raise RuntimeError(f"message {message.id} prepared no e-mail: {item.outcome}")
        mime = build_email(item.email, settings.email_from)
        raw = io.BytesIO()  # flattened as smtplib's send_message does it: CRLF line ends
        BytesGenerator(raw, policy=mime.policy.clone(linesep="\r\n")).flatten(mime, linesep="\r\n")
        emails.append((item.email.to, raw.getvalue()))
    return emails


def bare_send(port: int, emails: list[tuple[str, bytes]], connections: int, sender: str) -> float:
    """smtplib alone: `connections` threads, each its share, a new connection every 50 messages.
    Returns e-mails per second."""
    shares = [emails[index::connections] for index in range(connections)]

    def send(share: list[tuple[str, bytes]]) -> None:
        for first in range(0, len(share), MESSAGES_PER_CONNECTION):
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
                for to, raw in share[first : first + MESSAGES_PER_CONNECTION]:
                    smtp.sendmail(sender, [to], raw)

    threads = [threading.Thread(target=send, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(emails) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=3600, help="seconds to wait for the last delivery")
    args = parser.parse_args()

    durations, beat_rates, bare_rates, all_rates = Runs(higher_is_better=False), Runs(), Runs(), Runs()
    memory_ratios, runs_detail, failures = Runs(higher_is_better=False), [], []
    gateway = SmsGatewayStub()
    try:
        with Sandbox("broadcast") as sandbox:
            sink_process, accepted = sandbox.start_smtp_sink()
            concerns_url = sandbox.service_database("concerns")
            seed_concerns(concerns_url)
            start_concerns(sandbox, concerns_url)
            for run in range(args.repeat):
                url = sandbox.service_database("notifications", f"notifications_{run}")
                now = datetime.now(UTC)
                seeding = time.perf_counter()
                people = seed_subscribers(url, args.subscribers, now)
                print(f"run {run + 1}: {len(people):,} subscribers written in {time.perf_counter() - seeding:.1f}s")
                extra = {
                    "NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
                    "NOTIFICATIONS_SMTP_PORT": str(sink_process.port),
                    "NOTIFICATIONS_SMS_GATEWAY_URL": gateway.url,
                    "NOTIFICATIONS_DISPATCH_CONCURRENCY": str(DISPATCH_CONCURRENCY),
                }
                notifications = sandbox.start_service("notifications", url, extra, label=f"notifications-{run}")
                time.sleep(5)  # settled: imports done, pools and the relay started
                idle = rss_mb(notifications.pid)
                gateway.received.clear()
                outcome = run_broadcast(notifications, url, people, SinkLog(accepted), gateway, args.deadline)
                sandbox.stop(notifications)
                took = outcome.last_delivery - outcome.started
                email_times = [when for when, _ in outcome.emails]
                beat_rate = len(email_times) / (max(email_times) - outcome.started) if email_times else 0.0
                deliveries = len(outcome.emails) + len(outcome.texts) + outcome.inbox
                from notifications.settings import Settings

                settings = Settings.from_config({"NOTIFICATIONS_SMTP_PORT": str(sink_process.port)})
                emails = rendered_emails(url, people, settings)
                bare = bare_send(sink_process.port or 0, emails, DISPATCH_CONCURRENCY * SEND_CONCURRENCY, "bench")
                print(
                    f"run {run + 1}: last delivery after {took:.1f}s; e-mail {beat_rate:,.0f}/s vs bare {bare:,.0f}/s;"
                    f" RSS idle {idle:.0f} MB, peak {outcome.peak_mb:.0f} MB; CPU {outcome.cpu}",
                    flush=True,
                )
                if outcome.problems:
                    failures.append(outcome.problems)
                    print(f"EXACTLY-ONCE FAILED: {len(outcome.problems)} problems, e.g.", outcome.problems[:10])
                durations.add(took)
                beat_rates.add(beat_rate)
                bare_rates.add(bare)
                all_rates.add(deliveries / took)
                memory_ratios.add(outcome.peak_mb / idle)
                runs_detail.append(
                    {
                        "seconds_to_last_delivery": round(took, 2),
                        "emails": len(outcome.emails),
                        "sms": len(outcome.texts),
                        "inbox": outcome.inbox,
                        "email_rate": round(beat_rate, 1),
                        "bare_rate": round(bare, 1),
                        "rss_idle_mb": round(idle, 1),
                        "rss_peak_mb": round(outcome.peak_mb, 1),
                        "cpu_seconds": {name: round(value, 2) for name, value in outcome.cpu.items()},
                        "ms_per_delivery": {
                            name: round(1000 * value / max(deliveries, 1), 3) for name, value in outcome.cpu.items()
                        },
                        "problems": len(outcome.problems),
                    }
                )
    finally:
        gateway.close()

    best = beat_rates.values.index(beat_rates.best)
    detail = runs_detail[best]
    count = f"{args.subscribers:,}"
    rows = [
        Row(
            f"broadcast to {count} subscribers: request to last delivery",
            durations.best,
            "s",
            "-",
            None,
            spread=f"{durations.spread('{:,.1f}')}; {detail['emails']:,} e-mails, {detail['sms']:,} SMS,"
            f" {detail['inbox']:,} inbox",
        ),
        Row(
            "broadcast: e-mails/s (ref.: bare smtplib, same messages, sink and connections)",
            beat_rates.best,
            "emails/s",
            f">= {RATE_TARGET} x bare",
            beat_rates.best / bare_rates.values[best] >= RATE_TARGET,
            reference=bare_rates.values[best],
            ratio=beat_rates.best / bare_rates.values[best],
            spread=f"Beat {beat_rates.spread()}; bare {bare_rates.spread()}",
        ),
        Row(
            "broadcast: deliveries/s, every channel",
            all_rates.best,
            "deliveries/s",
            "-",
            None,
            spread=all_rates.spread(),
        ),
        Row(
            "broadcast: notifications peak RSS (ref.: idle)",
            detail["rss_peak_mb"],
            "MB",
            f"<= {MEMORY_TARGET} x idle",
            memory_ratios.best <= MEMORY_TARGET,
            reference=detail["rss_idle_mb"],
            ratio=memory_ratios.best,
            spread=f"ratio {memory_ratios.spread('{:.2f}')}",
        ),
        Row(
            "broadcast: CPU per delivery, notifications + PostgreSQL + RabbitMQ",
            sum(detail["ms_per_delivery"].values()),
            "ms",
            "-",
            None,
            spread=", ".join(f"{name} {value}" for name, value in detail["ms_per_delivery"].items()),
        ),
        Row(
            "broadcast: subscribers with a wrong count (exactly once per channel)",
            float(sum(len(problems) for problems in failures)),
            "",
            "0",
            not failures,
            spread="quiet hours: held and due when they end counts as right",
        ),
    ]
    record(
        "broadcast",
        rows,
        {"subscribers": args.subscribers, "runs": runs_detail, "problems": [p[:20] for p in failures]},
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
