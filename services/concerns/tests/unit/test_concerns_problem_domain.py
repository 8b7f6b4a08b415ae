"""Unit tests of problem solving's pure rules: scanning (clustering), stages, assessment."""

import itertools
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from beat_shared.errors import Conflict, InvalidInput
from concerns.domain.assessment import assess, binomial_p_value, windows
from concerns.domain.geo import distance_metres
from concerns.domain.problems import Stage, check_move, check_outcome, time_profile
from concerns.domain.scanning import ScannedConcern, ScanRules, scan

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RULES = ScanRules(metres=150, days=90, min_concerns=3)
BASE = (43.045, -108.380)
METRES_PER_DEGREE_LAT = 111_195.0


def north_of(origin: tuple[float, float], metres: float) -> tuple[float, float]:
    return origin[0] + metres / METRES_PER_DEGREE_LAT, origin[1]


def concern(key: str, place: tuple[float, float], days_ago: float = 1, category: str = "noise", support: int = 0):
    return ScannedConcern(key, category, place[0], place[1], NOW - timedelta(days=days_ago), support)


def generated(seed: int) -> tuple[list[ScannedConcern], dict[str, set[str]]]:
    """Known repeat places (3 to 6 concerns each, within 40 m of the place) 1 km apart, among
    lone concerns at least 400 m from any place and from each other."""
    rng = random.Random(seed)
    concerns, places = [], {}
    for index in range(4):
        place = north_of(BASE, 1000 * index)
        members = set()
        for number in range(rng.randint(3, 6)):
            key = f"p{index}-{number}"
            jitter = (place[0] + rng.uniform(-20, 20) / METRES_PER_DEGREE_LAT, place[1])
            concerns.append(concern(key, jitter, days_ago=rng.uniform(0, 80)))
            members.add(key)
        places[f"p{index}"] = members
    for index in range(5):
        lone = north_of((BASE[0], BASE[1] + 0.01), 500 + 800 * index)  # ~800 m east of the places
        concerns.append(concern(f"lone-{index}", lone, days_ago=rng.uniform(0, 80)))
    rng.shuffle(concerns)
    return concerns, places


@pytest.mark.parametrize("seed", range(5))
def test_scanning_finds_each_known_repeat_place_and_nothing_else(seed):
    concerns, places = generated(seed)
    found = scan(concerns, RULES, NOW)
    assert sorted(c.concern_ids for c in found) == sorted(tuple(sorted(keys)) for keys in places.values())


def test_a_chain_of_places_100_m_apart_is_never_joined_beyond_the_setting():
    # Eight places in a line, 100 m apart, three concerns each: links of 100 m would chain 700 m.
    concerns = [
        concern(f"c{place}-{n}", north_of(BASE, 100 * place), days_ago=n + place)
        for place in range(8)
        for n in range(3)
    ]
    found = scan(concerns, RULES, NOW)
    by_id = {c.concern_id: c for c in concerns}
    assert found, "repeat places were found"
    for candidate in found:
        for a, b in itertools.combinations(candidate.concern_ids, 2):
            assert distance_metres(by_id[a].lat, by_id[a].long, by_id[b].lat, by_id[b].long) <= RULES.metres
    assert sum(c.count for c in found) <= len(concerns)
    assert len({key for c in found for key in c.concern_ids}) == sum(c.count for c in found)  # one candidate each


@pytest.mark.parametrize("seed", range(20))
def test_random_concerns_never_make_a_candidate_wider_than_the_setting(seed):
    rng = random.Random(seed)
    concerns = [
        concern(f"r{i}", (BASE[0] + rng.uniform(0, 0.01), BASE[1] + rng.uniform(0, 0.01)), category=rng.choice("ab"))
        for i in range(80)
    ]
    by_id = {c.concern_id: c for c in concerns}
    for candidate in scan(concerns, RULES, NOW):
        assert len({by_id[key].category_code for key in candidate.concern_ids}) == 1
        for a, b in itertools.combinations(candidate.concern_ids, 2):
            assert distance_metres(by_id[a].lat, by_id[a].long, by_id[b].lat, by_id[b].long) <= RULES.metres


def test_other_categories_old_concerns_and_small_groups_make_no_candidate():
    place = BASE
    concerns = [
        concern("n1", place),
        concern("n2", place),
        concern("d1", place, category="drug_activity"),  # another category: not a third noise concern
        concern("old", place, days_ago=120),  # older than the 90 days that count
    ]
    assert scan(concerns, RULES, NOW) == []
    assert [c.concern_ids for c in scan(concerns, ScanRules(150, 200, 3), NOW)] == [("n1", "n2", "old")]


def test_candidates_rank_by_count_then_support_then_recency():
    a, b, c = BASE, north_of(BASE, 1000), north_of(BASE, 2000)
    concerns = [
        *[concern(f"a{i}", a, days_ago=30) for i in range(3)],  # 3, no support, a month ago
        *[concern(f"b{i}", b, days_ago=2, support=1) for i in range(3)],  # 3, support 3, recent
        *[concern(f"c{i}", c, days_ago=60) for i in range(4)],  # 4: first
        *[concern(f"d{i}", north_of(BASE, 3000), days_ago=1) for i in range(3)],  # 3, no support, newest
    ]
    found = scan(concerns, RULES, NOW)
    assert [candidate.concern_ids[0][0] for candidate in found] == ["c", "b", "d", "a"]
    top = found[0]
    assert (top.count, top.support, top.category_code) == (4, 0, "noise")
    assert top.radius_metres <= 1 and top.centre_lat == round(c[0], 6)


