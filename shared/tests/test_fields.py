"""Shared marshmallow helpers: UtcDateTime (what PostgreSQL can store, or a validation error,
never a database 500) and schema_instance (one reusable schema per type and mode)."""

from datetime import UTC, datetime

import pytest
from marshmallow import Schema, ValidationError, fields

from beat_shared.fields import UtcDateTime, schema_instance


class Window(Schema):
    since = UtcDateTime()
    naive_is_utc = UtcDateTime(default_timezone=UTC)


def test_offsets_beyond_postgresqls_range_are_loaded_as_utc():
    loaded = Window().load({"since": "0056-08-31T03:52:56-19:31"})["since"]
    assert loaded == datetime(56, 8, 31, 23, 23, 56, tzinfo=UTC) and loaded.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00", "2026-01-01T00:00:00"])
def test_values_without_a_utc_equivalent_or_offset_are_refused(value):
    with pytest.raises(ValidationError):
        Window().load({"since": value})


def test_a_default_time_zone_makes_naive_values_utc():
    assert Window().load({"naive_is_utc": "2026-01-01T00:00:00"})["naive_is_utc"] == datetime(2026, 1, 1, tzinfo=UTC)


class Pair(Schema):
    name = fields.String(required=True)
    size = fields.Integer(required=True)


def test_schema_instance_is_built_once_per_schema_and_mode() -> None:
    assert schema_instance(Pair) is schema_instance(Pair)
    assert schema_instance(Pair, partial=True) is not schema_instance(Pair)
    assert schema_instance(Pair, partial=True).partial is True


def test_a_reused_schema_keeps_nothing_from_an_earlier_load() -> None:
    schema = schema_instance(Pair)
    with pytest.raises(ValidationError) as refused:
        schema.load({"name": 3})
    assert set(refused.value.messages) == {"name", "size"}
    assert schema.load({"name": "a", "size": 2}) == {"name": "a", "size": 2}
    with pytest.raises(ValidationError) as partly:
        schema.load({"name": "b"})
    assert refused.value.messages != partly.value.messages
    assert set(partly.value.messages) == {"size"}
    assert schema_instance(Pair, partial=True).load({"name": "b"}) == {"name": "b"}
