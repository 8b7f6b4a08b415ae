"""The administrator's category form, read and turned into a merge patch (pure: no service)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from web.domain import category_form

CATEGORY = {
    "code": "noise",
    "name": "Noise",
    "acknowledge_hours": 72,
    "attributes": [
        {"code": "when", "datatype": "singlevaluelist", "order": 1, "required": True, "description": "When?"},
        {"code": "how_loud", "datatype": "string", "order": 2, "required": False, "description": "How loud?"},
    ],
    "translations": {
        "es": {"name": "Ruido", "description": "Ruido", "attributes": {"when": {"description": "¿Cuándo?"}}}
    },
}


def posted(**changes: str) -> MultiDict:
    values = {**category_form.values_of(CATEGORY), **changes}
    return MultiDict({name: value for name, value in values.items() if value})  # an unticked box is not sent


def test_the_form_is_filled_from_the_category():
    values = category_form.values_of(CATEGORY)
    assert (values["name"], values["name_es"], values["acknowledge_hours"]) == ("Noise", "Ruido", "72")
    assert (values["q-when"], values["q-when-es"], values["q-when-required"]) == ("When?", "¿Cuándo?", "on")
    assert (values["q-how_loud-es"], values["q-how_loud-required"]) == ("", "")


def test_the_patch_names_what_the_form_edits_and_keeps_each_questions_other_parts():
    typed = category_form.read(
        posted(name=" Loud noise ", acknowledge_hours="24", **{"q-how_loud-required": "on"}), CATEGORY
    )
    assert typed.errors == {}
    patch = category_form.patch_of(typed, CATEGORY)
    assert patch["name"] == "Loud noise" and patch["acknowledge_hours"] == 24
    assert [question["required"] for question in patch["attributes"]] == [True, True]
    assert patch["attributes"][0] == CATEGORY["attributes"][0]  # nothing else of a question changes
    spanish = patch["translations"]["es"]
    assert spanish == {
        "name": "Ruido",
        "attributes": {"when": {"description": "¿Cuándo?"}, "how_loud": {"description": None}},
    }
    assert "description" not in spanish  # the Spanish description is not the form's: the patch leaves it


def test_empty_spanish_words_are_removed_so_the_english_shows():
    patch = category_form.patch_of(category_form.read(posted(name_es=""), CATEGORY), CATEGORY)
    assert patch["translations"]["es"]["name"] is None


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"name": "  "}, "name", "required"),
        ({"acknowledge_hours": ""}, "acknowledge_hours", "required"),
        ({"acknowledge_hours": "0"}, "acknowledge_hours", "hours"),
        ({"acknowledge_hours": "721"}, "acknowledge_hours", "hours"),
        ({"acknowledge_hours": "1.5"}, "acknowledge_hours", "hours"),
        ({"acknowledge_hours": "-2"}, "acknowledge_hours", "hours"),
        ({"q-when": ""}, "q-when", "required"),
    ],
)
def test_what_the_form_refuses(changes, field, problem):
    assert category_form.read(posted(**changes), CATEGORY).errors == {field: problem}


def test_concerns_errors_land_beside_their_fields():
    assert category_form.api_errors({"name": ["too long"]}) == {"name": "invalid"}
    assert category_form.api_errors({"translations": {"es": {"value": {"name": ["too long"]}}}}) == {
        "name_es": "invalid"
    }
    assert category_form.api_errors({"attributes": {"0": {"description": ["too long"]}}}) == {"questions": "invalid"}
    assert category_form.api_errors("odd") == {"questions": "invalid"}
