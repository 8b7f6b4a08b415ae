"""Who acts on a referral: an officer, a supervisor, an agency's user or the service itself."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    subject: str
    role: str
    agency_id: str | None = None

    @property
    def is_agency(self) -> bool:
        return self.role == "agency"


SYSTEM = Actor("beat-referrals", "system")
