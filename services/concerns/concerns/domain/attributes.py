"""Per-category attributes (Open311 service definitions) and the answers residents give."""

from __future__ import annotations

import math
from typing import Any

from beat_shared.errors import InvalidInput
from beat_shared.isotime import parse_iso

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_DATATYPES = ("singlevaluelist", "multivaluelist")
MAX_ANSWER_LENGTH = 1000


def check_definitions(definitions: list[dict[str, Any]]) -> None:
    """A category's attribute definitions must be coherent (unique codes and orders, list values)."""
    codes = [definition["code"] for definition in definitions]
    if len(set(codes)) != len(codes):
        raise InvalidInput("attribute codes must be unique", {"attributes": ["duplicate code"]})
    orders = [definition["order"] for definition in definitions]
    if len(set(orders)) != len(orders):
        raise InvalidInput("attribute orders must be unique", {"attributes": ["duplicate order"]})
    for definition in definitions:
        if definition["datatype"] in LIST_DATATYPES and not definition.get("values"):
            raise InvalidInput(
                f"attribute {definition['code']} is a list and needs values",
                {"attributes": [f"{definition['code']}: values required"]},
            )


def clean_answers(definitions: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    """The answers checked against the definitions; InvalidInput names every bad attribute.

    Unknown codes are refused (a typo would otherwise be silently dropped); values of list
    attributes must be among the defined keys; required variable attributes must be there.
    """
    by_code = {definition["code"]: definition for definition in definitions if definition.get("variable", True)}
    problems: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for code, value in answers.items():
        definition = by_code.get(code)
        if definition is None:
            problems[code] = ["this category has no such attribute"]
            continue
        try:
            cleaned[code] = _clean(definition, value)
        except ValueError as error:
            problems[code] = [str(error)]
    for code, definition in by_code.items():
        if definition.get("required") and _blank(cleaned.get(code)) and code not in problems:
            problems[code] = ["required"]
    if problems:
        raise InvalidInput("some attributes are missing or invalid", {"attributes": problems})
    return {code: value for code, value in cleaned.items() if not _blank(value)}


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def _clean(definition: dict[str, Any], value: Any) -> Any:
    datatype = definition["datatype"]
    keys = {str(item["key"]) for item in definition.get("values") or []}
    if datatype == "multivaluelist":
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
            raise ValueError("must be a list of keys")
        chosen = [str(v) for v in values if str(v) != ""]
        unknown = [v for v in chosen if v not in keys]
        if unknown:
            raise ValueError(f"unknown value(s) {', '.join(unknown)}; choose from {', '.join(sorted(keys))}")
        return chosen
    if isinstance(value, (list, dict, bool)):
        raise ValueError("must be a single value")
    if value is None or value == "":
        return None
    if datatype == "singlevaluelist":
        if str(value) not in keys:
            raise ValueError(f"unknown value {value}; choose from {', '.join(sorted(keys))}")
        return str(value)
    if datatype == "number":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError("must be a number")
        if not math.isfinite(number):
            raise ValueError("must be a finite number")
        return int(number) if number.is_integer() else number
    text = str(value)
    if len(text) > MAX_ANSWER_LENGTH:
        raise ValueError(f"at most {MAX_ANSWER_LENGTH} characters")
    if datatype == "datetime":
        try:
            moment = parse_iso(text)
        except ValueError:
            raise ValueError("must be an ISO 8601 date-time")
        return moment.isoformat()
    if datatype == "string" and ("\n" in text or "\r" in text):
        raise ValueError("must be a single line")
    return text
