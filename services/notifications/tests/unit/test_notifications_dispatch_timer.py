"""The dispatcher's timer runs up to NOTIFICATIONS_DISPATCH_CONCURRENCY rounds at once, gathers the
events of NOTIFICATIONS_DISPATCH_GATHER_SECONDS into one round, goes again at once while rounds
leave work behind, and stopping the service lets the rounds in flight finish.

A stand-in service with the real `DispatchTimer` entrypoint and a round that only waits and
counts: what is tested is how rounds are started, not what a round does (that is the
integration tests' part)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import eventlet
import pytest

from beat_shared.testing import wait_for
from notifications.dependencies import DispatchTimer, dispatch_timer

ROUND_SECONDS = 0.3


@dataclass
class Rounds:
    started: int = 0
    finished: int = 0
    running: int = 0
    peak: int = 0
    more: list[bool] = field(default_factory=list)  # what each next round answers for "more"
    housekeeping: list[bool] = field(default_factory=list)  # what each round was asked to do


ROUNDS = Rounds()


class RoundsService:
    name = "rounds"

    @dispatch_timer(interval=3600)
    def dispatch(self, housekeeping: bool = True) -> dict[str, Any]:
        ROUNDS.housekeeping.append(housekeeping)
        ROUNDS.started += 1
        ROUNDS.running += 1
        ROUNDS.peak = max(ROUNDS.peak, ROUNDS.running)
        eventlet.sleep(ROUND_SECONDS)
        ROUNDS.running -= 1
        ROUNDS.finished += 1
        return {"more": ROUNDS.more.pop(0) if ROUNDS.more else False}


@pytest.fixture
def start_rounds(container_factory):
    global ROUNDS
    ROUNDS = Rounds()

    def start(concurrency: int, interval: float = 3600, gather: float = 0) -> tuple[Any, DispatchTimer]:
        config = {
            "NOTIFICATIONS_DISPATCH_CONCURRENCY": str(concurrency),
            "NOTIFICATIONS_DISPATCH_SECONDS": str(interval),
            "NOTIFICATIONS_DISPATCH_GATHER_SECONDS": str(gather),
        }
        container = container_factory(RoundsService, config)
        container.start()
        [timer] = [entrypoint for entrypoint in container.entrypoints if isinstance(entrypoint, DispatchTimer)]
        return container, timer

    return start


def wake_repeatedly(timer: DispatchTimer, times: int) -> None:
    for _ in range(times):
        timer.wake()
        eventlet.sleep(0.02)


@pytest.mark.parametrize("concurrency", [1, 2, 3])
def test_rounds_overlap_up_to_the_configured_number(start_rounds, concurrency):
    _container, timer = start_rounds(concurrency)
    wake_repeatedly(timer, 10)
    wait_for(lambda: ROUNDS.started >= concurrency and ROUNDS.running == 0, timeout=10, message="rounds done")
    assert ROUNDS.peak == concurrency


def test_wake_ups_during_busy_rounds_coalesce_into_one_more_round(start_rounds):
    _container, timer = start_rounds(1)
    wake_repeatedly(timer, 10)  # one round starts, the other nine wake-ups are one pending round
    wait_for(lambda: ROUNDS.finished >= 2 and ROUNDS.running == 0, timeout=10, message="rounds done")
    eventlet.sleep(ROUND_SECONDS * 2)
    assert ROUNDS.finished == 2


def test_a_round_that_left_work_behind_is_followed_by_another(start_rounds):
    _container, timer = start_rounds(2)
    ROUNDS.more.extend([True, True, False])
    timer.wake()  # one wake-up; the answers "more, more, done" make three rounds in all
    wait_for(lambda: ROUNDS.finished >= 3, timeout=10, message="three rounds")
    eventlet.sleep(ROUND_SECONDS * 2)
    assert ROUNDS.finished == 3


def test_stopping_waits_for_the_rounds_in_flight(start_rounds):
    container, timer = start_rounds(2)
    wake_repeatedly(timer, 2)
    wait_for(lambda: ROUNDS.running == 2, timeout=5, message="two rounds running")
    container.stop()
    assert ROUNDS.finished == 2 and ROUNDS.running == 0


def test_woken_rounds_leave_housekeeping_to_one_round_per_interval(start_rounds):
    _container, timer = start_rounds(1)
    ROUNDS.more.extend([True, True, False])
    timer.wake()
    wait_for(lambda: ROUNDS.finished >= 3, timeout=10, message="three rounds")
    assert ROUNDS.housekeeping == [True, False, False]  # the first round of the hour does it


def test_housekeeping_comes_back_every_interval(start_rounds):
    _container, _timer = start_rounds(1, interval=0.5)  # rounds every half second, nobody wakes it
    wait_for(lambda: ROUNDS.finished >= 3, timeout=10, message="three timed rounds")
    assert ROUNDS.housekeeping[:3] == [True, True, True]


def test_the_events_of_the_gathering_moment_share_one_round_though_a_lane_is_free(start_rounds):
    _container, timer = start_rounds(2, gather=1.0)
    wake_repeatedly(timer, 10)  # 0.2 s of events, each committed and waking the dispatcher
    assert ROUNDS.started == 0  # the first event's round waits for the others
    wait_for(lambda: ROUNDS.finished >= 1, timeout=10, message="the gathered round")
    eventlet.sleep(ROUND_SECONDS * 2)
    assert ROUNDS.finished == 1  # the second lane did not start a round for the later wake-ups


def test_a_round_after_a_full_batch_starts_without_gathering(start_rounds):
    """A broadcast's batches follow one another at once: one gathering moment for the event
    (3 s), none for the two rounds its full batches ask for (9.9 s if each waited)."""
    _container, timer = start_rounds(1, gather=3.0)
    ROUNDS.more.extend([True, True, False])
    timer.wake()
    wait_for(lambda: ROUNDS.finished >= 3, timeout=7.5, message="three rounds after one gathering moment")
