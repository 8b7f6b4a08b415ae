"""Which language a category is served in, and a translation laid over its English words."""

from concerns.domain.translations import served_language, translated

VIEW = {
    "name": "Noise",
    "description": "Persistent noise",
    "group": "nuisance",
    "attributes": [
        {
            "code": "time_of_day",
            "description": "When?",
            "datatype_description": None,
            "values": [{"key": "night", "name": "Night"}, {"key": "morning", "name": "Morning"}],
        }
    ],
}


def test_the_parameter_then_accept_language_then_english():
    assert served_language(["es"], "es", "en") == "es"
    assert served_language(["es"], None, "fr;q=0.9, es-MX;q=0.8") == "es"  # a regional tag finds its language
    assert served_language(["es"], None, "en;q=0.4, es;q=0.6") == "es"  # by quality, not order
    assert served_language(["es"], None, "es;q=0, fr") == "en"  # q=0 means "not this one"
    assert served_language([], "es", "es") == "en"  # no translation: English
    assert served_language(["es"], None, "garbage;q=x, *") == "en"


def test_what_is_translated_replaces_the_english_and_the_rest_stays():
    translations = {
        "es": {
            "name": "Ruido",
            "attributes": {"time_of_day": {"description": "¿Cuándo?", "values": {"night": "Noche"}}},
        }
    }
    spanish = translated(VIEW, translations, "es")
    assert (spanish["name"], spanish["description"], spanish["language"]) == ("Ruido", "Persistent noise", "es")
    [attribute] = spanish["attributes"]
    assert attribute["description"] == "¿Cuándo?"
    assert attribute["values"] == [{"key": "night", "name": "Noche"}, {"key": "morning", "name": "Morning"}]
    assert VIEW["attributes"][0]["values"][0]["name"] == "Night"  # the English view is not changed
    assert translated(VIEW, translations, "en")["name"] == "Noise"
