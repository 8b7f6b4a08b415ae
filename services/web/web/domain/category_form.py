"""An administrator's category form: the name (English and Spanish), the time to acknowledge and the
questions' wording, turned into a JSON Merge Patch for concerns' `PATCH /categories/{code}`.

Only shape is checked here (a name, a whole number of hours in range, no empty question); lengths and
the rest are concerns', whose 400 details come back beside the fields. The patch names only what the
form edits, so the category's other words (descriptions, answer names, other languages) are kept;
its questions travel whole (a list replaces a list), built from the stored ones read just before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_HOURS = 24 * 30  # concerns' own limit on the time to acknowledge
SPANISH = "es"


def question_field(code: str, part: str = "") -> str:
    """The form field of a question's wording (`part` "es" for its Spanish, "required" for the box)."""
    return f"q-{code}-{part}" if part else f"q-{code}"


@dataclass
class CategoryForm:
    """What was typed (kept across re-renders) and problems by field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def values_of(category: dict[str, Any]) -> dict[str, str]:
    """The form's fields filled from a category as concerns serves it in English (`?lang=en`)."""
    spanish = (category.get("translations") or {}).get(SPANISH) or {}
    values = {
        "name": category["name"],
        "name_es": spanish.get("name") or "",
        "acknowledge_hours": str(category["acknowledge_hours"]),
    }
    for question in category["attributes"]:
        own = (spanish.get("attributes") or {}).get(question["code"]) or {}
        values[question_field(question["code"])] = question["description"]
        values[question_field(question["code"], SPANISH)] = own.get("description") or ""
        values[question_field(question["code"], "required")] = "on" if question.get("required") else ""
    return values


def read(form: Any, category: dict[str, Any]) -> CategoryForm:
    """What a browser posted for `category`: its questions' fields are those the stored category has."""
    names = ["name", "name_es", "acknowledge_hours"]
    for question in category["attributes"]:
        names += [question_field(question["code"]), question_field(question["code"], SPANISH)]
    values = {name: (form.get(name) or "").strip() for name in names}
    for question in category["attributes"]:
        box = question_field(question["code"], "required")
        values[box] = "on" if form.get(box) else ""
    errors = {name: "required" for name in names if name in _required(category) and not values[name]}
    if values["acknowledge_hours"] and _hours(values["acknowledge_hours"]) is None:
        errors["acknowledge_hours"] = "hours"
    return CategoryForm(values, errors)


def patch_of(typed: CategoryForm, category: dict[str, Any]) -> dict[str, Any]:
    """The merge patch for a form without errors. An empty Spanish field removes that word (null), so
    the English shows instead; questions added since the form was shown would be kept as they are,
    since the list sent is the stored one with only the shown questions' wording changed."""
    values = typed.values
    questions, spanish_questions = [], {}
    for question in category["attributes"]:
        code = question["code"]
        if question_field(code) not in values:
            questions.append(question)
            continue
        questions.append(
            {
                **question,
                "description": values[question_field(code)],
                "required": values[question_field(code, "required")] == "on",
            }
        )
        spanish_questions[code] = {"description": values[question_field(code, SPANISH)] or None}
    spanish: dict[str, Any] = {"name": values["name_es"] or None}
    if spanish_questions:
        spanish["attributes"] = spanish_questions
    return {
        "name": values["name"],
        "acknowledge_hours": _hours(values["acknowledge_hours"]),
        "attributes": questions,
        "translations": {SPANISH: spanish},
    }


def api_errors(details: Any) -> dict[str, str]:
    """concerns' 400 details as the form's fields (a name too long, say); anything else (a question's
    wording too long, a Spanish question) as the questions' part."""
    if not isinstance(details, dict):
        return {"questions": "invalid"}
    errors = {name: "invalid" for name in ("name", "acknowledge_hours") if name in details}
    translations = details.get("translations")
    spanish = translations.get(SPANISH) if isinstance(translations, dict) else None
    words = spanish.get("value") if isinstance(spanish, dict) else None  # marshmallow's Dict: errors of values
    if isinstance(words, dict) and "name" in words:
        errors["name_es"] = "invalid"
    return errors or {"questions": "invalid"}


def _required(category: dict[str, Any]) -> set[str]:
    return {"name", "acknowledge_hours", *(question_field(question["code"]) for question in category["attributes"])}


def _hours(text: str) -> int | None:
    if not text.isdigit():
        return None
    hours = int(text)
    return hours if 1 <= hours <= MAX_HOURS else None
