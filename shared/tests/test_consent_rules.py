"""The consent period rules concerns checks at its edge and referrals applies when recording."""

from datetime import UTC, datetime, timedelta

from beat_shared.consent import CLOCK_SKEW, consent_period_problems

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_a_consent_period_that_can_be_recorded():
    assert consent_period_problems(NOW - timedelta(hours=1), NOW + timedelta(days=30), NOW) == {}
    assert consent_period_problems(NOW - timedelta(hours=1), None, NOW) == {}  # until the referral closes
    assert consent_period_problems(NOW + CLOCK_SKEW, None, NOW) == {}  # a phone's clock a little ahead


def test_consent_periods_that_cannot():
    assert consent_period_problems(NOW + CLOCK_SKEW + timedelta(seconds=1), None, NOW) == {
        "given_at": ["is in the future"]
    }
    assert consent_period_problems(NOW - timedelta(hours=1), NOW - timedelta(hours=2), NOW) == {
        "valid_until": ["must be after given_at"]
    }
    assert consent_period_problems(NOW - timedelta(days=2), NOW - timedelta(days=1), NOW) == {
        "valid_until": ["must be in the future"]
    }
    ended = consent_period_problems(NOW - timedelta(days=2), NOW - timedelta(days=1), NOW, must_be_current=False)
    assert ended == {}  # recorded as history; sending on it is refused
