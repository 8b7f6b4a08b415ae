"""Definitions, scoring and reverse coding."""

import pytest

from beat_shared.errors import InvalidInput
from surveys.domain.definitions import (
    check_definition,
    construct_scores,
    expand_question,
    localise,
    score_answer,
    score_response,
)
from surveys.domain.item_bank import CONSTRUCTS, ITEM_BANK, post_contact_survey, standard_survey
from surveys.domain.periods import period_bounds, quarter_of


def q(item, **overrides):
    return expand_question({"item": item, **overrides}, 0)


def test_likert_scores_and_reverse_coding():
    assert score_answer(q("police_respect"), 4).score == 75.0  # (4-1)·25
    assert score_answer(q("police_unfair"), 4).score == 25.0  # reversed: 100 - 75
    assert score_answer(q("problem_drugs"), 5).score == 0.0  # a very big problem: worst
    assert score_answer(q("problem_drugs"), 1).score == 100.0


def test_scale_and_choice_scores():
    assert score_answer(q("safety_change"), 7).score == 70.0
    assert score_answer(q("safety_change", reverse=True), 7).score == pytest.approx(30.0)
    assert score_answer(q("safety_after_dark"), "fairly_safe").score == pytest.approx(66.67)
    assert score_answer(q("safety_after_dark"), "dont_know").score is None
    assert score_answer(q("police_good_job"), "fair").score == 50.0


def test_unscored_types_keep_their_value():
    assert score_answer(q("years_in_area"), 12).value_num == 12.0
    assert score_answer(q("problems_seen"), ["graffiti", "litter"]).value_text == "graffiti,litter"
    assert score_answer(q("comments"), "  more lights  ").value_text == "more lights"


@pytest.mark.parametrize(
    ("item", "value"),
    [
        ("police_respect", 6),
        ("police_respect", "4"),
        ("police_respect", True),
        ("safety_change", 11),
        ("safety_after_dark", "terrified"),
        ("problems_seen", []),
        ("problems_seen", ["aliens"]),
        ("years_in_area", 150),
        ("years_in_area", "ten"),
        ("comments", "x" * 2001),
    ],
)
def test_bad_answers_are_refused(item, value):
    with pytest.raises(InvalidInput):
        score_answer(q(item), value)


def test_construct_score_is_the_mean_of_the_respondents_items():
    questions = [q("police_respect"), q("police_unfair"), q("police_listen")]
    scored = score_response(questions, {"police_respect": 5, "police_unfair": 5, "police_listen": 3})
    assert construct_scores(questions, scored) == {"respect": 50.0, "voice": 50.0}  # (100 + 0)/2


def test_required_and_unknown_answers():
    questions = [q("police_respect"), q("comments", required=False)]
    with pytest.raises(InvalidInput):
        score_response(questions, {"comments": "hi"})
    with pytest.raises(InvalidInput):
        score_response(questions, {"police_respect": 3, "nonsense": 1})
    assert len(score_response(questions, {"police_respect": 3})) == 1


def test_every_bank_text_exists_in_english_and_spanish():
    for item in ITEM_BANK.values():
        expanded = expand_question({"item": item["item_code"]}, 0)
        assert expanded["text"]["en"] and expanded["text"]["es"]
    assert all(label["en"] and label["es"] for label in CONSTRUCTS.values())
    for definition in (standard_survey(), post_contact_survey()):
        checked = check_definition(definition)
        assert {q["construct"] for q in checked["questions"]} - {None} <= set(CONSTRUCTS)


def test_bank_covers_the_required_constructs_and_types():
    constructs = {item["construct"] for item in ITEM_BANK.values()}
    assert {"safety", "trust", "respect", "voice", "disorder", "efficacy"} <= constructs
    types = {item["type"] for item in ITEM_BANK.values()}
    assert types == {"likert_5", "scale_0_10", "single_choice", "multiple_choice", "numeric", "free_text"}
    assert any(item["reverse"] for item in ITEM_BANK.values() if item["construct"] == "efficacy")


def test_a_definition_without_spanish_is_refused():
    definition = {
        "code": "custom",
        "kind": "wave",
        "title": {"en": "Custom"},
        "questions": [{"item": "police_respect"}],
    }
    with pytest.raises(InvalidInput, match="es"):
        check_definition(definition)
    definition["title"]["es"] = "Personalizada"
    definition["questions"] = [
        {"item_code": "lights", "type": "likert_5", "text": {"en": "Street lights work."}, "construct": "safety"}
    ]
    with pytest.raises(InvalidInput, match="es"):
        check_definition(definition)


def test_localise_picks_one_language():
    survey = check_definition(post_contact_survey())
    spanish = localise(survey, "es")
    assert spanish["title"] == "¿Cómo lo hicimos?"
    assert spanish["questions"][1]["options"][0]["label"] == "Sí"


def test_periods():
    start, end = period_bounds("2026-Q1")
    assert (start.month, end.month, end.year) == (1, 4, 2026)
    start, end = period_bounds("2025-12")
    assert (start.month, end.year, end.month) == (12, 2026, 1)
    assert quarter_of(start) == "2025-Q4"
    with pytest.raises(InvalidInput):
        period_bounds("2026-Q5")
