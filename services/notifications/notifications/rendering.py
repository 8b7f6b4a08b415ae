"""Jinja2 templates per message type and language (English and Spanish shipped).

Each `templates/<language>/<name>.jinja` defines the blocks `subject`, `text`,
`html` and `sms`. The same file is loaded twice: with autoescaping for the HTML
block and without for the plain-text ones. A missing language falls back to English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, TemplateNotFound

from beat_shared.errors import NotFound
from beat_shared.isotime import parse_iso
from notifications.domain.preferences import DEFAULT_LANGUAGE, LANGUAGES, language_of

TEMPLATE_DIR = Path(__file__).parent / "templates"
BLOCKS = ("subject", "text", "html", "sms")

STATUS_LABELS = {
    "en": {
        "submitted": "received",
        "acknowledged": "acknowledged",
        "in_progress": "being worked on",
        "action_planned": "action planned",
        "resolved": "resolved",
        "closed": "closed",
        "withdrawn": "withdrawn",
    },
    "es": {
        "submitted": "recibida",
        "acknowledged": "atendida",
        "in_progress": "en curso",
        "action_planned": "con acciones previstas",
        "resolved": "resuelta",
        "closed": "cerrada",
        "withdrawn": "retirada",
    },
}


@dataclass(frozen=True)
class Rendered:
    template: str
    language: str
    subject: str
    text: str
    html: str
    sms: str


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["when"] = format_when
    env.filters["status_label"] = status_label
    env.filters["label"] = lambda code: str(code).replace("_", " ") if code else ""
    return env


WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
}
MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
}


def format_when(value: str | datetime | None, lang: str = "en", tz: str = "UTC") -> str:
    """A timestamp as people read it: in their time zone, named, so nobody has to guess whose
    18:30 it is ("Tue 8 Dec 2026, 18:30 CST"; Spanish "mar 8 dic 2026, 18:30 CST")."""
    if value in (None, ""):
        return ""
    moment = parse_iso(value)
    local = moment.astimezone(ZoneInfo(tz))
    names = lang if lang in WEEKDAYS else "en"
    weekday, month = WEEKDAYS[names][local.weekday()], MONTHS[names][local.month - 1]
    return f"{weekday} {local.day} {month} {local.year}, {local:%H:%M} {local.tzname()}"


def status_label(status: str | None, lang: str = "en") -> str:
    if not status:
        return ""
    return STATUS_LABELS.get(lang, STATUS_LABELS["en"]).get(status, status.replace("_", " "))


class Renderer:
    def __init__(self) -> None:
        self._text = _environment(autoescape=False)
        self._html = _environment(autoescape=True)

    def names(self) -> list[str]:
        """Every template shipped in English (the complete set)."""
        return sorted(path.stem for path in (TEMPLATE_DIR / DEFAULT_LANGUAGE).glob("*.jinja"))

    def exists(self, name: str) -> bool:
        return (TEMPLATE_DIR / DEFAULT_LANGUAGE / f"{name}.jinja").is_file()

    def _load(self, env: Environment, name: str, language: str) -> tuple[Template, str]:
        for candidate in dict.fromkeys((language, DEFAULT_LANGUAGE)):
            try:
                return env.get_template(f"{candidate}/{name}.jinja"), candidate
            except TemplateNotFound:
                continue
        raise NotFound(f"there is no template named {name!r}", {"known": self.names()})

    def render(self, name: str, language: str | None, context: dict[str, Any]) -> Rendered:
        """All four parts of a message; raises NotFound for an unknown template."""
        if "/" in name or not self.exists(name):
            raise NotFound(f"there is no template named {name!r}", {"known": self.names()})
        lang = language_of(language)
        text_template, used = self._load(self._text, name, lang)
        html_template, _ = self._load(self._html, name, lang)
        variables = {"recipient_name": None, "tz": "UTC", **context, "lang": used}
        parts = {
            block: _render_block(html_template if block == "html" else text_template, block, variables)
            for block in BLOCKS
        }
        return Rendered(
            template=name,
            language=used,
            subject=" ".join(parts["subject"].split()),
            text=parts["text"].strip() + "\n",
            html=parts["html"].strip(),
            sms=" ".join(parts["sms"].split()),
        )


def _render_block(template: Template, block: str, variables: dict[str, Any]) -> str:
    render = template.blocks.get(block)
    if render is None:
        raise NotFound(f"template {template.name} has no {block} block")
    return "".join(render(template.new_context(variables)))


# Example contexts: what the preview endpoint uses by default, and what the test that
# renders every template in every language feeds them.
_CONCERN = {
    "concern_id": "c-1001",
    "category_code": "streetlight_out",
    "beat_code": "RV-03",
    "status": "in_progress",
    "occurred_at": "2026-01-05T15:30:00Z",
    "concern_url": "http://localhost:8001/concerns/c-1001",
}
_REFERRAL = {
    "referral_id": "r-2001",
    "agency_id": "agency-food-bank",
    "need_category": "food",
    "urgency": "soon",
    "status": "sent",
    "beat_code": "RV-02",
    "respond_by": "2026-01-07T17:00:00Z",
    "details_url": "http://localhost:8002/referrals/r-2001",
    "inbox_url": "http://localhost:8000/agency/referrals/r-2001",
    "occurred_at": "2026-01-05T15:30:00Z",
}
SAMPLE_CONTEXTS: dict[str, dict[str, Any]] = {
    "concern_acknowledged": {
        **_CONCERN,
        "status": "acknowledged",
        "recipient_name": "Maria",
        "public_note": "We will patrol the street on Friday night.",
    },
    "concern_status_changed": {**_CONCERN, "previous_status": "acknowledged", "has_public_note": True},
    "concern_resolved": {
        **_CONCERN,
        "status": "resolved",
        "recipient_name": "Maria",
        "public_note": "The city replaced the street light.",
    },
    "concern_closed": {**_CONCERN, "status": "closed"},
    "concern_merged": {**_CONCERN, "merged_into": "c-0999", "merged_url": "http://localhost:8001/concerns/c-0999"},
    "concern_new_in_beat": {**_CONCERN, "status": "submitted", "recipient_name": "Officer Diaz"},
    "concern_overdue": {**_CONCERN, "status": "submitted", "due_at": "2026-01-06T15:30:00Z"},
    "meeting_announcement": {
        "meeting_id": "5d0c3a52-1f3e-4a8e-9c1b-2f6d4e8a7b10",
        "beat_code": "RV-01",
        "kind": "community_meeting",
        "title": "North beat meeting",
        "starts_at": "2026-01-20T23:00:00Z",
        "ends_at": "2026-01-21T00:30:00Z",
        "venue": "Central Library, Room 2",
        "body": "",
    },
    "beat_alert": {
        "beat_code": "RV-04",
        "title": "Car break-ins on Elm Street",
        "body": "Please keep valuables out of sight & lock your car.",
        "urgent": True,
    },
    "referral_sent": _REFERRAL,
    "referral_reminder": _REFERRAL,
    "referral_expired": {**_REFERRAL, "status": "expired"},
    "referral_officer_update": {**_REFERRAL, "stage": "expired"},
    "consent_withdrawn": {
        "consent_id": "k-1",
        "referral_ids": ["r-2001"],
        "occurred_at": "2026-01-05T15:30:00Z",
        "inbox_url": "http://localhost:8000/agency/referrals",
    },
    "survey_invitation": {"survey_url": "http://localhost:8004/s/abc", "expires_at": "2026-02-01T00:00:00Z"},
    "subscriber_confirmation": {
        "beat_code": "RV-02",
        "watch": True,
        "confirm_url": "http://localhost:8000/alerts/confirm/abc.def",
    },
    "digest": {
        "entries": [
            {"subject": "Meeting: North beat meeting", "text": "Tuesday 6pm at the library."},
            {"subject": "Alert: car break-ins", "text": "Lock your car."},
        ]
    },
}


def languages() -> tuple[str, ...]:
    return LANGUAGES
