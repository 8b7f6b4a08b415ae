"""The page language: the switch, then Accept-Language by weight, then English."""

import pytest

from web.domain.language import negotiate


@pytest.mark.parametrize(
    ("header", "chosen", "expected"),
    [
        (None, None, "en"),
        ("", None, "en"),
        ("es", None, "es"),
        ("es-MX,es;q=0.9,en;q=0.8", None, "es"),
        ("fr-FR,fr;q=0.9,es;q=0.5,en;q=0.4", None, "es"),  # the first we have, by weight
        ("en;q=0.3,es;q=0.8", None, "es"),
        ("de,fr", None, "en"),
        ("es;q=0", None, "en"),  # q=0 means "not this one"
        ("es;q=abc,en", None, "en"),  # a malformed weight counts as not acceptable
        ("es", "en", "en"),  # the switch wins over the browser
        ("en", "es", "es"),
        ("es", "klingon", "es"),  # an unknown choice is ignored
    ],
)
def test_negotiation(header, chosen, expected):
    assert negotiate(header, chosen) == expected
