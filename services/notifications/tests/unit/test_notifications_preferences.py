"""Preferences, quiet hours, digest timing, retry schedule, tokens."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from beat_shared.errors import InvalidInput
from notifications.dispatcher import retry_delay
from notifications.domain.preferences import (
    digest_due,
    language_of,
    normalise_phone,
    quiet_until,
    valid_email,
    wants,
)
from notifications.domain.tokens import address_hash, read_unsubscribe_token, unsubscribe_token

CHICAGO = ZoneInfo("America/Chicago")


def test_most_specific_preference_wins():
    prefs = [("*", "*", False), ("beat_alerts", "*", True), ("beat_alerts", "sms", False)]
    assert wants(prefs, "beat_alerts", "email", default=False) is True
    assert wants(prefs, "beat_alerts", "sms", default=True) is False
    assert wants(prefs, "meetings", "email", default=True) is False
    assert wants([], "meetings", "email", default=True) is True


def test_quiet_hours_wrapping_midnight_in_local_time():
    late = datetime(2026, 1, 6, 5, 0, tzinfo=UTC)  # 23:00 in Chicago
    assert quiet_until(late, CHICAGO, "22:00", "07:00") == datetime(2026, 1, 6, 13, 0, tzinfo=UTC)
    early = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)  # 06:00 in Chicago
    assert quiet_until(early, CHICAGO, "22:00", "07:00") == datetime(2026, 1, 6, 13, 0, tzinfo=UTC)
    day = datetime(2026, 1, 6, 18, 0, tzinfo=UTC)  # noon
    assert quiet_until(day, CHICAGO, "22:00", "07:00") is None
    assert quiet_until(day, CHICAGO, "11:00", "13:00") == datetime(2026, 1, 6, 19, 0, tzinfo=UTC)
    assert quiet_until(day, CHICAGO, None, None) is None
    assert quiet_until(day, CHICAGO, "10:00", "10:00") is None


def test_digest_goes_out_from_the_digest_hour_local_time():
    assert digest_due(datetime(2026, 1, 6, 12, 59, tzinfo=UTC), CHICAGO, 7) is None  # 06:59
    assert digest_due(datetime(2026, 1, 6, 13, 0, tzinfo=UTC), CHICAGO, 7) == "2026-01-06"


def test_retry_schedule_is_exponential_jittered_and_reproducible():
    delays = [retry_delay(n, "key", 60, 28800) for n in range(1, 9)]
    bases = [60, 180, 540, 1620, 4860, 14580, 28800, 28800]
    assert all(b <= d <= b * 1.25 for d, b in zip(delays, bases, strict=True))
    assert delays == [retry_delay(n, "key", 60, 28800) for n in range(1, 9)]
    assert delays != [retry_delay(n, "other", 60, 28800) for n in range(1, 9)]
    assert 22 * 3600 <= sum(delays) <= 27.6 * 3600  # about a day


def test_contact_validation_and_languages():
    assert valid_email("ana@example.org") and not valid_email("ana@") and not valid_email("a b@example.org")
    assert normalise_phone("+1 (555) 555-0100") == "+15555550100"
    with pytest.raises(InvalidInput):
        normalise_phone("5555550100")
    assert language_of("es-MX") == "es" and language_of("fr") == "en" and language_of(None) == "en"


def test_unsubscribe_tokens_are_signed_and_address_hashes_case_insensitive():
    hashed = address_hash("s3cret", "email", "Ana@Example.org")
    assert hashed == address_hash("s3cret", "email", "ana@example.org ")
    assert hashed != address_hash("other", "email", "ana@example.org")
    token = unsubscribe_token("s3cret", hashed, "email", "beat_alerts")
    assert read_unsubscribe_token("s3cret", token) == {"h": hashed, "c": "email", "t": "beat_alerts"}
    with pytest.raises(InvalidInput):
        read_unsubscribe_token("other", token)
    with pytest.raises(InvalidInput):
        read_unsubscribe_token("s3cret", "garbage")
