"""Every template renders in every language; fallbacks and escaping."""

import pytest

from beat_shared.errors import NotFound
from notifications.domain.preferences import LANGUAGES
from notifications.rendering import SAMPLE_CONTEXTS, Renderer

RENDERER = Renderer()


@pytest.mark.parametrize("name", RENDERER.names())
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_renders_in_every_language(name, language):
    rendered = RENDERER.render(name, language, SAMPLE_CONTEXTS[name])
    assert rendered.language == language  # shipped, not a fallback
    assert rendered.subject and rendered.text.strip() and rendered.html and rendered.sms
    assert "\n" not in rendered.subject


def test_every_template_has_a_sample_and_both_languages():
    assert set(RENDERER.names()) == set(SAMPLE_CONTEXTS)


def test_unknown_language_falls_back_to_english():
    assert RENDERER.render("concern_resolved", "fr", SAMPLE_CONTEXTS["concern_resolved"]).language == "en"
    assert RENDERER.render("concern_resolved", "es-MX", SAMPLE_CONTEXTS["concern_resolved"]).language == "es"


def test_unknown_template_is_not_found():
    with pytest.raises(NotFound):
        RENDERER.render("nope", "en", {})
    with pytest.raises(NotFound):
        RENDERER.render("../en/digest", "en", {})


def test_html_is_escaped_but_text_is_not():
    context = {**SAMPLE_CONTEXTS["beat_alert"], "title": "<script>x</script> & co"}
    rendered = RENDERER.render("beat_alert", "en", context)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<script>x</script> & co" in rendered.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_agency_mail_links_its_inbox_and_says_how_to_fetch_the_referral(language):
    """The agency acts in its inbox on Beat's site (the mail, the SMS); its own systems may GET the
    referral's API address with the agency token instead."""
    context = SAMPLE_CONTEXTS["referral_sent"]
    rendered = RENDERER.render("referral_sent", language, context)
    inbox, url = context["inbox_url"], context["details_url"]
    assert f'<a href="{inbox}">{inbox}</a>' in rendered.html and inbox in rendered.text
    assert 'curl -H "Authorization: Bearer' in rendered.text and f"{url}/accept" in rendered.text
    assert "no sign-in pages" not in rendered.text and "no hay páginas" not in rendered.text
    assert inbox in rendered.sms
