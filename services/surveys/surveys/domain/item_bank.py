"""The standard item bank and the two surveys Beat ships.

Wording follows the Crime Survey for England and Wales (perceived safety, police
doing a good job, neighbourhood problems), the procedural-justice trust items
(respect, listening, reliability) and Sampson et al. (1997) collective efficacy.
Every text is given in English and Spanish.

Scores run 0-100 with higher always better for the resident: a disorder score of
100 means no perceived disorder, which is why the disorder items are reverse coded.
"""

from __future__ import annotations

from typing import Any

CONSTRUCTS: dict[str, dict[str, str]] = {
    "safety": {"en": "Feeling safe", "es": "Sensación de seguridad"},
    "trust": {"en": "Trust in police", "es": "Confianza en la policía"},
    "respect": {"en": "Respect", "es": "Respeto"},
    "voice": {"en": "Being listened to", "es": "Ser escuchado"},
    "disorder": {"en": "Free of disorder", "es": "Sin desorden"},
    "efficacy": {"en": "Collective efficacy", "es": "Eficacia colectiva"},
    "satisfaction": {"en": "Satisfaction", "es": "Satisfacción"},
    "procedural_justice": {"en": "Procedural justice", "es": "Justicia procedimental"},
}

STANDARD_SURVEY_CODE = "standard"
POST_CONTACT_SURVEY_CODE = "post-contact"

DONT_KNOW = {"value": "dont_know", "label": {"en": "Don't know", "es": "No sé"}}


def _numbered(*labels: tuple[str, str]) -> list[dict[str, Any]]:
    """A 1-to-n answer scale from its labels in English and Spanish."""
    return [{"value": value, "label": {"en": en, "es": es}} for value, (en, es) in enumerate(labels, 1)]


def _scored(*options: tuple[str, float, str, str]) -> list[dict[str, Any]]:
    """Answer options with the score (0-100) each one counts for."""
    return [{"value": value, "score": score, "label": {"en": en, "es": es}} for value, score, en, es in options]


AGREE_5 = _numbered(
    ("Strongly disagree", "Muy en desacuerdo"),
    ("Disagree", "En desacuerdo"),
    ("Neither agree nor disagree", "Ni de acuerdo ni en desacuerdo"),
    ("Agree", "De acuerdo"),
    ("Strongly agree", "Muy de acuerdo"),
)

SAFE_4 = [
    *_scored(
        ("very_safe", 100, "Very safe", "Muy seguro"),
        ("fairly_safe", 66.67, "Fairly safe", "Bastante seguro"),
        ("a_bit_unsafe", 33.33, "A bit unsafe", "Algo inseguro"),
        ("very_unsafe", 0, "Very unsafe", "Muy inseguro"),
    ),
    DONT_KNOW,
]

PROBLEM_5 = _numbered(
    ("Not a problem at all", "Nada problemático"),
    ("Not a very big problem", "Un problema poco importante"),
    ("Somewhat of a problem", "Algo problemático"),
    ("A fairly big problem", "Un problema bastante grande"),
    ("A very big problem", "Un problema muy grande"),
)

JOB_5 = _scored(
    ("excellent", 100, "Excellent", "Excelente"),
    ("good", 75, "Good", "Bueno"),
    ("fair", 50, "Fair", "Regular"),
    ("poor", 25, "Poor", "Malo"),
    ("very_poor", 0, "Very poor", "Muy malo"),
)


def _agree(code: str, construct: str, en: str, es: str, reverse: bool = False) -> dict[str, Any]:
    return {
        "item_code": code,
        "type": "likert_5",
        "construct": construct,
        "reverse": reverse,
        "text": {"en": en, "es": es},
        "options": AGREE_5,
    }


def _problem(code: str, en: str, es: str) -> dict[str, Any]:
    # "How big a problem is X": agreeing that it is a big problem is the unfavourable end.
    return {
        "item_code": code,
        "type": "likert_5",
        "construct": "disorder",
        "reverse": True,
        "text": {
            "en": f"How much of a problem is {en} in this area?",
            "es": f"¿Qué tan problemático es {es} en esta zona?",
        },
        "options": PROBLEM_5,
    }


