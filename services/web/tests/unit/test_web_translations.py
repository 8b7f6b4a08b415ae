"""Every string of the pages has a Spanish translation, and the catalogue holds no stale ones."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from web.rendering import catalogue_path, translations

PACKAGE = Path(__file__).resolve().parents[2] / "web"
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def source_messages() -> set[str]:
    found = extract_from_dir(str(PACKAGE), METHODS, options_map=OPTIONS)
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def test_the_pages_have_strings_to_translate():
    assert len(source_messages()) > 100


def test_every_string_has_a_spanish_translation():
    with catalogue_path("es").open("rb") as source:
        catalogue = read_po(source, locale="es")
    translated = {message.id for message in catalogue if message.id and message.string and not message.fuzzy}
    missing = sorted(source_messages() - translated)
    assert not missing, f"no Spanish for {missing}; run pybabel extract/update (services/web/README.md)"


def test_placeholders_survive_translation():
    spanish = translations("es")
    assert spanish.gettext("Beat %(code)s: %(name)s") % {"code": "RV-01", "name": "X"} == "Sector RV-01: X"
