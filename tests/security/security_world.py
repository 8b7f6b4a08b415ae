"""The Riverton world the security tests run against: all four services in-process on one
throw-away vhost, each on its own fresh database on the test's backend (SQLite and PostgreSQL
in turn) with the demo data, real HTTP.

Imported by this folder's conftest.py (pytest runs with --import-mode=importlib, so the
helpers live in a module with a repository-wide unique name).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

import requests

from beat_shared.auth import mint_token
from beat_shared.config import env

SERVICES = ("concerns", "referrals", "notifications", "surveys")
SECRET = env("BEAT_JWT_SECRET")

# Demo identities (see each service's demo.py): the concern under test is in RV-02.
BEAT = "RV-02"
OTHER_BEAT = "RV-05"
AGENCY_A = "agency-riverton-food-bank"
AGENCY_B = "agency-riverbend-mental-health"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bearer(role: str, subject: str, agency_id: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(role, subject, SECRET, agency_id=agency_id)}"}


@dataclass
class World:
    """Where each service answers, its database, and a requests session per service."""

    urls: dict[str, str]
    databases: dict[str, str]
    containers: dict[str, Any]
    amqp_uri: str
    sessions: dict[str, requests.Session] = field(default_factory=dict)

    def http(self, service: str) -> requests.Session:
        if service not in self.sessions:
            self.sessions[service] = requests.Session()
        return self.sessions[service]

    def call(self, service: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.http(service).request(method, self.urls[service] + path, **kwargs)

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()


# --- known identifiers, so generated requests also reach real rows -------------------------------


def _ids(response: requests.Response, *keys: str, field_name: str = "id") -> list[str]:
    """Identifiers from a list answer: `contents` (our paging shape) or the named keys."""
    if response.status_code != 200:
        return []
    body = response.json()
    rows: Any = body.get("contents") if isinstance(body, dict) else body
    for key in keys:
        if isinstance(body, dict) and key in body:
            rows = body[key]
    return [str(row[field_name]) for row in rows or [] if isinstance(row, dict) and field_name in row][:4]


def known_values(world: World) -> dict[str, dict[str, list[Any]]]:
    """Per service and path-parameter name, some values that exist in the world's demo data."""
    staff = bearer("supervisor", "supervisor-1")
    admin = bearer("admin", "admin-1")
    call = world.call
    concerns = _ids(call("concerns", "GET", "/concerns?per_page=4", headers=staff))
    meetings = [m["id"] for m in call("concerns", "GET", f"/beats/{BEAT}/meetings?when=all").json()["meetings"]][:4]
    actions = [a["id"] for a in call("concerns", "GET", "/beats/RV-04/actions").json()["actions"]][:4]
    categories = [c["code"] for c in call("concerns", "GET", "/categories").json()["categories"]][:4]
    beats = [BEAT, OTHER_BEAT]
    known: dict[str, dict[str, list[Any]]] = {
        "concerns": {
            "concern_id": concerns,
            "request_id": concerns,
            "meeting_id": meetings,
            "action_id": actions,
            "code": beats + categories,
            "subject": ["officer-rv02", "officer-rv05"],
            "fmt": ["json", "xml"],
        },
        "referrals": {
            "service_id": _ids(call("referrals", "GET", "/services?per_page=4")),
            "organization_id": _ids(call("referrals", "GET", "/organizations?per_page=4")),
            "taxonomy_id": _ids(call("referrals", "GET", "/taxonomies")),
            "term_id": _ids(call("referrals", "GET", "/taxonomy_terms?per_page=4")),
            "link_id": _ids(call("referrals", "GET", "/service_at_locations?per_page=4")),
            "agency_id": [AGENCY_A, AGENCY_B],
        },
        "notifications": {"beat_code": beats, "name": ["concern_received", "concern_resolved"]},
        "surveys": {
            "code": _ids(call("surveys", "GET", "/surveys"), field_name="code"),
            "version": [1],
            "wave_id": _ids(call("surveys", "GET", "/waves", headers=admin)),
            "beat_code": beats,
        },
    }
    return known