ITEM_BANK: dict[str, dict[str, Any]] = {
    item["item_code"]: item
    for item in [
        {
            "item_code": "safety_after_dark",
            "type": "single_choice",
            "construct": "safety",
            "reverse": False,
            "text": {
                "en": "How safe do you feel walking alone in this area after dark?",
                "es": "¿Qué tan seguro se siente caminando solo por esta zona de noche?",
            },
            "options": SAFE_4,
        },
        {
            "item_code": "safety_by_day",
            "type": "single_choice",
            "construct": "safety",
            "reverse": False,
            "text": {
                "en": "How safe do you feel walking alone in this area during the day?",
                "es": "¿Qué tan seguro se siente caminando solo por esta zona de día?",
            },
            "options": SAFE_4,
        },
        {
            "item_code": "police_good_job",
            "type": "single_choice",
            "construct": "trust",
            "reverse": False,
            "text": {
                "en": "How good a job are the police in this area doing?",
                "es": "¿Qué tan buen trabajo está haciendo la policía en esta zona?",
            },
            "options": JOB_5,
        },
        _agree(
            "police_reliable",
            "trust",
            "The police in this area can be relied on to be there when you need them.",
            "Se puede contar con la policía de esta zona cuando se la necesita.",
        ),
        _agree(
            "police_respect",
            "respect",
            "The police in this area treat people with respect.",
            "La policía de esta zona trata a las personas con respeto.",
        ),
        _agree(
            "police_unfair",
            "respect",
            "The police in this area treat some people unfairly.",
            "La policía de esta zona trata injustamente a algunas personas.",
            reverse=True,
        ),
        _agree(
            "police_listen",
            "voice",
            "The police in this area listen to and take into account residents' concerns.",
            "La policía de esta zona escucha y tiene en cuenta las preocupaciones de los vecinos.",
        ),
        _agree(
            "police_understand",
            "voice",
            "The police in this area understand the issues that affect this community.",
            "La policía de esta zona entiende los problemas que afectan a esta comunidad.",
        ),
        _problem("problem_drugs", "people using or dealing drugs", "el consumo o la venta de drogas"),
        _problem("problem_vandalism", "vandalism and graffiti", "el vandalismo y los grafitis"),
        _problem("problem_groups", "groups hanging around the streets", "los grupos que se reúnen en la calle"),
        _problem("problem_noise", "noisy neighbours or loud parties", "el ruido de vecinos o fiestas"),
        _agree(
            "efficacy_help",
            "efficacy",
            "People around here are willing to help their neighbours.",
            "La gente de aquí está dispuesta a ayudar a sus vecinos.",
        ),
        _agree(
            "efficacy_close_knit",
            "efficacy",
            "This is a close-knit neighbourhood.",
            "Este es un barrio muy unido.",
        ),
        _agree(
            "efficacy_trusted",
            "efficacy",
            "People in this neighbourhood can be trusted.",
            "Se puede confiar en la gente de este barrio.",
        ),
        _agree(
            "efficacy_not_get_along",
            "efficacy",
            "People in this neighbourhood generally don't get along with each other.",
            "En general, la gente de este barrio no se lleva bien.",
            reverse=True,
        ),
        _agree(
            "efficacy_intervene",
            "efficacy",
            "Neighbours would do something if children were spray-painting graffiti on a building.",
            "Los vecinos harían algo si unos niños estuvieran pintando grafitis en un edificio.",
        ),
        {
            "item_code": "safety_change",
            "type": "scale_0_10",
            "construct": None,
            "reverse": False,
            "text": {
                "en": "On a scale from 0 (much worse) to 10 (much better), how has safety here changed this year?",
                "es": "En una escala de 0 (mucho peor) a 10 (mucho mejor), ¿cómo ha cambiado la seguridad este año?",
            },
        },
        {
            "item_code": "problems_seen",
            "type": "multiple_choice",
            "construct": None,
            "reverse": False,
            "text": {
                "en": "Which of these have you seen in your street in the past month?",
                "es": "¿Cuáles de estas cosas ha visto en su calle el último mes?",
            },
            "options": [
                {"value": "litter", "label": {"en": "Litter or dumping", "es": "Basura o vertidos"}},
                {"value": "graffiti", "label": {"en": "Graffiti", "es": "Grafitis"}},
                {"value": "speeding", "label": {"en": "Speeding cars", "es": "Coches a gran velocidad"}},
                {"value": "none", "label": {"en": "None of these", "es": "Ninguna"}},
            ],
        },
        {
            "item_code": "years_in_area",
            "type": "numeric",
            "construct": None,
            "reverse": False,
            "min": 0,
            "max": 100,
            "text": {
                "en": "How many years have you lived in this area?",
                "es": "¿Cuántos años lleva viviendo en esta zona?",
            },
        },
        {
            "item_code": "comments",
            "type": "free_text",
            "construct": None,
            "reverse": False,
            "max_length": 2000,
            "text": {
                "en": "Is there anything else you would like to tell us about your neighbourhood?",
                "es": "¿Hay algo más que quiera contarnos sobre su barrio?",
            },
        },
        # The short follow-up after a resident's concern was resolved or closed.
        {
            "item_code": "pc_satisfied",
            "type": "likert_5",
            "construct": "satisfaction",
            "reverse": False,
            "text": {
                "en": "Overall, how satisfied are you with how your concern was handled?",
                "es": "En general, ¿qué tan satisfecho está con la gestión de su inquietud?",
            },
            "options": [
                {"value": 1, "label": {"en": "Very dissatisfied", "es": "Muy insatisfecho"}},
                {"value": 2, "label": {"en": "Dissatisfied", "es": "Insatisfecho"}},
                {"value": 3, "label": {"en": "Neither", "es": "Ni satisfecho ni insatisfecho"}},
                {"value": 4, "label": {"en": "Satisfied", "es": "Satisfecho"}},
                {"value": 5, "label": {"en": "Very satisfied", "es": "Muy satisfecho"}},
            ],
        },
        {
            "item_code": "pc_fixed",
            "type": "single_choice",
            "construct": "satisfaction",
            "reverse": False,
            "text": {"en": "Has the problem been fixed?", "es": "¿Se ha solucionado el problema?"},
            "options": [
                {"value": "yes", "score": 100, "label": {"en": "Yes", "es": "Sí"}},
                {"value": "partly", "score": 50, "label": {"en": "Partly", "es": "En parte"}},
                {"value": "no", "score": 0, "label": {"en": "No", "es": "No"}},
            ],
        },
        _agree(
            "pc_respect",
            "procedural_justice",
            "I was treated with respect.",
            "Me trataron con respeto.",
        ),
        _agree(
            "pc_listened",
            "procedural_justice",
            "My concern was listened to and taken seriously.",
            "Escucharon mi inquietud y la tomaron en serio.",
        ),
        _agree(
            "pc_explained",
            "procedural_justice",
            "It was explained to me what would happen and why.",
            "Me explicaron lo que iba a pasar y por qué.",
        ),
    ]
}

