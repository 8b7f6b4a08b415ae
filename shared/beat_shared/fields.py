"""marshmallow fields every service's schemas share."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError, fields

# The integers a database column can hold: SQLite's INTEGER and PostgreSQL's bigint are both 64-bit
# signed. A larger number sent to either fails inside the driver (a 500), so it is refused first.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
OUT_OF_RANGE = f"must be between {INT64_MIN} and {INT64_MAX}"


@cache
def schema_instance(schema_type: type[Schema], partial: bool = False) -> Schema:
    """One instance per schema and mode, reused: building a schema deep-copies its fields, which
    costs more than loading a body with it (~0.1 ms), and loading keeps no state in the instance."""
    return schema_type(partial=partial)


class UtcDateTime(fields.AwareDateTime):
    """An RFC 3339 date-time with an offset, loaded as UTC.

    Python accepts offsets up to ±23:59 and PostgreSQL only up to ±15:59, so an aware value
    passed on as received can make the database refuse a query (a 500); in UTC it cannot.
    A value that has no UTC equivalent (before year 1 or after 9999) is a validation error.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", "iso")
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except OverflowError as error:
            raise ValidationError("the date-time is out of range") from error


def out_of_range_integers(data: Any, path: str = "") -> dict[str, list[str]]:
    """Where in loaded data (dicts, lists) an integer lies beyond 64 bits: {"a.b.0": [message]}.
    Checked once on every request body (`beat_shared.http.read_json`), whatever its schema's
    fields: a JSON 1e30 loads as a Python int through marshmallow's Integer too."""
    if isinstance(data, bool):
        return {}
    if isinstance(data, int):
        return {} if INT64_MIN <= data <= INT64_MAX else {path or "body": [OUT_OF_RANGE]}
    if isinstance(data, dict):
        items: Any = data.items()
    elif isinstance(data, list | tuple):
        items = enumerate(data)
    else:
        return {}
    found: dict[str, list[str]] = {}
    for key, value in items:
        found |= out_of_range_integers(value, f"{path}.{key}" if path else str(key))
    return found
