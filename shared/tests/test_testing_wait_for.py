"""`beat_shared.testing.wait_for`: quick polls at first, slower ones later, a failure at the deadline."""

from __future__ import annotations

import re

import pytest

from beat_shared import testing
from beat_shared.testing import wait_for


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The pauses wait_for asks for between polls (recorded, not slept)."""
    asked: list[float] = []
    monkeypatch.setattr(testing.time, "sleep", asked.append)
    return asked


def answers_on_poll(number: int):
    polls: list[int] = []
    return lambda: polls.append(1) or len(polls) == number


def test_the_pause_between_polls_grows_by_half_up_to_the_longest_interval(pauses):
    wait_for(answers_on_poll(10), timeout=60, interval=0.05, longest_interval=0.3)
    assert pauses == pytest.approx([0.05, 0.075, 0.1125, 0.16875, 0.253125, 0.3, 0.3, 0.3, 0.3])


def test_a_fixed_interval_stays_fixed(pauses):
    wait_for(answers_on_poll(4), timeout=60, interval=0.01, longest_interval=0.01)
    assert pauses == [0.01, 0.01, 0.01]


def test_an_interval_longer_than_the_longest_is_kept(pauses):
    wait_for(answers_on_poll(3), timeout=60, interval=2.0)
    assert pauses == [2.0, 2.0]


def test_the_deadline_fails_the_test_with_the_message():
    with pytest.raises(AssertionError, match=re.escape("timed out after 0.2s waiting for the moon")):
        wait_for(lambda: False, timeout=0.2, message="the moon")
