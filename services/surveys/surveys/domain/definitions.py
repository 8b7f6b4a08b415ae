"""Survey definitions: questions, their types and texts, and how answers are scored.

Pure rules, no database: a definition is checked and expanded here (bank items
filled in, every text present in every required language), and each answer is
validated and turned into the numbers results are built from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from beat_shared.errors import InvalidInput
from surveys.domain.item_bank import CONSTRUCTS, ITEM_BANK

QUESTION_TYPES = ("likert_5", "scale_0_10", "single_choice", "multiple_choice", "numeric", "free_text")
SURVEY_KINDS = ("wave", "post_contact")
REQUIRED_LANGUAGES = ("en", "es")
MAX_FREE_TEXT = 2000


def check_texts(texts: Any, where: str, languages: tuple[str, ...] = REQUIRED_LANGUAGES) -> dict[str, str]:
    """A {language: text} map with a non-empty text in every required language."""
    if not isinstance(texts, dict):
        raise InvalidInput(f"{where} must be an object of texts by language", {where: ["not an object"]})
    missing = [lang for lang in languages if not str(texts.get(lang) or "").strip()]
    if missing:
        raise InvalidInput(f"{where} lacks a text in {', '.join(missing)}", {where: [f"missing {missing}"]})
    return {str(lang): str(text) for lang, text in texts.items()}


def expand_question(raw: dict[str, Any], position: int) -> dict[str, Any]:
    """A full question from a bank reference (`{"item": code}`) or an explicit question."""
    where = f"questions[{position}]"
    if "item" in raw:
        bank = ITEM_BANK.get(raw["item"])
        if bank is None:
            raise InvalidInput(f"{where}: {raw['item']!r} is not in the item bank", {where: ["unknown item"]})
        question = {**bank, **{k: v for k, v in raw.items() if k != "item"}}
    else:
        question = dict(raw)
    code = str(question.get("item_code") or "")
    if not code or len(code) > 64:
        raise InvalidInput(f"{where}: item_code is required (at most 64 characters)", {where: ["item_code"]})
    kind = question.get("type")
    if kind not in QUESTION_TYPES:
        raise InvalidInput(f"{where}: type must be one of {QUESTION_TYPES}", {where: ["type"]})
    construct = question.get("construct")
    if construct is not None and construct not in CONSTRUCTS:
        raise InvalidInput(f"{where}: construct must be one of {sorted(CONSTRUCTS)}", {where: ["construct"]})
    question["text"] = check_texts(question.get("text"), f"{where}.text")
    question["options"] = _check_options(question, where)
    question["reverse"] = bool(question.get("reverse", False))
    question["required"] = bool(question.get("required", True))
    question["construct"] = construct
    if construct is not None and not _scored(question):
        raise InvalidInput(f"{where}: only scored questions can belong to a construct", {where: ["construct"]})
    return question


def _check_options(question: dict[str, Any], where: str) -> list[dict[str, Any]]:
    kind = question["type"]
    options = question.get("options") or []
    if kind in ("single_choice", "multiple_choice") and len(options) < 2:
        raise InvalidInput(f"{where}: a choice question needs at least two options", {where: ["options"]})
    checked = []
    seen: set[Any] = set()
    for index, option in enumerate(options):
        if not isinstance(option, dict) or "value" not in option:
            raise InvalidInput(f"{where}.options[{index}] needs a value", {where: ["options"]})
        if option["value"] in seen:
            raise InvalidInput(f"{where}: option values must be unique", {where: ["options"]})
        seen.add(option["value"])
        score = option.get("score")
        if score is not None and not (isinstance(score, (int, float)) and 0 <= score <= 100):
            raise InvalidInput(f"{where}.options[{index}].score must be within 0-100", {where: ["options"]})
        checked.append({**option, "label": check_texts(option.get("label"), f"{where}.options[{index}].label")})
    return checked


def _scored(question: dict[str, Any]) -> bool:
    if question["type"] in ("likert_5", "scale_0_10"):
        return True
    return question["type"] == "single_choice" and any(o.get("score") is not None for o in question["options"])


def check_definition(body: dict[str, Any]) -> dict[str, Any]:
    """A complete, checked survey definition; raises InvalidInput naming the problem."""
    if body.get("kind") not in SURVEY_KINDS:
        raise InvalidInput(f"kind must be one of {SURVEY_KINDS}", {"kind": ["invalid"]})
    questions = body.get("questions") or []
    if not questions:
        raise InvalidInput("a survey needs at least one question", {"questions": ["empty"]})
    expanded = [expand_question(raw, position) for position, raw in enumerate(questions)]
    codes = [q["item_code"] for q in expanded]
    if len(set(codes)) != len(codes):
        raise InvalidInput("item codes must be unique within a survey", {"questions": ["duplicate item_code"]})
    return {
        "code": body["code"],
        "kind": body["kind"],
        "title": check_texts(body.get("title"), "title"),
        "description": check_texts(body.get("description") or {"en": "-", "es": "-"}, "description"),
        "questions": expanded,
    }


@dataclass(frozen=True)
class ScoredAnswer:
    """One answer as stored: the raw value and its 0-100 score (None when unscored)."""

    item_code: str
    value_num: float | None
    value_text: str | None
    score: float | None


def score_answer(question: dict[str, Any], value: Any) -> ScoredAnswer:
    """Validate an answer against its question and score it; raises InvalidInput.

    Likert 1-5 → (v-1)·25, 0-10 → v·10, ordered single choice → the option's score;
    reverse-coded items are mirrored (100 - score) so higher is always better.
    """
    code = question["item_code"]
    kind = question["type"]
    problem = {code: ["invalid answer"]}
    score: float | None = None
    number: float | None = None
    text: str | None = None
    if kind == "likert_5":
        number = _whole_number(value, 1, 5, code)
        score = (number - 1) * 25.0
    elif kind == "scale_0_10":
        number = _whole_number(value, 0, 10, code)
        score = number * 10.0
    elif kind == "single_choice":
        option = next((o for o in question["options"] if o["value"] == value), None)
        if option is None:
            raise InvalidInput(f"{code}: not one of the options", problem)
        text = str(value)
        score = None if option.get("score") is None else float(option["score"])
    elif kind == "multiple_choice":
        allowed = {o["value"] for o in question["options"]}
        if not isinstance(value, list) or not value or any(v not in allowed for v in value):
            raise InvalidInput(f"{code}: a list of the options is expected", problem)
        text = ",".join(sorted({str(v) for v in value}))
    elif kind == "numeric":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidInput(f"{code}: a number is expected", problem)
        low, high = question.get("min"), question.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise InvalidInput(f"{code}: out of range", problem)
        number = float(value)
    else:  # free_text
        if not isinstance(value, str) or len(value) > int(question.get("max_length") or MAX_FREE_TEXT):
            raise InvalidInput(f"{code}: text of at most {MAX_FREE_TEXT} characters is expected", problem)
        text = value.strip()
    if score is not None and question["reverse"]:
        score = 100.0 - score
    return ScoredAnswer(code, number, text, score)


def _whole_number(value: Any, low: int, high: int, code: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{code}: a whole number from {low} to {high} is expected", {code: ["out of range"]})
    return float(value)


def score_response(questions: list[dict[str, Any]], answers: dict[str, Any]) -> list[ScoredAnswer]:
    """Every answer scored; required questions must be answered, unknown items are refused."""
    by_code = {q["item_code"]: q for q in questions}
    unknown = sorted(set(answers) - set(by_code))
    if unknown:
        raise InvalidInput("answers name questions this survey does not have", {"answers": unknown})
    missing = [q["item_code"] for q in questions if q["required"] and answers.get(q["item_code"]) in (None, "", [])]
    if missing:
        raise InvalidInput("required questions are unanswered", {"answers": missing})
    return [score_answer(by_code[code], value) for code, value in answers.items() if value is not None and value != ""]


def construct_scores(questions: list[dict[str, Any]], scored: list[ScoredAnswer]) -> dict[str, float]:
    """A respondent's score per construct: the mean of their scored items in it."""
    construct_of = {q["item_code"]: q["construct"] for q in questions}
    collected: dict[str, list[float]] = {}
    for answer in scored:
        construct = construct_of.get(answer.item_code)
        if construct is not None and answer.score is not None:
            collected.setdefault(construct, []).append(answer.score)
    return {construct: sum(values) / len(values) for construct, values in collected.items()}


def localise(definition: dict[str, Any], language: str) -> dict[str, Any]:
    """The definition with texts in one language (falling back to English)."""

    def pick(texts: dict[str, str]) -> str:
        return texts.get(language) or texts["en"]

    return {
        **{k: v for k, v in definition.items() if k not in ("title", "description", "questions")},
        "language": language,
        "title": pick(definition["title"]),
        "description": pick(definition["description"]),
        "questions": [
            {
                "item_code": q["item_code"],
                "type": q["type"],
                "required": q["required"],
                "text": pick(q["text"]),
                "options": [{"value": o["value"], "label": pick(o["label"])} for o in q["options"]],
                **{k: q[k] for k in ("min", "max") if q.get(k) is not None},
            }
            for q in definition["questions"]
        ],
    }
