"""The rules a client's consent to share must keep, the same where it is recorded (concerns,
with the officer's referral request) and where it is used (referrals, when sending).

Consent without an end date (`valid_until` None) lasts as long as the referral it was
given for: it ends when the referral closes or when the client withdraws it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# Devices' clocks differ: a consent "given" a few minutes ahead of ours is not in the future.
CLOCK_SKEW = timedelta(minutes=5)


def consent_period_problems(
    given_at: datetime, valid_until: datetime | None, now: datetime, must_be_current: bool = True
) -> dict[str, list[str]]:
    """Field errors of a consent period (empty when it may be recorded now).

    `must_be_current=False` lets a consent that has already ended be recorded as history
    (an officer copying a paper form); sending on it is refused later.
    """
    problems: dict[str, list[str]] = {}
    if given_at > now + CLOCK_SKEW:
        problems["given_at"] = ["is in the future"]
    if valid_until is not None:
        if valid_until <= given_at:
            problems["valid_until"] = ["must be after given_at"]
        elif must_be_current and valid_until <= now:
            problems["valid_until"] = ["must be in the future"]
    return problems
