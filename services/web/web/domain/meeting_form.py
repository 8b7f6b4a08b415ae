"""The officer's meeting forms: scheduling a meeting and recording what it agreed, read from what
a browser posted and turned into the concerns API's bodies.

Only shape is checked here (required fields, readable times and dates, a row filled in part); the
rules (lengths, an end after the start, concerns of the beat) are concerns', whose 400 details come
back beside the fields. Times are typed in the city's local time and sent in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from beat_shared.contracts.catalogue import MEETING_KINDS
from web.domain.fields import is_date
from web.domain.referral_form import local_to_utc

SCHEDULE_FIELDS = ("kind", "title", "venue", "description", "starts_at", "ends_at")
SCHEDULE_REQUIRED = ("title", "venue", "starts_at", "ends_at")
ACTION_ROWS = 3  # rows of agreed actions a conclusion form offers (a meeting may record more over the API)
PRIORITY_ROWS = 3
ACTION_FIELDS = ("description", "owner", "due", "concern")
PRIORITY_FIELDS = ("title", "description", "concern")


@dataclass
class MeetingForm:
    """What was typed (kept across re-renders), the agenda concerns chosen, and problems by field."""

    values: dict[str, str]
    agenda: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def read_schedule_form(form: Any) -> MeetingForm:
    values = {name: (form.get(name) or "").strip() for name in SCHEDULE_FIELDS}
    errors = {name: "required" for name in SCHEDULE_REQUIRED if not values[name]}
    if values["kind"] not in MEETING_KINDS:
        errors["kind"] = "invalid"
    return MeetingForm(values, [concern_id for concern_id in form.getlist("agenda") if concern_id], errors)


def schedule_body(meeting: MeetingForm, zone: ZoneInfo) -> dict[str, Any] | None:
    """The body of `POST /beats/{code}/meetings`, or None (errors added) when something is missing
    or a time cannot be read. Only a community meeting has an agenda: the concerns chosen for it."""
    values = meeting.values
    times = {name: local_to_utc(values[name], zone) if values[name] else None for name in ("starts_at", "ends_at")}
    for name, moment in times.items():
        if values[name] and moment is None:
            meeting.errors[name] = "invalid"
    if meeting.errors:
        return None
    body: dict[str, Any] = {
        "kind": values["kind"],
        "title": values["title"],
        "venue": values["venue"],
        "description": values["description"],
        **times,
    }
    if values["kind"] == "community_meeting":
        body["agenda_concern_ids"] = meeting.agenda
    return body


def read_conclusion_form(form: Any) -> MeetingForm:
    names = ["attendees", "summary", "period"]
    names += [f"action_{part}_{row}" for row in range(ACTION_ROWS) for part in ACTION_FIELDS]
    names += [f"priority_{part}_{row}" for row in range(PRIORITY_ROWS) for part in PRIORITY_FIELDS]
    return MeetingForm({name: (form.get(name) or "").strip() for name in names})


def conclusion_body(meeting: MeetingForm) -> dict[str, Any] | None:
    """The body of `POST /meetings/{id}/conclusion`, or None (errors added). A blank row is left
    out; a row filled in part is an error on the part missing."""
    values, errors = meeting.values, meeting.errors
    attendees = None
    if values["attendees"]:
        attendees = int(values["attendees"]) if values["attendees"].isdigit() else None
        if attendees is None:
            errors["attendees"] = "invalid"
    actions = [_action(values, row, errors) for row in range(ACTION_ROWS)]
    priorities = [_priority(values, row, errors) for row in range(PRIORITY_ROWS)]
    chosen = [item for item in priorities if item]
    if chosen and not values["period"]:
        errors["period"] = "required"
    if errors:
        return None
    body: dict[str, Any] = {
        "attendees": attendees,
        "summary": values["summary"],
        "actions": [action for action in actions if action],
    }
    if chosen:
        body["priorities"] = {"period": values["period"], "items": chosen}
    return body


def _action(values: dict[str, str], row: int, errors: dict[str, str]) -> dict[str, Any] | None:
    typed = {part: values[f"action_{part}_{row}"] for part in ACTION_FIELDS}
    if not any(typed.values()):
        return None
    for part in ("description", "owner", "due"):
        if not typed[part]:
            errors[f"action_{part}_{row}"] = "required"
    if typed["due"] and not is_date(typed["due"]):
        errors[f"action_due_{row}"] = "invalid"
    return {
        "description": typed["description"],
        "owner": typed["owner"],
        "due_date": typed["due"],
        "concern_ids": [typed["concern"]] if typed["concern"] else [],
    }


def _priority(values: dict[str, str], row: int, errors: dict[str, str]) -> dict[str, Any] | None:
    typed = {part: values[f"priority_{part}_{row}"] for part in PRIORITY_FIELDS}
    if not any(typed.values()):
        return None
    if not typed["title"]:
        errors[f"priority_title_{row}"] = "required"
    return {
        "title": typed["title"],
        "description": typed["description"],
        "concern_ids": [typed["concern"]] if typed["concern"] else [],
    }


def current_period(today: date) -> str:
    """Priorities are agreed per quarter (as concerns names them), e.g. 2026-Q4."""
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def api_errors(details: Any) -> dict[str, str]:
    """concerns' 400 details as the form's field names: `{"actions": {"0": {"owner": [...]}}}` becomes
    `{"action_owner_0": ...}`, `{"actions.1.concern_ids": [...]}` becomes `{"action_concern_1": ...}`,
    `{"priorities": {"items": {"0": {"title": [...]}}}}` becomes `{"priority_title_0": ...}`."""
    errors: dict[str, str] = {}
    if not isinstance(details, dict):
        return errors
    for name, problem in details.items():
        if name.count(".") == 2:  # "actions.1.concern_ids", "priorities.0.concern_ids"
            group, row, part = name.split(".")
            errors[_row_field(group, part, row)] = "invalid"
        elif name == "actions" and isinstance(problem, dict):
            _rows("actions", problem, errors)
        elif name == "priorities" and isinstance(problem, dict):
            if isinstance(problem.get("items"), dict):
                _rows("priorities", problem["items"], errors)
            if "period" in problem:
                errors["period"] = "invalid"
        elif name == "agenda_concern_ids":
            errors["agenda"] = "invalid"
        else:
            errors[name] = "invalid"
    return errors


def _rows(group: str, rows: dict[Any, Any], errors: dict[str, str]) -> None:
    for row, problems in rows.items():
        for part in problems if isinstance(problems, dict) else ("description",):
            errors[_row_field(group, part, row)] = "invalid"


def _row_field(group: str, part: str, row: Any) -> str:
    prefix = "action" if group == "actions" else "priority"
    part = {"concern_ids": "concern", "due_date": "due"}.get(part, part)
    return f"{prefix}_{part}_{row}"
