"""Production refuses the switches that let webhooks reach private or plain-http addresses."""

import pytest

from beat_shared.config import DEVELOPMENT_SWITCHES, UnsafeConfiguration, check_production_settings

PRODUCTION = {
    "BEAT_ENVIRONMENT": "production",
    "BEAT_JWT_SECRET": "k" * 40,
    "SURVEYS_TOKEN_SECRET": "t" * 40,
    "NOTIFICATIONS_SIGNING_SECRET": "s" * 40,
    "CONCERNS_OPEN311_API_KEYS": "o" * 40,
}


def test_production_with_safe_switches_starts():
    check_production_settings(PRODUCTION)


@pytest.mark.parametrize("name", sorted(DEVELOPMENT_SWITCHES))
def test_each_webhook_switch_left_on_is_refused_in_production(name):
    value = "true" if DEVELOPMENT_SWITCHES[name] else "false"
    with pytest.raises(UnsafeConfiguration, match=name):
        check_production_settings({**PRODUCTION, name: value})
    check_production_settings({name: value})  # development: allowed
