"""The officer's problem forms (issue 26): opening a problem by hand, and each change of the
workspace (link concerns or a referral, a note, a plan action, a stage move, closing with an
outcome), read from what a browser posted and turned into the concerns API's bodies.

Only shape is checked here (required fields, one of the offered choices, a readable date); the
rules (lengths, the beat's concerns, which stage allows what) are concerns', whose 400 details come
back beside the fields and whose 409s become a page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from web.domain.fields import is_date

# concerns' vocabulary (concerns/domain/problems.py); the web service imports no other service.
STAGES = ("scanning", "analysis", "response", "assessment", "closed")
MOVES = {
    "scanning": ("analysis",),
    "analysis": ("response",),
    "response": ("analysis", "assessment"),
    "assessment": ("response",),
}
NOTE_SIDES = ("place", "offender", "victim", "other")
OWNER_KINDS = ("officer", "residents", "agency", "city")
OUTCOMES = ("solved", "reduced", "displaced", "not_solved")


@dataclass
class ProblemForm:
    """What was typed (kept across re-renders), the API body when it reads well, and errors by field."""

    values: dict[str, str]
    body: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _values(form: Any, names: tuple[str, ...]) -> dict[str, str]:
    return {name: (form.get(name) or "").strip() for name in names}


def _required(values: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: "required" for name in names if not values[name]}


def read_open_form(form: Any, beat_code: str) -> ProblemForm:
    """A problem opened by hand: a title and one category, a summary if given (no place: it is
    assessed on its linked concerns against the rest of the beat)."""
    values = _values(form, ("title", "category", "summary"))
    errors = _required(values, ("title", "category"))
    if errors:
        return ProblemForm(values, None, errors)
    body = {
        "beat_code": beat_code,
        "title": values["title"],
        "summary": values["summary"],
        "categories": [values["category"]],
        "origin": "manual",
    }
    return ProblemForm(values, body)


def read_concerns(form: Any) -> ProblemForm:
    chosen = [concern_id for concern_id in form.getlist("concern_ids") if concern_id]
    values = {"tell_reporters": "yes" if form.get("tell_reporters") == "yes" else ""}
    if not chosen:
        return ProblemForm(values, None, {"concern_ids": "required"})
    return ProblemForm(values, {"concern_ids": chosen, "tell_reporters": bool(values["tell_reporters"])})


def read_note(form: Any) -> ProblemForm:
    values = _values(form, ("side", "party", "text"))
    errors = _required(values, ("side", "text"))
    if values["side"] and values["side"] not in NOTE_SIDES:
        errors["side"] = "invalid"
    return ProblemForm(values, None if errors else dict(values), errors)


def read_action(form: Any) -> ProblemForm:
    """A new action of the plan, or (`agreed_action_id`) an action a meeting of the beat agreed."""
    agreed = (form.get("agreed_action_id") or "").strip()
    if "agreed_action_id" in form:
        if not agreed:
            return ProblemForm({}, None, {"agreed_action_id": "required"})
        return ProblemForm({"agreed_action_id": agreed}, {"agreed_action_id": agreed})
    values = _values(form, ("description", "owner", "owner_kind", "due_date"))
    errors = _required(values, ("description", "owner", "owner_kind", "due_date"))
    if values["owner_kind"] and values["owner_kind"] not in OWNER_KINDS:
        errors["owner_kind"] = "invalid"
    if values["due_date"] and not is_date(values["due_date"]):
        errors["due_date"] = "invalid"
    return ProblemForm(values, None if errors else dict(values), errors)


def read_stage(form: Any) -> ProblemForm:
    values = _values(form, ("stage",))
    if values["stage"] not in MOVES:  # closing is the assessment's, never a stage move
        return ProblemForm(values, None, {"stage": "invalid"})
    return ProblemForm(values, dict(values))


def read_assessment(form: Any) -> ProblemForm:
    values = _values(form, ("outcome",))
    if values["outcome"] not in OUTCOMES:
        return ProblemForm(values, None, {"outcome": "required" if not values["outcome"] else "invalid"})
    return ProblemForm(values, dict(values))


def read_referral(form: Any) -> ProblemForm:
    values = _values(form, ("referral_id",))
    if not values["referral_id"]:
        return ProblemForm(values, None, {"referral_id": "required"})
    return ProblemForm(values, dict(values))


# The workspace's forms by the last part of their address, and the concerns call each makes.
CHANGES: dict[str, Callable[[Any], ProblemForm]] = {
    "concerns": read_concerns,
    "notes": read_note,
    "actions": read_action,
    "stage": read_stage,
    "assessment": read_assessment,
    "referrals": read_referral,
}
CHANGE_CALLS = {part: ("POST", f"/{part}") for part in CHANGES}


def api_errors(details: Any) -> dict[str, str]:
    """concerns' 400 details (`{"field": ["why"]}`) as the form's fields, each marked invalid."""
    if not isinstance(details, dict):
        return {}
    return {str(name).split(".")[0]: "invalid" for name in details}


def referrals_of(found: dict[str, Any], linked_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The referrals of the problem's linked concerns (answers of `GET /referrals?concern_id=`, by
    concern), split into those linked to the problem and those that could be; a referral that could
    not be looked up is still listed as linked, by its id."""
    seen: dict[str, dict[str, Any]] = {}
    for answer in found.values():
        if isinstance(answer, dict):
            for row in answer.get("contents", []):
                seen[row["id"]] = row
    linked = [seen.get(referral_id, {"id": referral_id}) for referral_id in linked_ids]
    offered = [row for referral_id, row in seen.items() if referral_id not in set(linked_ids)]
    return {"linked": linked, "offered": offered}
