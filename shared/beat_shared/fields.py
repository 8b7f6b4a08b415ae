"""marshmallow fields every service's schemas share."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from marshmallow import Schema, ValidationError, fields


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
