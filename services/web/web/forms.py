"""The "voice a concern" form: what a browser posts, turned into the concerns API's body.

Only shape is checked here (numbers are numbers, a location was given); the rules (lengths,
required questions, e-mail syntax) are the concerns service's, and its 400 details come back
to the same form beside their fields.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from web.domain.fields import field_errors

CONTACT_FIELDS = ("name", "email", "phone")
# A random key made with each blank form and sent as the Idempotency-Key of the submission: a
# double click, or a retry after a lost answer, gets the concern already made, not a second one.
SUBMISSION_KEY = "submission_key"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{8,255}$")  # what the concerns service accepts


class FormData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass
class VoiceForm:
    """What the person typed so far (kept across re-renders) and the problems found, by field."""

    category: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def coordinate(self, name: str) -> float | None:
        raw = (self.values.get(name) or "").strip()
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError:
            self.errors[name] = "not_a_number"
            return None

    @property
    def located(self) -> bool:
        return bool(self.values.get("lat") and self.values.get("long")) or bool(self.values.get("address"))


def read_voice_form(category: Mapping[str, Any], form: FormData) -> VoiceForm:
    """The posted fields of a category's form, answers to its own questions included."""
    values: dict[str, Any] = {
        name: (form.get(name) or "").strip()
        for name in ("description", "address", "lat", "long", "language", "preference", SUBMISSION_KEY, *CONTACT_FIELDS)
    }
    for attribute in category["attributes"]:
        key = f"attr_{attribute['code']}"
        values[key] = form.getlist(key) if attribute["datatype"] == "multivaluelist" else (form.get(key) or "").strip()
    return VoiceForm(category["code"], values)


def ensure_submission_key(voice: VoiceForm) -> str:
    """The form's submission key, made now if the form has none (or a malformed one)."""
    key = voice.values.get(SUBMISSION_KEY) or ""
    if not _VALID_KEY.match(key):
        key = secrets.token_urlsafe(18)
        voice.values[SUBMISSION_KEY] = key
    return key


def api_body(category: Mapping[str, Any], voice: VoiceForm) -> dict[str, Any] | None:
    """The body of `POST /concerns`, or None when the form has problems (listed in voice.errors)."""
    values = voice.values
    lat, long = voice.coordinate("lat"), voice.coordinate("long")
    if not values["description"]:
        voice.errors["description"] = "required"
    if (lat is None or long is None) and not values["address"]:
        voice.errors["location"] = "required"
    if voice.errors:
        return None
    contact = {name: values[name] or None for name in CONTACT_FIELDS}
    body: dict[str, Any] = {
        "category": category["code"],
        "description": values["description"],
        "location": {"lat": lat, "long": long, "address": values["address"] or None},
        "attributes": _answers(category, values),
        "language": values["language"] if values["language"] in ("en", "es") else "en",
    }
    if any(contact.values()):
        body["contact"] = {**contact, "preference": values["preference"] or None}
    return body


def _answers(category: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    answers = {}
    for attribute in category["attributes"]:
        value = values.get(f"attr_{attribute['code']}")
        if value not in (None, "", []):
            answers[attribute["code"]] = value
    return answers


def api_errors(details: Any) -> dict[str, str]:
    """The concerns API's 400 details as the form's field names: `{"contact": {"email": [...]}}`
    becomes `{"email": "..."}`, `{"attributes": {"code": [...]}}` becomes `{"attr_code": "..."}`."""
    return field_errors(details, ("contact", "location", "attributes"), _form_field)


def _form_field(part: str, name: str) -> str:
    if part == "attributes":
        return f"attr_{name}"
    return "location" if part == "location" and name in ("lat", "long") else name
