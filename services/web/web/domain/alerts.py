"""A beat's alerts and meeting announcements: the form a signed-in person fills in, read and checked
for shape, and what it asks of the notifications API.

Notifications decides what is valid (an e-mail address, an E.164 phone number, HH:MM quiet hours, a
beat concerns knows); here only what the page itself needs is checked: a channel was chosen and it
has the address it needs, and quiet hours come as a pair.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from web.domain.language import DEFAULT_LANGUAGE, LANGUAGES

# The notifications topics a beat subscription brings (notifications' README: beat alerts and
# meeting announcements go to a beat's subscribers).
BEAT_TOPICS = ("beat_alerts", "meetings", "neighbourhood_watch")
CHANNELS = ("email", "sms")
FIELDS = ("beat_code", "channel", "email", "phone", "language", "quiet_start", "quiet_end", "watch")
ADDRESS_OF = {"email": "email", "sms": "phone"}  # the field each channel cannot do without


@dataclass
class AlertsForm:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def blank_form(contact: Mapping[str, Any], preferences: Mapping[str, Any], beat_code: str, language: str) -> AlertsForm:
    """The form as the person last left their settings; a newcomer's in the page's language."""
    values = {name: str(contact.get(name) or "") for name in ("email", "phone", "quiet_start", "quiet_end")}
    # Until a person has given an address, notifications holds its default language, not a choice.
    chose = contact.get("email") or contact.get("phone")
    values["language"] = contact.get("language") if chose and contact.get("language") in LANGUAGES else language
    values["channel"] = chosen_channel(preferences)
    values["beat_code"] = beat_code
    values["watch"] = ""
    return AlertsForm(values)


def chosen_channel(preferences: Mapping[str, Any]) -> str:
    """SMS when the person switched beat alerts on by text message, else e-mail (the default)."""
    for preference in preferences.get("preferences", []):
        about_beats = preference.get("topic") in (*BEAT_TOPICS, "*")
        if about_beats and preference.get("channel") == "sms" and preference.get("enabled"):
            return "sms"
    return "email"


def read_form(form: Mapping[str, Any]) -> AlertsForm:
    values = {name: (form.get(name) or "").strip() for name in FIELDS}
    if values["language"] not in LANGUAGES:
        values["language"] = DEFAULT_LANGUAGE
    errors: dict[str, str] = {}
    if not values["beat_code"]:
        errors["beat_code"] = "required"
    if values["channel"] not in CHANNELS:
        errors["channel"] = "required"
    elif not values[ADDRESS_OF[values["channel"]]]:
        errors[ADDRESS_OF[values["channel"]]] = "required"
    if bool(values["quiet_start"]) != bool(values["quiet_end"]):
        errors["quiet_end" if values["quiet_start"] else "quiet_start"] = "required"
    return AlertsForm(values, errors)


def contact_body(form: AlertsForm) -> dict[str, Any]:
    """`PUT /me/contact`: the address of the channel chosen is kept, the other is left as it was."""
    values = form.values
    body: dict[str, Any] = {
        "language": values["language"],
        "quiet_start": values["quiet_start"] or None,
        "quiet_end": values["quiet_end"] or None,
    }
    for name in ("email", "phone"):
        if values[name]:
            body[name] = values[name]
    return body


def preference_bodies(channel: str) -> list[dict[str, Any]]:
    """`PUT /me/preferences`, one per topic and channel: the chosen channel on, the other off."""
    return [{"topic": topic, "channel": each, "enabled": each == channel} for topic in BEAT_TOPICS for each in CHANNELS]


# --- by e-mail, without an account ---------------------------------------------------------------
EMAIL_FIELDS = ("email", "beat_code", "language", "watch")


def blank_email_form(beat_code: str, language: str) -> AlertsForm:
    return AlertsForm({"email": "", "beat_code": beat_code, "language": language, "watch": ""})


def read_email_form(form: Mapping[str, Any]) -> AlertsForm:
    """Someone without an account asks for a beat's alerts: an address and a beat are needed
    (notifications checks the address and that concerns knows the beat)."""
    values = {name: (form.get(name) or "").strip() for name in EMAIL_FIELDS}
    if values["language"] not in LANGUAGES:
        values["language"] = DEFAULT_LANGUAGE
    errors = {name: "required" for name in ("email", "beat_code") if not values[name]}
    return AlertsForm(values, errors)
