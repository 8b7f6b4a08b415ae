"""The concern workflow: states, legal transitions, who may make them, what each announces.

submitted → acknowledged → in_progress → resolved is the main road; a concern may also be
closed without resolution, referred to a social-service agency, merged into another as a
duplicate, or withdrawn by the resident who raised it. Resolved, closed_not_resolved,
duplicate and withdrawn are final.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from beat_shared.errors import Conflict, InvalidInput, PermissionDenied
from beat_shared.roles import MANAGERS, STAFF


class Status(StrEnum):
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    REFERRED = "referred"
    RESOLVED = "resolved"
    CLOSED_NOT_RESOLVED = "closed_not_resolved"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.SUBMITTED: frozenset({S.ACKNOWLEDGED, S.CLOSED_NOT_RESOLVED, S.DUPLICATE, S.WITHDRAWN}),
    S.ACKNOWLEDGED: frozenset({S.IN_PROGRESS, S.REFERRED, S.RESOLVED, S.CLOSED_NOT_RESOLVED, S.DUPLICATE, S.WITHDRAWN}),
    S.IN_PROGRESS: frozenset({S.REFERRED, S.RESOLVED, S.CLOSED_NOT_RESOLVED, S.DUPLICATE, S.WITHDRAWN}),
    S.REFERRED: frozenset({S.IN_PROGRESS, S.RESOLVED, S.CLOSED_NOT_RESOLVED, S.WITHDRAWN}),
    S.RESOLVED: frozenset(),
    S.CLOSED_NOT_RESOLVED: frozenset(),
    S.DUPLICATE: frozenset(),
    S.WITHDRAWN: frozenset(),
}

OPEN_STATUSES = frozenset({S.SUBMITTED, S.ACKNOWLEDGED, S.IN_PROGRESS, S.REFERRED})
FINAL_STATUSES = frozenset(status for status, targets in TRANSITIONS.items() if not targets)

# Human wording of each status for residents and Open311 status_notes.
STATUS_LABELS: dict[Status, str] = {
    S.SUBMITTED: "Received",
    S.ACKNOWLEDGED: "Acknowledged by your beat officer",
    S.IN_PROGRESS: "In progress",
    S.REFERRED: "Referred to a partner agency",
    S.RESOLVED: "Resolved",
    S.CLOSED_NOT_RESOLVED: "Closed without resolution",
    S.DUPLICATE: "Merged into another concern",
    S.WITHDRAWN: "Withdrawn by the resident",
}

# The same wording in the other languages a resident may submit in (schemas.LANGUAGES).
TRANSLATED_STATUS_LABELS: dict[str, dict[Status, str]] = {
    "en": STATUS_LABELS,
    "es": {
        S.SUBMITTED: "Recibida",
        S.ACKNOWLEDGED: "Atendida por el agente de su sector",
        S.IN_PROGRESS: "En curso",
        S.REFERRED: "Derivada a una agencia colaboradora",
        S.RESOLVED: "Resuelta",
        S.CLOSED_NOT_RESOLVED: "Cerrada sin resolver",
        S.DUPLICATE: "Unida a otra inquietud",
        S.WITHDRAWN: "Retirada por el vecino",
    },
}


def status_label(status: Status | str, language: str = "en") -> str:
    """A status as residents read it, in their language (English when we have no translation)."""
    return TRANSLATED_STATUS_LABELS.get(language, STATUS_LABELS)[Status(status)]


# FixMyStreet's Open311 update statuses (its servicerequestupdates extension).
UPDATE_FEED_STATUS: dict[Status, str] = {
    S.SUBMITTED: "OPEN",
    S.ACKNOWLEDGED: "INVESTIGATING",
    S.IN_PROGRESS: "IN_PROGRESS",
    S.REFERRED: "INTERNAL_REFERRAL",
    S.RESOLVED: "FIXED",
    S.CLOSED_NOT_RESOLVED: "NO_FURTHER_ACTION",
    S.DUPLICATE: "DUPLICATE",
    S.WITHDRAWN: "CLOSED",
}


def parse_status(value: str, field: str = "status") -> Status:
    try:
        return Status(value)
    except ValueError:
        raise InvalidInput(f"unknown status {value!r}", {field: [f"must be one of {', '.join(s.value for s in S)}"]})


def open311_status(status: Status | str) -> str:
    """Open311 knows only open and closed."""
    return "open" if Status(status) in OPEN_STATUSES else "closed"


@dataclass(frozen=True)
class Actor:
    """Who acts on a concern: a principal's subject and role, and what they may touch."""

    subject: str
    role: str  # resident | officer | supervisor | admin | receipt (an anonymous receipt-token holder)
    beat_codes: frozenset[str] = frozenset()
    is_reporter: bool = False

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def may_manage(self, beat_code: str | None) -> bool:
        """Officers manage concerns of the beats they are assigned to; supervisors and admins all."""
        if self.role in MANAGERS:
            return True
        return self.role == "officer" and beat_code is not None and beat_code in self.beat_codes


def check_transition(current: Status, target: Status, actor: Actor, beat_code: str | None) -> None:
    """Raise unless `actor` may move a concern of `beat_code` from `current` to `target`.

    Raises PermissionDenied (not your concern or not your beat) or Conflict (illegal move).
    """
    if target is S.WITHDRAWN:
        if not actor.is_reporter:
            raise PermissionDenied("only the resident who raised a concern may withdraw it")
    elif not actor.may_manage(beat_code):
        raise PermissionDenied("only officers assigned to this concern's beat (or supervisors) may change it")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none (it is final)"
        raise Conflict(
            f"a {current.value} concern cannot become {target.value}",
            {"status": [f"allowed from {current.value}: {allowed}"]},
        )


def check_version(current: int, expected: int | None) -> None:
    """Optimistic concurrency: the caller must say which version it saw; a stale one is a 409."""
    if expected is None:
        raise InvalidInput(
            "say which version you are changing (If-Match header or version field)",
            {"version": ["required"]},
        )
    if expected != current:
        raise Conflict(
            f"the concern changed since you read it (you had version {expected}, it is now {current})",
            {"version": [f"current version is {current}"]},
        )


def event_for(target: Status) -> str:
    """The one event type a transition to `target` publishes."""
    return {
        S.ACKNOWLEDGED: "beat.concern.acknowledged",
        S.RESOLVED: "beat.concern.resolved",
        S.CLOSED_NOT_RESOLVED: "beat.concern.closed",
        S.WITHDRAWN: "beat.concern.closed",
        S.DUPLICATE: "beat.concern.merged",
    }.get(target, "beat.concern.status_changed")
