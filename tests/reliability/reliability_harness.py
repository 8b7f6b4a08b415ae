"""The fault-tolerance proof: load through the public APIs while the platform is broken in turn.

Each scenario submits concerns at a steady rate through `POST /concerns` (half of them with
a contact e-mail), has the beat's officer acknowledge two in three and resolve one in three,
asks for a referral (through concerns, an event to referrals) and sends one (referrals, to
the agency's e-mail and signed webhook) now and then, and in the middle of it injects its
fault: RabbitMQ restarted, one service SIGKILLed and restarted, PostgreSQL restarted. Then
it waits until everything has drained and counts, from the databases, the broker and the
sinks, what should have happened against what did:

* every concern stored once (by the marker in its description, and by id);
* every expected event in its outbox once, published, and recorded once in
  `processed_events` by every handler that consumes its type;
* every expected notification (e-mail, webhook, inbox) delivered: one distinct Message-ID
  or webhook-id per (event, recipient, channel), nothing unexpected; raw re-deliveries of
  the same id (which receivers de-duplicate) are counted separately as "resent";
* dead-letter queues empty, consumer and retry queues empty, outboxes drained;
* at the end, the surveys report card counts per beat match the concerns.

Two more scenarios: a poison message (malformed, and a valid one whose handler fails until
an operator fixes the data) and a slow consumer (notifications stopped while a backlog
builds, then drained with its memory sampled from /proc).
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from kombu import Connection, Exchange, Producer
from reliability_infra import SERVICES, InfrastructureError, Stack, beat_cli

from beat_shared.amqp import CLOUDEVENTS_CONTENT_TYPE, ERROR_HEADER, dead_letter_queue_name
from beat_shared.auth import mint_token
from beat_shared.config import SETTINGS
from beat_shared.contracts.envelope import new_event
from beat_shared.inbox import IdempotentEventHandler

BEAT_CENTRES = {
    "RV-01": (43.045, -108.4065),
    "RV-02": (43.045, -108.380),
    "RV-03": (43.045, -108.3535),
    "RV-04": (43.014, -108.4065),
    "RV-05": (43.014, -108.380),
    "RV-06": (43.014, -108.3535),
}
CATEGORIES = ("noise", "vandalism_graffiti", "speeding_traffic", "drug_activity", "suspicious_activity")
MESSAGE_ID_DOMAIN = "beat.local"  # NOTIFICATIONS_MESSAGE_ID_DOMAIN's default
REQUEST_DEADLINE_SECONDS = 240.0
JWT_SECRET = SETTINGS["BEAT_JWT_SECRET"].default


class ScenarioFailed(Exception):
    """An action of the scenario could not be completed within its deadline."""


def message_key(source_key: str, recipient_key: str, channel: str) -> str:
    """The stable identity notifications derives for a message (docs/decisions/notifications-exactly-once.md)."""
    return hashlib.sha256(f"{source_key}|{recipient_key}|{channel}".encode()).hexdigest()[:32]


def consumers_by_type() -> dict[str, list[tuple[str, str]]]:
    """Event type → [(service, handler name as recorded in processed_events)], from the service classes."""
    import importlib

    found: dict[str, list[tuple[str, str]]] = {}
    for service in SERVICES:
        cls = getattr(importlib.import_module(f"{service}.service"), f"{service.capitalize()}Service")
        for method_name, method in inspect.getmembers(cls):
            for entrypoint in getattr(method, "nameko_entrypoints", ()):
                if isinstance(entrypoint, IdempotentEventHandler):
                    found.setdefault(entrypoint.event_type, []).append((service, f"{cls.name}.{method_name}"))
    return found


def handler_queue_names() -> list[str]:
    import importlib

    from beat_shared.deadletters import handler_queues

    names = []
    for service in SERVICES:
        cls = getattr(importlib.import_module(f"{service}.service"), f"{service.capitalize()}Service")
        names.extend(handler_queues(cls))
    return names


# --- what the load does -------------------------------------------------------------------------


@dataclass
class Submission:
    """One concern the load generator voices, and what the officers do with it."""

    index: int
    scenario: str
    marker: str
    beat: str
    category: str
    email: str | None
    language: str
    acknowledge: bool
    resolve: bool
    referral: str | None  # "request" (through concerns) or "send" (drafted and sent on referrals)
    concern_id: str | None = None
    version: int | None = None
    placed_beat: str | None = None
    reconciled: bool = False  # the client saw an error but the concern had been stored
    ambiguous: int = 0  # answers the client could not interpret (connection lost mid-request)
    retries: int = 0
    acknowledged: bool = False
    resolved: bool = False
    request_id: str | None = None
    referral_id: str | None = None
    referral_sent: bool = False
    error: str | None = None


def plan(scenario: str, run_id: str, start: int, count: int) -> list[Submission]:
    rng = random.Random(f"{run_id}-{scenario}")
    submissions = []
    for index in range(start, start + count):
        beat = f"RV-0{index % 6 + 1}"
        with_contact = index % 2 == 0
        submissions.append(
            Submission(
                index=index,
                scenario=scenario,
                marker=f"[rel-{run_id}-{index:05d}]",
                beat=beat,
                category=CATEGORIES[rng.randrange(len(CATEGORIES))],
                email=f"reporter-{run_id}-{index:05d}@example.org" if with_contact else None,
                language="es" if index % 5 == 0 else "en",
                acknowledge=index % 3 != 2,
                resolve=index % 3 == 0,
                referral="request" if index % 25 == 4 else "send" if index % 25 == 9 else None,
            )
        )
    return submissions


class Client:
    """Calls the services as residents and officers do, retrying what failed.

    A request that failed without reaching the service (connection refused) is simply
    retried. One whose outcome is unknown (connection lost, timeout, 5xx) is reconciled
    first: the harness looks in the database for what that request would have created
    and retries only if nothing is there. POST /concerns has no idempotency key, so a
    real client could not do this; the count of such answers is reported as "ambiguous".
    """

    def __init__(self, stack: Stack, agency: dict[str, Any]) -> None:
        self.stack = stack
        self.agency = agency
        self._local = threading.local()
        self.abort = threading.Event()  # set when a service died or the run is interrupted

    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def url(self, service: str, path: str) -> str:
        return f"{self.stack.services[service].base_url}{path}"

    @staticmethod
    def officer(beat: str) -> dict[str, str]:
        token = mint_token("officer", f"officer-rv{beat[-2:]}", JWT_SECRET, ttl_seconds=6 * 3600)
        return {"Authorization": f"Bearer {token}"}

    def request(self, method: str, service: str, path: str, **kwargs: Any) -> tuple[requests.Response | None, bool]:
        """(response, ambiguous): response None when the connection failed."""
        try:
            return self.session().request(method, self.url(service, path), timeout=60, **kwargs), False
        except requests.ConnectionError as error:
            refused = "refused" in str(error).lower() or "Failed to establish" in str(error)
            return None, not refused
        except requests.Timeout:
            return None, True

    def lookup(self, service: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
        """Ask a service's database (the harness's oracle), waiting while it is down."""
        deadline = time.monotonic() + REQUEST_DEADLINE_SECONDS
        while True:
            try:
                connection = self.stack.database(service)
                try:
                    with connection.cursor() as cursor:
                        cursor.execute(query, args)
                        return list(cursor.fetchall())
                finally:
                    connection.close()
            except Exception as error:
                if time.monotonic() > deadline or self.abort.is_set():
                    raise ScenarioFailed(f"database of {service} unreachable: {error}") from error
                time.sleep(0.3)

    # --- the life of one concern -------------------------------------------------------------

    def run(self, item: Submission) -> None:
        try:
            self.submit(item)
            if item.acknowledge:
                self.transition(item, "acknowledged")
                item.acknowledged = True
            if item.referral == "request":
                self.request_referral(item)
            elif item.referral == "send":
                self.send_referral(item)
            if item.resolve:
                self.transition(item, "resolved")
                item.resolved = True
        except Exception as error:  # noqa: BLE001 - recorded and reported as a failure
            item.error = f"{type(error).__name__}: {error}"

    def _until(self, attempt: Callable[[], bool], what: str, item: Submission) -> None:
        deadline = time.monotonic() + REQUEST_DEADLINE_SECONDS
        delay = 0.2
        while not attempt():
            if self.abort.is_set():
                raise ScenarioFailed(f"{what} of {item.marker} abandoned: the run was aborted")
            if time.monotonic() > deadline:
                raise ScenarioFailed(f"{what} of {item.marker} did not succeed in {REQUEST_DEADLINE_SECONDS:.0f}s")
            item.retries += 1
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def submit(self, item: Submission) -> None:
        lat, long = BEAT_CENTRES[item.beat]
        jitter = random.Random(item.marker)
        body = {
            "category": item.category,
            "description": f"{item.marker} Reliability run: something on the street worries me.",
            "location": {
                "lat": round(lat + jitter.uniform(-0.006, 0.006), 6),
                "long": round(long + jitter.uniform(-0.006, 0.006), 6),
                "address": None,
            },
            "language": item.language,
            "contact": (
                {"name": "Reliability Resident", "email": item.email, "preference": "email"} if item.email else None
            ),
        }

        def attempt() -> bool:
            response, ambiguous = self.request("POST", "concerns", "/concerns", json=body)
            if response is not None and response.status_code == 201:
                concern = response.json()["concern"]
                item.concern_id, item.placed_beat = concern["id"], concern["beat_code"]
                item.version = int(response.headers["ETag"].strip('"'))
                return True
            if response is not None and response.status_code < 500 and response.status_code != 429:
                raise ScenarioFailed(f"POST /concerns answered {response.status_code}: {response.text[:300]}")
            if ambiguous or response is not None:
                item.ambiguous += ambiguous
                stored = self.lookup(
                    "concerns",
                    "SELECT id, beat_code, version FROM concerns WHERE description LIKE %s",
                    item.marker + "%",
                )
                if stored:
                    (item.concern_id, item.placed_beat, item.version), item.reconciled = stored[0], True
                    return True
            return False

        self._until(attempt, "submission", item)

    def transition(self, item: Submission, status: str) -> None:
        headers = self.officer(item.beat)

        def reached() -> bool:
            response, _ = self.request("GET", "concerns", f"/concerns/{item.concern_id}", headers=headers)
            if response is None or response.status_code != 200:
                return False
            item.version = int(response.headers["ETag"].strip('"'))
            return response.json()["status"] == status

        def attempt() -> bool:
            body = {"status": status, "version": item.version, "public_note": "Thank you; we are on it."}
            path = f"/concerns/{item.concern_id}/transitions"
            response, _ = self.request("POST", "concerns", path, json=body, headers=headers)
            if response is not None and response.status_code == 200:
                item.version = int(response.headers["ETag"].strip('"'))
                return True
            if response is not None and response.status_code in (400, 403, 404):
                raise ScenarioFailed(f"transition to {status} answered {response.status_code}: {response.text[:300]}")
            return reached()  # 409 (version moved: maybe our own lost answer), 5xx or no answer

        self._until(attempt, f"transition to {status}", item)

    def _consent(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "given_by": "Reliability Resident",
            "given_at": (now - timedelta(minutes=5)).isoformat(),
            "method": "verbal",
            "scope": f"share my details with {self.agency['agency_id']} for help with food",
            "valid_until": (now + timedelta(days=30)).isoformat(),
        }

    def request_referral(self, item: Submission) -> None:
        body = {
            "concern_id": item.concern_id,
            "need_category": "food",
            "urgency": "routine",
            "client": {"name": "Reliability Client", "email": "client@example.org", "language": "en"},
            "consent": self._consent(),
        }

        def attempt() -> bool:
            response, _ = self.request(
                "POST", "concerns", "/referral-requests", json=body, headers=self.officer(item.beat)
            )
            if response is not None and response.status_code == 201:
                item.request_id = response.json()["request_id"]
                return True
            if response is not None and response.status_code < 500:
                raise ScenarioFailed(f"POST /referral-requests answered {response.status_code}: {response.text[:300]}")
            found = self.lookup("concerns", "SELECT id FROM referral_requests WHERE concern_id = %s", item.concern_id)
            if found:
                item.request_id = found[0][0]
                return True
            return False

        self._until(attempt, "referral request", item)

    def send_referral(self, item: Submission) -> None:
        headers = self.officer(item.beat)
        body = {
            "service_id": self.agency["service_id"],
            "need_category": "food",
            "urgency": "routine",
            "beat_code": item.beat,
            "concern_id": item.concern_id,
            "client": {"name": "Reliability Client", "email": "client@example.org", "language": "en"},
            "consent": self._consent(),
        }

        def draft() -> bool:
            response, _ = self.request("POST", "referrals", "/referrals", json=body, headers=headers)
            if response is not None and response.status_code == 201:
                item.referral_id = response.json()["id"]
                return True
            if response is not None and response.status_code < 500:
                raise ScenarioFailed(f"POST /referrals answered {response.status_code}: {response.text[:300]}")
            found = self.lookup("referrals", "SELECT id FROM referrals WHERE concern_id = %s", item.concern_id)
            if found:
                item.referral_id = found[0][0]
                return True
            return False

        def send() -> bool:
            response, _ = self.request("POST", "referrals", f"/referrals/{item.referral_id}/send", headers=headers)
            if response is not None and response.status_code == 200:
                return True
            if response is not None and response.status_code < 500 and response.status_code != 409:
                raise ScenarioFailed(f"send answered {response.status_code}: {response.text[:300]}")
            found = self.lookup("referrals", "SELECT status FROM referrals WHERE id = %s", item.referral_id)
            return bool(found) and found[0][0] == "sent"

        self._until(draft, "referral draft", item)
        self._until(send, "referral send", item)
        item.referral_sent = True


def drive(client: Client, items: list[Submission], rate: float, workers: int = 16) -> None:
    """Start one concern every 1/rate seconds (a steady arrival rate, not a closed loop)."""
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="load") as pool:
        for number, item in enumerate(items):
            delay = began + number / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(client.run, item)


# --- what should have happened, and what did ------------------------------------------------------


@dataclass
class Expected:
    """Events and notifications a set of submissions should have caused."""

    events: dict[tuple[str, str, str], str | None] = field(default_factory=dict)  # (service, subject, type) → id
    notifications: dict[str, tuple[str, str]] = field(default_factory=dict)  # key → (channel, what)
    invited: dict[str, str] = field(default_factory=dict)  # invitation id → concern id


@dataclass
class Tally:
    scenario: str
    submitted: int = 0
    stored: int = 0
    ambiguous: int = 0
    events_expected: int = 0
    published: int = 0
    consumed_expected: int = 0
    consumed: int = 0
    notifications_expected: int = 0
    delivered: int = 0
    duplicates: int = 0
    resent: int = 0
    dead_lettered: int = 0
    drain_seconds: float | None = None
    fault_seconds: float | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in self.__dict__.items()}, "ok": self.ok}


class Checker:
    """Reads the databases, the broker and the sinks to count outcomes."""

    def __init__(self, stack: Stack, officers: dict[str, list[str]], agency: dict[str, Any]) -> None:
        self.stack = stack
        self.officers = officers
        self.agency = agency
        self.consumers = consumers_by_type()
        self.queues = handler_queue_names()

    def query(self, service: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        connection = self.stack.database(service)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, args)
                return list(cursor.fetchall())
        finally:
            connection.close()

    def outbox(self, service: str, subjects: list[str]) -> list[tuple[str, str, str, Any, str]]:
        return self.query(  # type: ignore[return-value]
            service,
            "SELECT subject, event_type, event_id, published_at, body FROM outbox WHERE subject = ANY(%s)",
            subjects,
        )

    def expected_events(self, items: list[Submission]) -> tuple[Expected, list[str]]:
        """The events the submissions should have caused, with the ids found in the outboxes."""
        expected, problems = Expected(), []
        concerns = [i for i in items if i.concern_id]
        wanted: dict[tuple[str, str, str], None] = {}
        for item in concerns:
            wanted[("concerns", item.concern_id, "beat.concern.submitted")] = None
            if item.acknowledged:
                wanted[("concerns", item.concern_id, "beat.concern.acknowledged")] = None
            if item.resolved:
                wanted[("concerns", item.concern_id, "beat.concern.resolved")] = None
            if item.request_id:
                wanted[("concerns", item.request_id, "beat.referral.requested")] = None
            if item.referral_sent:
                wanted[("referrals", item.referral_id, "beat.referral.created")] = None
                wanted[("referrals", item.referral_id, "beat.referral.sent")] = None
        found: dict[tuple[str, str, str], list[tuple[str, Any, str]]] = {}
        subjects = {
            "concerns": [i.concern_id for i in concerns] + [i.request_id for i in concerns if i.request_id],
            "referrals": [i.referral_id for i in concerns if i.referral_id],
        }
        for service, keys in subjects.items():
            for subject, event_type, event_id, published_at, body in self.outbox(service, keys):
                found.setdefault((service, subject, event_type), []).append((event_id, published_at, body))
        # The surveys invitation of each resolved concern with contact: found through its data.
        invited = {i.concern_id for i in concerns if i.resolved and i.email}
        rows = self.query(
            "surveys",
            "SELECT subject, event_type, event_id, published_at, body FROM outbox "
            "WHERE event_type = 'beat.survey.invitation_created'",
        )
        invitations: dict[str, list[tuple[str, str, Any]]] = {}
        for subject, _, event_id, published_at, body in rows:
            concern_id = json.loads(body)["data"].get("concern_id")
            if concern_id in invited:
                invitations.setdefault(concern_id, []).append((subject, event_id, published_at))
        for key in wanted:
            copies = found.get(key, [])
            if len(copies) > 1:
                problems.append(f"{key[2]} of {key[1]} is in the outbox {len(copies)} times")
            expected.events[key] = copies[0][0] if copies and copies[0][1] is not None else None
        for concern_id in sorted(invited):
            copies = invitations.get(concern_id, [])
            if len(copies) > 1:
                problems.append(f"concern {concern_id} has {len(copies)} post-contact invitations")
            if copies:
                subject, event_id, published_at = copies[0]
                key = ("surveys", subject, "beat.survey.invitation_created")
                expected.events[key] = event_id if published_at is not None else None
                expected.invited[subject] = concern_id
            else:
                expected.events[("surveys", f"invitation-of-{concern_id}", "beat.survey.invitation_created")] = None
        # Events of our subjects that nobody asked for (e.g. a transition applied twice).
        for key, copies in found.items():
            if key not in wanted and key[2] in ("beat.concern.acknowledged", "beat.concern.resolved"):
                problems.append(f"unexpected {key[2]} of {key[1]} ({len(copies)}x)")
        self._notifications(items, expected)
        return expected, problems

    def _notifications(self, items: list[Submission], expected: Expected) -> None:
        by_concern = {i.concern_id: i for i in items if i.concern_id}
        for (_, subject, event_type), event_id in expected.events.items():
            if event_id is None:
                continue
            if event_type == "beat.concern.submitted":
                item = by_concern[subject]
                for officer in self.officers.get(item.placed_beat or "", []):
                    for channel in ("email", "inbox"):
                        key = message_key(event_id, f"user:{officer}", channel)
                        expected.notifications[key] = (channel, f"new concern {subject} to {officer}")
            elif event_type in ("beat.concern.acknowledged", "beat.concern.resolved"):
                if by_concern[subject].email:
                    key = message_key(event_id, f"reporter:{subject}", "email")
                    expected.notifications[key] = ("email", f"{event_type} of {subject} to its reporter")
            elif event_type == "beat.survey.invitation_created":
                concern_id = expected.invited.get(subject)
                if concern_id:
                    key = message_key(event_id, f"reporter:{concern_id}", "email")
                    expected.notifications[key] = ("email", f"survey invitation for {concern_id}")
            elif event_type == "beat.referral.sent":
                agency = self.agency
                expected.notifications[message_key(event_id, f"agency:{agency['agency_id']}", "email")] = (
                    "email",
                    f"referral {subject} to the agency",
                )
                expected.notifications[message_key(event_id, f"endpoint:{agency['endpoint_id']}", "webhook")] = (
                    "webhook",
                    f"referral {subject} to the agency's webhook",
                )
                item = next(i for i in items if i.referral_id == subject)  # a handful per scenario
                for officer in self.officers.get(item.placed_beat or "", []):
                    key = message_key(event_id, f"user:{officer}", "inbox")
                    expected.notifications[key] = ("inbox", f"referral {subject} update to {officer}")

    def evaluate(self, scenario: str, items: list[Submission], final: bool) -> Tally:
        """Count one scenario's outcomes; `final` adds the problems of an unfinished drain."""
        tally = Tally(scenario, submitted=len(items))
        tally.ambiguous = sum(i.ambiguous for i in items)
        for item in items:
            if item.error:
                tally.problems.append(f"{item.marker}: {item.error}")
            elif item.placed_beat != item.beat:
                tally.problems.append(f"{item.marker} was placed in {item.placed_beat}, not {item.beat}")
        markers = Counter()
        for (description,) in self.query(
            "concerns",
            "SELECT description FROM concerns WHERE description LIKE ANY(%s)",
            [i.marker + "%" for i in items],
        ):
            markers[description.split("]", 1)[0] + "]"] += 1
        tally.stored = sum(markers.values())
        for item in items:
            if markers[item.marker] != 1:
                tally.problems.append(f"{item.marker} is stored {markers[item.marker]} times")
        expected, problems = self.expected_events(items)
        tally.problems.extend(problems)
        tally.events_expected = len(expected.events)
        tally.published = sum(1 for event_id in expected.events.values() if event_id)
        self._consumed(expected, tally)
        self._delivered(expected, items, tally)
        if not final:
            return tally
        for key, event_id in expected.events.items():
            if event_id is None:
                tally.problems.append(f"{key[2]} of {key[1]} was not published")
        return tally

    def _consumed(self, expected: Expected, tally: Tally) -> None:
        wanted: dict[str, set[tuple[str, str]]] = {}
        for (_, _, event_type), event_id in expected.events.items():
            for service, handler in self.consumers.get(event_type, []):
                tally.consumed_expected += 1
                if event_id:
                    wanted.setdefault(service, set()).add((event_id, handler))
        for service, pairs in wanted.items():
            rows = self.query(
                service,
                "SELECT event_id, handler, count(*) FROM processed_events WHERE event_id = ANY(%s) "
                "GROUP BY event_id, handler",
                sorted({event_id for event_id, _ in pairs}),
            )
            recorded = {(event_id, handler): count for event_id, handler, count in rows}
            for pair in pairs:
                count = recorded.get(pair, 0)
                if count == 1:
                    tally.consumed += 1
                elif count > 1:
                    tally.problems.append(f"{pair[1]} recorded {pair[0]} {count} times")
        tally.notes.append(f"processed_events rows checked: {tally.consumed}/{tally.consumed_expected}")

    def _delivered(self, expected: Expected, items: list[Submission], tally: Tally) -> None:
        tally.notifications_expected = len(expected.notifications)
        emails = Counter(
            (record.get("message_id") or "").strip("<>").split("@", 1)[0] for record in self.stack.sinks.emails()
        )
        hooks = Counter(
            (record.get("webhook_id") or "").removeprefix("msg_")
            for record in self.stack.sinks.webhooks()
            if record.get("valid")
        )
        invalid = [r for r in self.stack.sinks.webhooks() if not r.get("valid")]
        if invalid:
            tally.problems.append(f"{len(invalid)} webhook deliveries failed signature verification")
        event_ids = [event_id for event_id in expected.events.values() if event_id]
        rows = self.query(
            "notifications",
            "SELECT source_key, recipient_key, channel, status FROM messages WHERE event_id = ANY(%s)",
            event_ids,
        )
        messages = {message_key(s, r, c): status for s, r, c, status in rows}
        self._failed = [
            f"{expected.notifications[key][1]} ({status})"
            for key, status in messages.items()
            if status in ("permanent_failure", "failed") and key in expected.notifications
        ]
        for key, (channel, _) in expected.notifications.items():
            if channel == "email":
                received = emails.get(key, 0)
            elif channel == "webhook":
                received = hooks.get(key, 0)
            else:
                received = 1 if messages.get(key) == "delivered" else 0
            if received:
                tally.delivered += 1
                tally.resent += received - 1
        for key, status in messages.items():
            if key not in expected.notifications:
                tally.duplicates += 1
                tally.problems.append(f"unexpected message {key} ({status})")
        self._missing = [
            what
            for key, (channel, what) in expected.notifications.items()
            if not self._got(key, channel, emails, hooks, messages)
        ]

    @staticmethod
    def _got(key: str, channel: str, emails: Counter, hooks: Counter, messages: dict[str, str]) -> bool:
        if channel == "email":
            return emails.get(key, 0) > 0
        if channel == "webhook":
            return hooks.get(key, 0) > 0
        return messages.get(key) == "delivered"

    _missing: list[str] = []
    _failed: list[str] = []

    def queue_state(self) -> dict[str, int]:
        """Messages waiting in the handlers' queues (consumer, retry, dead-letter)."""
        depths = self.stack.rabbit.queue_depths()
        return {name: count for name, count in depths.items() if name.startswith("evt-")}

    def dead_letters(self) -> dict[str, int]:
        depths = self.queue_state()
        return {
            q: depths.get(dead_letter_queue_name(q), 0) for q in self.queues if depths.get(dead_letter_queue_name(q))
        }

    def unpublished(self) -> dict[str, int]:
        return {s: int(self.query(s, "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0]) for s in SERVICES}

    def drained(self, scenario: str, items: list[Submission]) -> Tally | None:
        """The tally once everything expected happened and every queue is empty, else None."""
        try:
            tally = self.evaluate(scenario, items, final=False)
        except Exception:  # noqa: BLE001 - a database restarting: not yet
            return None
        complete = (
            tally.published == tally.events_expected
            and tally.consumed == tally.consumed_expected
            and tally.delivered == tally.notifications_expected
        )
        if not complete:
            return None
        try:
            if any(self.unpublished().values()):
                return None
            busy = {q: n for q, n in self.queue_state().items() if n and not q.endswith(".dead-letter")}
        except Exception:  # noqa: BLE001
            return None
        return None if busy else tally


# --- scenarios ------------------------------------------------------------------------------------


@dataclass
class Fault:
    name: str
    description: str
    inject: Callable[[Stack], None]


def _kill_and_restart(service: str) -> Callable[[Stack], None]:
    def inject(stack: Stack) -> None:
        stack.services[service].kill()
        stack.services[service].start()

    return inject


def faults(whole_node_restart: bool = True) -> list[Fault]:
    return [
        Fault("baseline", "no fault", lambda stack: None),
        Fault(
            "rabbitmq-restart",
            "RabbitMQ node stopped and started" if whole_node_restart else "RabbitMQ app stopped and started",
            lambda stack: stack.rabbit.restart(whole_node=whole_node_restart),
        ),
        *(Fault(f"kill-{s}", f"{s} SIGKILLed and restarted", _kill_and_restart(s)) for s in SERVICES),
        Fault(
            "postgres-restart",
            "PostgreSQL cluster stopped for longer than the handlers' retry schedule, then started",
            lambda stack: stack.cluster.restart(down_seconds=stack.longer_than_retries()),
        ),
    ]


@dataclass
class RunConfig:
    concerns_per_scenario: int
    rate: float
    fault_names: list[str]
    slow_consumer_concerns: int
    poison_followers: int
    drain_timeout: float = 300.0
    whole_node_restart: bool = True


class Run:
    def __init__(self, stack: Stack, config: RunConfig, log: Callable[[str], None] = print) -> None:
        self.stack = stack
        self.config = config
        self.log = log
        self.run_id = uuid.uuid4().hex[:6]
        self.next_index = 0
        self.items: list[Submission] = []
        self.tallies: list[Tally] = []
        self.figures: dict[str, Any] = {}

    # --- setup -----------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Find the demo agency's food service, give the agency a webhook endpoint, read the officers."""
        officer = Client.officer("RV-02")
        referrals = self.stack.services["referrals"].base_url
        matches = requests.get(
            f"{referrals}/match", params={"need_category": "food", "beat_code": "RV-02"}, headers=officer, timeout=30
        ).json()["contents"]
        service = next(m["service"] for m in matches if m["accepting_referrals"])
        organization = requests.get(f"{referrals}/organizations/{service['organization_id']}", timeout=30).json()
        agency_id = next(
            i["identifier"]
            for i in organization.get("organization_identifiers", [])
            if i["identifier_type"] == "beat_agency_id"
        )
        token = mint_token("agency", "agency-staff", JWT_SECRET, agency_id=agency_id)
        registered = requests.post(
            f"{referrals}/agencies/{agency_id}/webhooks",
            json={"url": self.stack.sinks.hook_url("agency"), "description": "reliability run"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        if registered.status_code != 201:
            raise InfrastructureError(f"webhook registration answered {registered.status_code}: {registered.text}")
        endpoint = registered.json()
        self.stack.sinks.set_webhook_secrets({"agency": [endpoint["secret"]]})
        self.agency = {"agency_id": agency_id, "service_id": service["id"], "endpoint_id": endpoint["endpoint_id"]}
        rows = self.stack.database("concerns").cursor()
        rows.execute(
            "SELECT a.beat_code, o.subject FROM beat_assignments a JOIN officers o ON o.subject = a.subject "
            "WHERE o.role = 'officer' AND o.email IS NOT NULL"
        )
        self.officers: dict[str, list[str]] = {}
        for beat, subject in rows.fetchall():
            self.officers.setdefault(beat, []).append(subject)
        rows.connection.close()
        self.client = Client(self.stack, self.agency)
        self.checker = Checker(self.stack, self.officers, self.agency)
        self.period = f"{datetime.now(UTC).year}-Q{(datetime.now(UTC).month - 1) // 3 + 1}"
        self.card_baseline = self.report_cards()

    def report_cards(self) -> dict[str, dict[str, int]]:
        answer = requests.get(
            f"{self.stack.services['surveys'].base_url}/report-cards",
            params={"period": self.period, "per_page": 100},
            timeout=30,
        )
        answer.raise_for_status()
        return {card["beat_code"]: card["actions"] for card in answer.json()["contents"]}

    def new_items(self, scenario: str, count: int) -> list[Submission]:
        items = plan(scenario, self.run_id, self.next_index, count)
        self.next_index += count
        self.items.extend(items)
        return items

    # --- running ---------------------------------------------------------------------------------

    def wait_drained(self, scenario: str, items: list[Submission], began: float) -> Tally:
        deadline = time.monotonic() + self.config.drain_timeout
        next_report = time.monotonic() + 15
        while time.monotonic() < deadline:
            dead = self.dead_services()
            if dead:
                tally = self.checker.evaluate(scenario, items, final=True)
                tally.problems.append(f"service process(es) died: {dead}")
                return tally
            tally = self.checker.drained(scenario, items)
            if tally is not None:
                tally.drain_seconds = time.monotonic() - began
                return tally
            if self.checker._failed:  # given up by notifications: waiting longer changes nothing
                tally = self.checker.evaluate(scenario, items, final=True)
                tally.problems.append(f"notifications failed for good: {self.checker._failed[:5]}")
                return tally
            if time.monotonic() > next_report:
                self.log(f"    still draining after {time.monotonic() - began:.0f}s: {self.progress(scenario, items)}")
                next_report = time.monotonic() + 15
            time.sleep(0.5)
        tally = self.checker.evaluate(scenario, items, final=True)
        tally.drain_seconds = None
        tally.problems.append(f"not drained within {self.config.drain_timeout:.0f}s")
        missing = self.checker._missing
        if missing:
            tally.problems.append(f"{len(missing)} notification(s) missing, e.g. {missing[:3]}")
        with contextlib.suppress(Exception):
            tally.notes.append(f"unpublished: {self.checker.unpublished()}")
            busy = {q: n for q, n in self.checker.queue_state().items() if n}
            tally.notes.append(f"queues not empty: {busy}")
        return tally

    def progress(self, scenario: str, items: list[Submission]) -> str:
        """Where a slow drain stands (for the log)."""
        try:
            t = self.checker.evaluate(scenario, items, final=False)
            busy = {q: n for q, n in self.checker.queue_state().items() if n}
            return (
                f"published {t.published}/{t.events_expected}, consumed {t.consumed}/{t.consumed_expected}, "
                f"delivered {t.delivered}/{t.notifications_expected}, unpublished {self.checker.unpublished()}, "
                f"queues {busy}, missing e.g. {self.checker._missing[:2]}"
            )
        except Exception as error:  # noqa: BLE001
            return f"(cannot tell: {error})"

    def dead_services(self) -> dict[str, int]:
        """Services whose process exited although nobody stopped it (a killed container exits)."""
        return {
            name: service.process.returncode
            for name, service in self.stack.services.items()
            if service.process is not None and service.process.poll() is not None and not service.stopped
        }

    def finish(self, tally: Tally) -> Tally:
        """Problems of a drained scenario that only the final look can see."""
        dead = self.checker.dead_letters()
        # A scenario that dead-letters on purpose (poison) counts its own; any left over is a failure.
        tally.dead_lettered = max(tally.dead_lettered, sum(dead.values()))
        if dead:
            tally.problems.append(f"dead letters: {dead}")
        unpublished = self.checker.unpublished()
        if any(unpublished.values()):
            tally.problems.append(f"outboxes not drained: {unpublished}")
        self.tallies.append(tally)
        dead = self.dead_services()
        if dead:  # report it, then give the next scenarios a running platform again
            for name in dead:
                self.stack.services[name].start()
            self.client.abort.clear()
        status = "ok" if tally.ok else "FAILED: " + "; ".join(tally.problems[:5])
        self.log(
            f"  {tally.scenario}: {tally.stored}/{tally.submitted} stored, {tally.published}/{tally.events_expected} "
            f"published, {tally.delivered}/{tally.notifications_expected} delivered, drained in "
            f"{tally.drain_seconds if tally.drain_seconds is None else round(tally.drain_seconds, 1)}s: {status}"
        )
        return tally

    def fault_scenario(self, fault: Fault) -> Tally:
        items = self.new_items(fault.name, self.config.concerns_per_scenario)
        self.log(f"scenario {fault.name}: {len(items)} concerns at {self.config.rate}/s; {fault.description}")
        load = threading.Thread(target=drive, args=(self.client, items, self.config.rate), name=f"load-{fault.name}")
        load.start()
        # The fault lands a third of the way into the load.
        fault_at = time.monotonic() + len(items) / self.config.rate / 3
        while time.monotonic() < fault_at:
            time.sleep(0.05)
        began = time.monotonic()
        fault.inject(self.stack)
        fault_seconds = time.monotonic() - began
        while load.is_alive():
            load.join(timeout=0.5)
            if self.dead_services():
                self.client.abort.set()  # a dead service: stop retrying, report it
        load.join()
        tally = self.wait_drained(fault.name, items, time.monotonic())
        tally.fault_seconds = fault_seconds
        return self.finish(tally)

    def poison_scenario(self) -> Tally:
        """A malformed event and a failing one, published by hand; then a fix and `beat dlq replay`."""
        from reliability_poison import poison_scenario

        return self.finish(poison_scenario(self))

    def slow_consumer_scenario(self) -> Tally:
        from reliability_slow import slow_consumer_scenario

        return self.finish(slow_consumer_scenario(self))

    def report_card_check(self) -> Tally:
        tally = Tally("report-card", submitted=sum(1 for i in self.items if i.concern_id))
        after = self.report_cards()
        stored = Counter(i.placed_beat for i in self.items if i.concern_id and i.placed_beat)
        resolved = Counter(i.placed_beat for i in self.items if i.resolved)
        for beat in BEAT_CENTRES:
            before = self.card_baseline.get(beat, {})
            now = after.get(beat, {})
            received = (now.get("concerns_received") or 0) - (before.get("concerns_received") or 0)
            ended = (now.get("concerns_resolved") or 0) - (before.get("concerns_resolved") or 0)
            tally.stored += received
            if received != stored[beat]:
                tally.problems.append(f"{beat}: report card counts {received} received, concerns has {stored[beat]}")
            if ended != resolved[beat]:
                tally.problems.append(f"{beat}: report card counts {ended} resolved, concerns has {resolved[beat]}")
        tally.notes.append(
            "per beat (received/resolved): " + ", ".join(f"{b} {stored[b]}/{resolved[b]}" for b in BEAT_CENTRES)
        )
        self.tallies.append(tally)
        return tally


def publish_by_hand(amqp_uri: str, exchange: str, routing_key: str, body: bytes, message_id: str) -> None:
    """What a buggy publisher or an operator's mistake does: straight onto the topic exchange."""
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        Producer(connection).publish(
            body,
            exchange=Exchange(exchange, type="topic", durable=True),
            routing_key=routing_key,
            content_type=CLOUDEVENTS_CONTENT_TYPE,
            content_encoding="utf-8",
            message_id=message_id,
            delivery_mode=2,
            declare=[],
        )


def valid_event(event_type: str, subject: str, data: dict[str, Any]) -> tuple[str, bytes]:
    event = new_event(event_type, subject, data)
    return event.id, event.to_json().encode()


def peek_dead_letters(amqp_uri: str, queue: str) -> list[dict[str, Any]]:
    """The dead letters of a queue, left in place."""
    letters = []
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        while True:
            message = channel.basic_get(queue=queue, no_ack=False)
            if message is None:
                break
            letters.append(
                {"message_id": message.properties.get("message_id"), "error": (message.headers or {}).get(ERROR_HEADER)}
            )
        channel.close()
    return letters


def discard_dead_letter(amqp_uri: str, queue: str, message_id: str) -> int:
    """Remove one inspected dead letter (what an operator does with a message that cannot be fixed)."""
    removed = 0
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        while True:
            message = channel.basic_get(queue=queue, no_ack=False)
            if message is None:
                break
            if message.properties.get("message_id") == message_id:
                channel.basic_ack(message.delivery_tag)
                removed += 1
        channel.close()
    return removed


def run_cli_replay(stack: Stack) -> str:
    return beat_cli(stack.env, "dlq", "replay")


def table(tallies: Iterable[Tally]) -> str:
    header = (
        f"{'scenario':<22}{'submitted':>10}{'stored':>8}{'ambig.':>7}{'events':>8}{'published':>10}"
        f"{'consumed':>10}{'notif.':>8}{'delivered':>10}{'dupl.':>7}{'resent':>7}{'dead-l.':>8}"
        f"{'fault s':>9}{'drain s':>9}  result"
    )
    lines = [header, "-" * len(header)]
    for t in tallies:
        drain = "-" if t.drain_seconds is None else f"{t.drain_seconds:.1f}"
        fault = "-" if t.fault_seconds is None else f"{t.fault_seconds:.1f}"
        lines.append(
            f"{t.scenario:<22}{t.submitted:>10}{t.stored:>8}{t.ambiguous:>7}{t.events_expected:>8}{t.published:>10}"
            f"{t.consumed:>10}{t.notifications_expected:>8}{t.delivered:>10}{t.duplicates:>7}{t.resent:>7}"
            f"{t.dead_lettered:>8}{fault:>9}{drain:>9}  {'ok' if t.ok else 'MISMATCH'}"
        )
    return "\n".join(lines)
