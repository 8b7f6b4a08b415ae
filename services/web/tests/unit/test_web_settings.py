"""The web service's settings: production refuses the development session secret; a provider is the one way in."""

from dataclasses import fields

import pytest

from beat_shared.config import SETTINGS, UnsafeConfiguration
from web.settings import OidcMisconfigured, Settings


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


PROVIDER = {
    "WEB_OIDC_DISCOVERY_URL": "https://login.city.example/.well-known/openid-configuration",
    "WEB_OIDC_CLIENT_ID": "beat-web",
    "BEAT_JWT_ALGORITHM": "RS256",
    "BEAT_JWT_JWKS_URL": "https://login.city.example/jwks.json",
}
PRODUCTION = {
    "BEAT_ENVIRONMENT": "production",
    "WEB_SESSION_SECRET": "a city's own",
    "WEB_OIDC_CLIENT_SECRET": "the client secret",
    "WEB_OIDC_REDIRECT_URL": "https://beat.city.example/sign-in/callback",
}


def test_with_a_provider_it_is_the_one_way_in():
    settings = Settings.from_config(PROVIDER)
    assert settings.oidc and settings.sign_in_offered and not settings.development_sign_in
    assert Settings.from_config({}).development_sign_in and not Settings.from_config({}).oidc


def test_a_provider_needs_tokens_the_services_accept_and_a_client_id():
    with pytest.raises(OidcMisconfigured, match="BEAT_JWT_ALGORITHM is not RS256"):
        Settings.from_config({**PROVIDER, "BEAT_JWT_ALGORITHM": "HS256"})
    with pytest.raises(OidcMisconfigured, match="WEB_OIDC_CLIENT_ID"):
        Settings.from_config({**PROVIDER, "WEB_OIDC_CLIENT_ID": ""})


def test_production_with_a_provider_needs_a_client_secret_and_https_addresses():
    assert Settings.from_config({**PROVIDER, **PRODUCTION}).oidc
    with pytest.raises(OidcMisconfigured, match="WEB_OIDC_CLIENT_SECRET"):
        Settings.from_config({**PROVIDER, **PRODUCTION, "WEB_OIDC_CLIENT_SECRET": ""})
    with pytest.raises(OidcMisconfigured, match="WEB_OIDC_REDIRECT_URL"):
        Settings.from_config({**PROVIDER, **PRODUCTION, "WEB_OIDC_REDIRECT_URL": ""})
    insecure = "http://login.city.example/.well-known/openid-configuration"
    with pytest.raises(OidcMisconfigured, match="WEB_OIDC_DISCOVERY_URL"):
        Settings.from_config({**PROVIDER, **PRODUCTION, "WEB_OIDC_DISCOVERY_URL": insecure})
    assert issubclass(OidcMisconfigured, UnsafeConfiguration)  # the platform refuses to start with it


def test_production_without_a_provider_offers_no_sign_in():
    settings = Settings.from_config({"BEAT_ENVIRONMENT": "production", "WEB_SESSION_SECRET": "a city's own"})
    assert not settings.sign_in_offered
