"""The people and records the authorisation matrix (and the other security tests) act on.

`Scenario.build(world)` creates, through the public APIs, one resident's concern in RV-02
(with contact details), a concluded meeting with an action there, referrals addressed to
agency A, a withdrawn consent and agency A's webhook endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from security_world import AGENCY_A, AGENCY_B, BEAT, OTHER_BEAT, World, bearer

from beat_shared.clock import utc_iso

# The fixtures' personal data: none of it may appear in logs or events.
RESIDENT_EMAIL = "ana.marquez.security@example.org"
RESIDENT_PHONE = "+1 555 0142 867"
CLIENT_EMAIL = "maria.lopez.security@example.org"
CLIENT_PHONE = "+1 555 0199 431"
RESIDENT_NAME = "Ana Marquez-Security"
CLIENT_NAME = "Maria Lopez-Security"

ROLES = (
    "none",
    "resident",
    "other_resident",
    "receipt",
    "officer_beat",
    "officer_other",
    "supervisor",
    "agency_a",
    "agency_b",
    "analyst",
    "admin",
)

PANTRY_NAME = "Emergency food pantry"


def role_headers(receipt_token: str) -> dict[str, dict[str, str]]:
    return {
        "none": {},
        "resident": bearer("resident", "resident-ana"),
        "other_resident": bearer("resident", "resident-bob"),
        "receipt": {"X-Receipt-Token": receipt_token},
        "officer_beat": bearer("officer", "officer-rv02"),
        "officer_other": bearer("officer", "officer-rv05"),
        "supervisor": bearer("supervisor", "supervisor-1"),
        "agency_a": bearer("agency", "worker-a", AGENCY_A),
        "agency_b": bearer("agency", "worker-b", AGENCY_B),
        "analyst": bearer("analyst", "analyst-1"),
        "admin": bearer("admin", "admin-1"),
    }


def concern_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "category": "noise",
        "description": "Loud music every night from the car park behind the library.",
        "location": {"lat": 43.045, "long": -108.380},
        "contact": {"name": RESIDENT_NAME, "email": RESIDENT_EMAIL, "phone": RESIDENT_PHONE, "preference": "email"},
    }
    return {**body, **overrides}


def consent_body(now: datetime) -> dict[str, Any]:
    return {
        "given_by": f"{CLIENT_NAME} (client)",
        "given_at": utc_iso(now - timedelta(minutes=10)),
        "method": "verbal",
        "scope": "share name and phone with the food bank to arrange a food parcel",
        "valid_until": utc_iso(now + timedelta(days=90)),
    }


def client_body() -> dict[str, Any]:
    return {"name": CLIENT_NAME, "phone": CLIENT_PHONE, "email": CLIENT_EMAIL, "language": "en", "age": 34}


def expect(response: Any, status: int) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.url}: {response.text[:500]}"
    return response.json() if response.content else None


@dataclass
class Scenario:
    world: World
    ids: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def build(cls, world: World) -> Scenario:
        scenario = cls(world)
        scenario._concern()
        scenario._meeting()
        scenario._problem_and_tip()
        scenario._referrals()
        scenario._webhooks()
        scenario.headers = role_headers(scenario.ids["receipt"])
        return scenario

    def call(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        return self.world.call(service, method, path, **kwargs)

    def _concern(self) -> None:
        submitted = expect(
            self.call("concerns", "POST", "/concerns", json=concern_body(), headers=bearer("resident", "resident-ana")),
            201,
        )
        self.ids["concern"] = submitted["concern"]["id"]
        self.ids["receipt"] = submitted["receipt_token"]

    def _meeting(self) -> None:
        officer = bearer("officer", "officer-rv02")
        start = datetime.now(UTC) - timedelta(hours=2)  # held already: only a held meeting can be concluded
        meeting = {
            "kind": "community_meeting",
            "title": "Library car park",
            "venue": "Riverton Public Library",
            "starts_at": utc_iso(start),
            "ends_at": utc_iso(start + timedelta(hours=1)),
        }
        made = expect(self.call("concerns", "POST", f"/beats/{BEAT}/meetings", json=meeting, headers=officer), 201)
        self.ids["meeting"] = made["id"]
        conclusion = {
            "attendees": 12,
            "summary": "Agreed to look at the car park at night.",
            "actions": [{"description": "Night patrol", "owner": "officer-rv02", "due_date": "2027-01-31"}],
        }
        path = f"/meetings/{made['id']}/conclusion"
        concluded = expect(self.call("concerns", "POST", path, json=conclusion, headers=officer), 200)
        self.ids["action"] = concluded["actions"][0]["id"]

    def _problem_and_tip(self) -> None:
        officer = bearer("officer", "officer-rv02")
        problem = {"beat_code": BEAT, "title": "Library car park", "categories": ["noise"]}
        self.ids["problem"] = expect(self.call("concerns", "POST", "/problems", json=problem, headers=officer), 201)[
            "id"
        ]
        tip = {"beat_code": BEAT, "text": "The blue van is back at night.", "contact": "+1 555 0100 321"}
        expect(self.call("concerns", "POST", "/tips", json=tip), 201)
        tips = expect(self.call("concerns", "GET", f"/beats/{BEAT}/tips", headers=officer), 200)["tips"]
        self.ids["tip"] = tips[0]["id"]

    def _pantry(self) -> str:
        found = expect(self.call("referrals", "GET", "/services?search=pantry&per_page=50"), 200)["contents"]
        return next(service["id"] for service in found if service["name"] == PANTRY_NAME)

    def _referral(self, now: datetime, officer: dict[str, str]) -> dict[str, Any]:
        body = {
            "service_id": self._pantry(),
            "need_category": "food",
            "urgency": "soon",
            "beat_code": BEAT,
            "client": client_body(),
            "consent": consent_body(now),
        }
        draft = expect(self.call("referrals", "POST", "/referrals", json=body, headers=officer), 201)
        return expect(self.call("referrals", "POST", f"/referrals/{draft['id']}/send", headers=officer), 200)

    def _referrals(self) -> None:
        officer, now = bearer("officer", "officer-rv02"), datetime.now(UTC)
        sent = self._referral(now, officer)
        self.ids["referral"] = sent["id"]
        declined = self._referral(now, officer)
        agency = bearer("agency", "worker-a", AGENCY_A)
        path = f"/referrals/{declined['id']}/decline"
        expect(self.call("referrals", "POST", path, json={"reason": "no_capacity"}, headers=agency), 200)
        self.ids["declined_referral"] = declined["id"]
        draft = expect(
            self.call(
                "referrals",
                "POST",
                "/referrals",
                json={"service_id": self._pantry(), "need_category": "food", "client": client_body()},
                headers=officer,
            ),
            201,
        )
        self.ids["draft_referral"] = draft["id"]
        consent = self._consent_of(sent["id"], officer)
        self.ids["consent"] = consent
        withdrawn = self._consent_of(declined["id"], officer)
        expect(
            self.call(
                "referrals", "POST", f"/consents/{withdrawn}/withdraw", json={"method": "verbal"}, headers=officer
            ),
            200,
        )
        self.ids["withdrawn_consent"] = withdrawn

    def _consent_of(self, referral_id: str, officer: dict[str, str]) -> str:
        referral = expect(self.call("referrals", "GET", f"/referrals/{referral_id}", headers=officer), 200)
        return str(referral.get("consent_id") or referral["consent"]["id"])

    def _webhooks(self) -> None:
        admin = bearer("admin", "admin-1")
        for key in ("webhook", "webhook_to_delete"):
            body = {"url": "https://93.184.216.34/beat-hook", "description": key}
            made = expect(
                self.call("referrals", "POST", f"/agencies/{AGENCY_A}/webhooks", json=body, headers=admin), 201
            )
            self.ids[key] = made["endpoint_id"]


__all__ = ["AGENCY_A", "AGENCY_B", "BEAT", "OTHER_BEAT", "ROLES", "Scenario"]
