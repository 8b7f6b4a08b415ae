"""What the pages' forms read the same way: a typed date, and a service's 400 details turned into
the form's own field names (the first message of each)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from typing import Any


def is_date(text: str) -> bool:
    """`text` is a date as a date field sends it (YYYY-MM-DD)."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def field_errors(details: Any, nested: Collection[str], field: Callable[[str, str], str]) -> dict[str, str]:
    """A service's 400 details by the form's fields: a part named in `nested` holds its fields'
    messages (`{"contact": {"email": [...]}}`), each kept under `field(part, name)`; any other
    message under `field("", name)`. {} when the details name no field."""
    errors: dict[str, str] = {}
    if not isinstance(details, dict):
        return errors
    for outer, problem in details.items():
        if outer in nested and isinstance(problem, dict):
            for inner, messages in problem.items():
                errors[field(outer, inner)] = first_message(messages)
        else:
            errors[field("", outer)] = first_message(problem)
    return errors


def first_message(messages: Any) -> str:
    return str(messages[0]) if isinstance(messages, list) and messages else str(messages)
