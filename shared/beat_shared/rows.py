"""Copying between a table row and plain data: what an event or a view says of a row, and an
edit applied to it. Events carry facts (ids, codes, statuses) read off the row by name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol


class Emit(Protocol):
    """The event recorder a use case is given (the outbox writer's `add`, or a test's recorder)."""

    def __call__(
        self, event_type: str, subject: str, data: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Any: ...


def fields_of(row: Any, names: Iterable[str], **renamed: str) -> dict[str, Any]:
    """`{name: row.name}` for each name, and `{key: row.<column>}` for each `key="column"` in
    `renamed` (an event's `referral_id` is the row's `id`)."""
    copied = {key: getattr(row, column) for key, column in renamed.items()}
    copied.update((name, getattr(row, name)) for name in names)
    return copied


def assign_fields(row: Any, data: Mapping[str, Any], names: Iterable[str], *, to: Callable[[str], str] = str) -> None:
    """Set the row's attribute `to(name)` from `data[name]`, for each name that `data` holds
    (a partial edit leaves the others as they are)."""
    for name in names:
        if name in data:
            setattr(row, to(name), data[name])
