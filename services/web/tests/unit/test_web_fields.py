"""What the forms read alike: a typed date, and a service's 400 details by the form's fields."""

from __future__ import annotations

from web.domain.fields import field_errors, is_date


def test_a_date_is_what_a_date_field_sends():
    assert is_date("2026-02-28")
    assert not is_date("2026-02-30")
    assert not is_date("28/02/2026")
    assert not is_date("")


def test_details_become_the_forms_fields_with_the_first_message_each():
    details = {"client": {"email": ["not an e-mail", "second"], "name": "missing"}, "need": ["unknown"], "x": []}
    renamed = field_errors(details, ("client",), lambda part, name: f"{part}:{name}" if part else name)
    assert renamed == {"client:email": "not an e-mail", "client:name": "missing", "need": "unknown", "x": "[]"}


def test_a_nested_part_that_is_not_a_mapping_is_one_field_and_no_details_are_no_fields():
    assert field_errors({"client": ["refused"]}, ("client",), lambda part, name: name) == {"client": "refused"}
    assert field_errors(None, ("client",), lambda part, name: name) == {}
    assert field_errors(["refused"], ("client",), lambda part, name: name) == {}
