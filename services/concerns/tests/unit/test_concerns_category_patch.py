"""JSON Merge Patch over a category's definition (RFC 7396's own examples, and what a form sends)."""

from __future__ import annotations

import pytest

from concerns.domain.categories import merge_patch, patched_definition


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [  # RFC 7396, appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7396(target, patch, result):
    assert merge_patch(target, patch) == result


def test_the_target_is_left_as_it_was():
    target = {"translations": {"es": {"name": "Ruido", "description": "Ruido por la noche"}}}
    merge_patch(target, {"translations": {"es": {"name": "Ruidos"}}})
    assert target["translations"]["es"]["name"] == "Ruido"


def test_a_spanish_name_keeps_the_other_translated_words_and_the_rest():
    stored = {
        "code": "noise",
        "name": "Noise",
        "attributes": [{"code": "when", "order": 1}],
        "translations": {"es": {"name": "Ruido", "attributes": {"when": {"description": "¿Cuándo?"}}}},
        "language": "en",  # a view's field, not the definition's
    }
    patched = patched_definition(stored, {"translations": {"es": {"name": "Ruidos"}}, "acknowledge_hours": 12})
    assert patched == {
        "code": "noise",
        "name": "Noise",
        "attributes": [{"code": "when", "order": 1}],
        "acknowledge_hours": 12,
        "translations": {"es": {"name": "Ruidos", "attributes": {"when": {"description": "¿Cuándo?"}}}},
    }
