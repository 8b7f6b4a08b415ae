"""The web service's settings: production refuses the development session secret."""

from dataclasses import fields

import pytest

from beat_shared.config import SETTINGS, UnsafeConfiguration
from web.settings import Settings


def test_production_refuses_the_development_session_secret():
    with pytest.raises(UnsafeConfiguration, match="WEB_SESSION_SECRET"):
        Settings.from_config({"BEAT_ENVIRONMENT": "production"})


def test_production_with_its_own_secret_gets_secure_cookies():
    settings = Settings.from_config({"BEAT_ENVIRONMENT": "production", "WEB_SESSION_SECRET": "a city's own"})
    assert settings.production and settings.session_secret == b"a city's own"
    assert not Settings.from_config({"BEAT_ENVIRONMENT": "development"}).production


def test_every_web_setting_is_registered_with_the_others():
    """Registered, a setting is in README's checked table and the deploy tests' manifests."""
    web_names = {name for name in SETTINGS if name.startswith("WEB_")}
    assert {"WEB_HTTP_ADDRESS", "WEB_SESSION_SECRET", "WEB_CONCERNS_URL", "WEB_TIMEZONE"} <= web_names
    assert SETTINGS["WEB_SESSION_SECRET"].secret
    read = {f"WEB_{field.name.upper()}" for field in fields(Settings)} & set(SETTINGS)
    assert read == web_names - {"WEB_HTTP_ADDRESS"}  # the address is read by the platform
