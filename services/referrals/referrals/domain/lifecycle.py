"""The referral lifecycle: statuses, who may move a referral where, and consent validity.

Plain Python, no database: the rules the rest of the service relies on.

    draft → sent → accepted | declined
    accepted → in_progress → completed (with an outcome)
    accepted → completed (e.g. could not contact)
    draft | sent | accepted | in_progress → cancelled
    sent → expired (the agency did not answer in time)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beat_shared.contracts.catalogue import REFERRAL_DECLINE_REASONS, REFERRAL_OUTCOMES, URGENCIES
from beat_shared.errors import Conflict

DRAFT, SENT, ACCEPTED, DECLINED = "draft", "sent", "accepted", "declined"
IN_PROGRESS, COMPLETED, CANCELLED, EXPIRED = "in_progress", "completed", "cancelled", "expired"
STATUSES = (DRAFT, SENT, ACCEPTED, DECLINED, IN_PROGRESS, COMPLETED, CANCELLED, EXPIRED)
CLOSED = frozenset({DECLINED, COMPLETED, CANCELLED, EXPIRED})
OUTCOMES = REFERRAL_OUTCOMES
URGENCY_LEVELS = URGENCIES
# Coded, so that events and reports never carry free text that may name a person.
DECLINE_REASONS = REFERRAL_DECLINE_REASONS
CANCEL_REASONS = ("client_request", "no_longer_needed", "wrong_agency", "duplicate", "consent_withdrawn", "other")
CONSENT_METHODS = ("verbal", "written", "electronic", "guardian")


@dataclass(frozen=True)
class AgencyAnswer:
    """What an agency says of a referral: the status it moves it to, the reason of a decline, the
    outcome of a completion and a note for the officer."""

    status: str
    reason: str | None = None
    outcome: str | None = None
    note: str | None = None


TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({SENT, CANCELLED}),
    SENT: frozenset({ACCEPTED, DECLINED, CANCELLED, EXPIRED}),
    ACCEPTED: frozenset({IN_PROGRESS, COMPLETED, CANCELLED}),
    IN_PROGRESS: frozenset({COMPLETED, CANCELLED}),
}
# Statuses in which the agency works the case and so may see the client's details.
AGENCY_MAY_SEE_CLIENT = frozenset({SENT, ACCEPTED, IN_PROGRESS, COMPLETED})


class IllegalTransition(Conflict):
    code = "illegal_transition"


def check_transition(current: str, target: str) -> None:
    """Raise IllegalTransition (409) unless a referral in `current` may move to `target`."""
    allowed = TRANSITIONS.get(current, frozenset())
    if target not in allowed:
        options = ", ".join(sorted(allowed)) or "none: the referral is closed"
        raise IllegalTransition(
            f"a referral that is {current} cannot become {target} (allowed: {options})",
            {"status": current, "requested": target, "allowed": sorted(allowed)},
        )


@dataclass(frozen=True)
class ConsentFacts:
    agency_id: str | None
    given_at: datetime
    valid_until: datetime | None  # None: no end date, valid while the referral is open
    withdrawn_at: datetime | None


def consent_problem(consent: ConsentFacts | None, agency_id: str | None, now: datetime) -> str | None:
    """Why consent does not cover sharing with `agency_id` now, or None when it does."""
    if consent is None:
        return "no consent is recorded for this referral"
    if consent.withdrawn_at is not None:
        return "the client withdrew consent"
    if consent.given_at > now:
        return "consent is dated in the future"
    if consent.valid_until is not None and consent.valid_until <= now:
        return "consent has expired"
    if consent.agency_id is not None and consent.agency_id != agency_id:
        return "consent covers a different agency"
    return None
