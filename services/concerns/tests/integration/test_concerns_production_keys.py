"""Production refuses to start concerns without Open311 keys of its own: the demo key, an empty
Secret (which falls back to the demo key) and a list of only separators are all refused."""

import pytest

from beat_shared.config import SETTINGS, UnsafeConfiguration, check_production_settings
from beat_shared.testing import free_port
from concerns.service import ConcernsService

PRODUCTION = {"BEAT_ENVIRONMENT": "production", "BEAT_JWT_SECRET": "k" * 40}


@pytest.mark.parametrize("keys", ["", SETTINGS["CONCERNS_OPEN311_API_KEYS"].default, ",", " , ,"])
def test_concerns_refuses_no_open311_key_of_its_own_in_production(keys, monkeypatch):
    monkeypatch.delenv("CONCERNS_OPEN311_API_KEYS", raising=False)
    with pytest.raises(UnsafeConfiguration, match="CONCERNS_OPEN311_API_KEYS"):
        check_production_settings({**PRODUCTION, "CONCERNS_OPEN311_API_KEYS": keys}, "concerns")
    check_production_settings({"CONCERNS_OPEN311_API_KEYS": keys}, "concerns")  # development: the demo key


def test_only_concerns_needs_the_open311_keys(monkeypatch):
    monkeypatch.delenv("CONCERNS_OPEN311_API_KEYS", raising=False)
    check_production_settings(PRODUCTION, "referrals")
    check_production_settings({**PRODUCTION, "CONCERNS_OPEN311_API_KEYS": "a-city-key,another"}, "concerns")


def test_the_concerns_service_will_not_start_in_production_with_an_empty_key_secret(
    container_factory, beat_config, tmp_path, monkeypatch
):
    monkeypatch.delenv("CONCERNS_OPEN311_API_KEYS", raising=False)
    config = beat_config(
        "concerns",
        **PRODUCTION,
        CONCERNS_DATABASE_URL=f"sqlite:///{tmp_path}/concerns.db",
        CONCERNS_OPEN311_API_KEYS="",  # the Secret's key exists but is empty
        WEB_SERVER_ADDRESS=f"127.0.0.1:{free_port()}",
    )
    with pytest.raises(UnsafeConfiguration, match="CONCERNS_OPEN311_API_KEYS"):
        container_factory(ConcernsService, config).start()
