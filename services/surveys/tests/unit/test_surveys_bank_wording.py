"""Issue 21, point 12: a survey that announces how many questions it has announces the right number."""

import re

import pytest

from surveys.domain.item_bank import post_contact_survey, standard_survey

NUMBERS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"],
    "es": ["cero", "una", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez"],
}
QUESTIONS = {"en": "questions", "es": "preguntas"}


@pytest.mark.parametrize("definition", [standard_survey(), post_contact_survey()], ids=lambda d: d["code"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_description_counts_the_questions_it_asks(definition, language):
    text = definition["description"][language].lower()
    said = re.search(rf"\b(\w+) (?:quick |)(?:{QUESTIONS[language]})\b|\b(\w+) {QUESTIONS[language]} \w+", text)
    if said is None:
        return  # this description does not count its questions
    word = said.group(1) or said.group(2)
    assert word in NUMBERS[language], f"{text!r}: {word!r} is not a number we know"
    assert NUMBERS[language].index(word) == len(definition["questions"]), text