def test_stages_move_one_step_and_close_only_through_the_assessment():
    check_move(Stage.SCANNING, Stage.ANALYSIS)
    check_move(Stage.RESPONSE, Stage.ANALYSIS)
    check_move(Stage.ASSESSMENT, Stage.RESPONSE)
    for current, target in [
        (Stage.SCANNING, Stage.RESPONSE),
        (Stage.ANALYSIS, Stage.ASSESSMENT),
        (Stage.ASSESSMENT, Stage.CLOSED),
        (Stage.CLOSED, Stage.ANALYSIS),
    ]:
        with pytest.raises(Conflict):
            check_move(current, target)
    assert check_outcome("displaced") == "displaced"
    with pytest.raises(InvalidInput):
        check_outcome("fixed")


# --- assessment: hand-computed values -------------------------------------------------------

STARTED = datetime(2026, 3, 1, tzinfo=UTC)
ENDED = datetime(2026, 4, 1, tzinfo=UTC)


def times(count: int, start: datetime) -> list[datetime]:
    return [start + timedelta(days=index) for index in range(count)]


def test_the_windows_are_equal_and_shorter_while_the_after_window_is_still_open():
    span = windows(STARTED, ENDED, ENDED + timedelta(days=100), days=56)
    assert (span.before_start, span.after_end, span.weeks) == (
        STARTED - timedelta(days=56),
        ENDED + timedelta(days=56),
        8.0,
    )
    early = windows(STARTED, ENDED, ENDED + timedelta(days=21), days=56)
    assert early.weeks == 3.0 and early.before_start == STARTED - timedelta(days=21)


def test_a_fall_against_a_steady_control_is_significant():
    span = windows(STARTED, ENDED, ENDED + timedelta(days=100), days=56)
    # Area: 10 before, 2 after; control: 20 and 20, so p = 1/2. Binomial(12, 1/2) at k = 2:
    # P(0)+P(1)+P(2) = (1 + 12 + 66) / 4096 on each side, two-sided 158/4096 = 0.038574.
    area = times(10, span.before_start) + times(2, span.after_start) + times(3, ENDED - timedelta(days=5))
    control = times(20, span.before_start) + times(20, span.after_start)
    result = assess(area, control, span)
    assert (result.area_before, result.area_after, result.control_before, result.control_after) == (10, 2, 20, 20)
    assert result.expected_share == 0.5
    assert result.p_value == round(158 / 4096, 6) == 0.038574
    assert result.significant
    assert (result.per_week(10), result.per_week(2)) == (1.25, 0.25)


def test_a_fall_no_larger_than_the_controls_is_not_significant():
    span = windows(STARTED, ENDED, ENDED + timedelta(days=100), days=56)
    # Area 8 -> 2 while the control fell 30 -> 10: p = 10/40 = 1/4, and k = 2 is Binomial(10, 1/4)'s
    # most likely value (0.2816), so every outcome is as unlikely or less: the p-value is 1.
    result = assess(
        times(8, span.before_start) + times(2, span.after_start),
        times(30, span.before_start) + times(10, span.after_start),
        span,
    )
    assert result.expected_share == 0.25 and result.p_value == 1.0 and not result.significant


def test_without_a_control_the_windows_are_expected_equal():
    assert binomial_p_value(0, 6, 0.5) == round(2 / 64, 6) == 0.03125  # P(0) + P(6)
    assert binomial_p_value(5, 10, 0.5) == 1.0
    assert binomial_p_value(0, 0, 0.5) == 1.0
    span = windows(STARTED, ENDED, ENDED + timedelta(days=100), days=56)
    result = assess(times(6, span.before_start), [], span)
    assert (result.expected_share, result.p_value) == (0.5, 0.03125)


CHICAGO = ZoneInfo("America/Chicago")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_evidence_counts_hours_and_days_on_the_citys_clock_across_spring_forward():
    # Chicago springs forward on Sunday 8 March 2026 at 02:00 CST (08:00 UTC): 02:00-02:59 never happens.
    moments = [
        utc("2026-03-08T05:30"),  # Saturday 7 March 23:30 CST (Sunday in UTC)
        utc("2026-03-08T07:59"),  # Sunday 01:59 CST, the last minute before the change
        utc("2026-03-08T08:00"),  # Sunday 03:00 CDT, the first minute after it
        utc("2026-03-09T04:30"),  # Sunday 23:30 CDT (Monday of the next ISO week in UTC)
        utc("2026-03-09T14:00"),  # Monday 09:00 CDT (08:00 would have been CST's)
    ]
    assert time_profile(moments, CHICAGO) == {
        "by_week": {"2026-W10": 4, "2026-W11": 1},
        "by_hour": {"1": 1, "3": 1, "9": 1, "23": 2},
        "by_weekday": {"monday": 1, "saturday": 1, "sunday": 3},
    }
    # The same instants on UTC's clock, which is what the evidence counted before the setting.
    assert time_profile(moments, ZoneInfo("UTC")) == {
        "by_week": {"2026-W10": 3, "2026-W11": 2},
        "by_hour": {"4": 1, "5": 1, "7": 1, "8": 1, "14": 1},
        "by_weekday": {"monday": 2, "sunday": 3},
    }


def test_evidence_counts_the_repeated_hour_of_fall_back_once_per_instant():
    # Chicago falls back on Sunday 1 November 2026 at 02:00 CDT (07:00 UTC): 01:00-01:59 happens twice.
    moments = [utc("2026-11-01T06:30"), utc("2026-11-01T07:30"), utc("2026-11-01T08:30")]
    assert time_profile(moments, CHICAGO) == {
        "by_week": {"2026-W44": 3},
        "by_hour": {"1": 2, "2": 1},  # 01:30 CDT, 01:30 CST, 02:30 CST
        "by_weekday": {"sunday": 3},
    }
    assert time_profile([], CHICAGO) == {"by_week": {}, "by_hour": {}, "by_weekday": {}}