STANDARD_ITEMS = [
    "safety_after_dark",
    "safety_by_day",
    "police_good_job",
    "police_reliable",
    "police_respect",
    "police_unfair",
    "police_listen",
    "police_understand",
    "problem_drugs",
    "problem_vandalism",
    "problem_groups",
    "problem_noise",
    "efficacy_help",
    "efficacy_close_knit",
    "efficacy_trusted",
    "efficacy_not_get_along",
    "efficacy_intervene",
    "safety_change",
    "problems_seen",
    "years_in_area",
    "comments",
]
POST_CONTACT_ITEMS = ["pc_satisfied", "pc_fixed", "pc_respect", "pc_listened", "pc_explained", "comments"]


def _definition(
    code: str, kind: str, title: dict[str, str], description: dict[str, str], items: list[str]
) -> dict[str, Any]:
    """A survey definition as POST /surveys takes it; every question but the comment is required."""
    questions = [{"item": item, "required": item != "comments"} for item in items]
    return {"code": code, "kind": kind, "title": title, "description": description, "questions": questions}


def standard_survey() -> dict[str, Any]:
    """The definition of the standard neighbourhood survey (as POST /surveys takes it)."""
    title = {"en": "Your neighbourhood: safety and trust", "es": "Su barrio: seguridad y confianza"}
    description = {
        "en": "Ten minutes, anonymous. Your answers help your beat officers and neighbours.",
        "es": "Diez minutos, anónima. Sus respuestas ayudan a los agentes y vecinos de su zona.",
    }
    return _definition(STANDARD_SURVEY_CODE, "wave", title, description, STANDARD_ITEMS)


def post_contact_survey() -> dict[str, Any]:
    """The short satisfaction and procedural-justice survey after contact."""
    title = {"en": "How did we do?", "es": "¿Cómo lo hicimos?"}
    description = {
        "en": "Six quick questions about the concern you raised (the last, a comment, is optional). Anonymous.",
        "es": (
            "Seis preguntas rápidas sobre la inquietud que planteó (la última, un comentario, es opcional). Anónima."
        ),
    }
    return _definition(POST_CONTACT_SURVEY_CODE, "post_contact", title, description, POST_CONTACT_ITEMS)
