"""The web service's settings: production refuses the development session secret."""

from pathlib import Path

import pytest

from beat_shared.config import UnsafeConfiguration
from web.settings import WEB_SETTINGS, Settings


def test_production_refuses_the_development_session_secret():
    with pytest.raises(UnsafeConfiguration, match="WEB_SESSION_SECRET"):
        Settings.from_config({"BEAT_ENVIRONMENT": "production"})


def test_production_with_its_own_secret_gets_secure_cookies():
    settings = Settings.from_config({"BEAT_ENVIRONMENT": "production", "WEB_SESSION_SECRET": "a city's own"})
    assert settings.production and settings.session_secret == b"a city's own"
    assert not Settings.from_config({"BEAT_ENVIRONMENT": "development"}).production


def test_every_web_setting_is_documented_with_its_default():
    readme = (Path(__file__).resolve().parents[4] / "README.md").read_text()  # the configuration table
    for setting in WEB_SETTINGS.values():
        assert f"| `{setting.name}` | `{setting.default}` |" in readme, setting.name
