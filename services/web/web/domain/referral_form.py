"""The officer's referral form: what was typed, checked enough to be sent to concerns'
`POST /referral-requests` (which checks everything again and answers a 400 with field details).

Times are typed in the city's local time (`datetime-local` fields) and sent in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from beat_shared.contracts.catalogue import URGENCIES
from web.domain.fields import field_errors

CONSENT_METHODS = ("verbal", "written", "electronic")
CLIENT_LANGUAGES = ("en", "es")
FIELDS = (
    "need",
    "urgency",
    "name",
    "phone",
    "email",
    "client_language",
    "notes",
    "given_by",
    "given_at",
    "method",
    "scope",
    "valid_until",
)
REQUIRED = ("need", "name", "given_by", "given_at", "method", "scope")
# concerns' 400 details name nested fields: {"client": {"name": [...]}, "consent": {"given_at": [...]}}
API_FIELDS = {("client", "language"): "client_language", ("", "need_category"): "need"}


@dataclass
class ReferralForm:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def read_referral_form(form: Any) -> ReferralForm:
    values = {name: (form.get(name) or "").strip() for name in FIELDS}
    values["urgency"] = values["urgency"] if values["urgency"] in URGENCIES else "routine"
    errors = {name: "required" for name in REQUIRED if not values[name]}
    if not (values["phone"] or values["email"]):
        errors["phone"] = "reachable"
    if values["method"] and values["method"] not in CONSENT_METHODS:
        errors["method"] = "invalid"
    if values["client_language"] not in CLIENT_LANGUAGES:
        values["client_language"] = "en"
    return ReferralForm(values, errors)


def local_to_utc(typed: str, zone: ZoneInfo) -> str | None:
    """A `datetime-local` value ("2026-12-03T09:30") in the city's time as RFC 3339 UTC; None if unreadable."""
    try:
        moment = datetime.fromisoformat(typed)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


def request_body(concern_id: str, referral: ReferralForm, zone: ZoneInfo) -> dict[str, Any] | None:
    """The body of `POST /referral-requests`, or None (errors added) when a time cannot be read."""
    values = referral.values
    given_at = local_to_utc(values["given_at"], zone)
    valid_until = local_to_utc(values["valid_until"], zone) if values["valid_until"] else None
    if given_at is None:
        referral.errors.setdefault("given_at", "invalid")
    if values["valid_until"] and valid_until is None:
        referral.errors["valid_until"] = "invalid"
    if referral.errors:
        return None
    return {
        "concern_id": concern_id,
        "need_category": values["need"],
        "urgency": values["urgency"],
        "client": {
            "name": values["name"],
            "phone": values["phone"] or None,
            "email": values["email"] or None,
            "language": values["client_language"],
            "notes": values["notes"],
        },
        "consent": {
            "given_by": values["given_by"],
            "given_at": given_at,
            "method": values["method"],
            "scope": values["scope"],
            "valid_until": valid_until,
        },
    }


def api_errors(details: Any) -> dict[str, str]:
    """concerns' 400 details as this form's field names."""
    return field_errors(details, ("client", "consent"), lambda part, name: API_FIELDS.get((part, name), name))
