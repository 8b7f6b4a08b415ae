"""Unit tests of the concerns domain: plain Python, no broker, no database."""

from datetime import UTC, datetime, timedelta

import pytest

from beat_shared.errors import Conflict, InvalidInput, PermissionDenied, RateLimited
from concerns.domain import geo
from concerns.domain.attributes import check_definitions, clean_answers
from concerns.domain.duplicates import Candidate, suggest_duplicates
from concerns.domain.privacy import mask_contact_details
from concerns.domain.ranking import AgendaCandidate, rank_agenda
from concerns.domain.ratelimit import Rate, RateLimits, TokenBuckets
from concerns.domain.workflow import (
    FINAL_STATUSES,
    TRANSITIONS,
    Actor,
    Status,
    check_transition,
    check_version,
    event_for,
    open311_status,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OFFICER = Actor("officer-rv02", "officer", frozenset({"RV-02"}))
OTHER_OFFICER = Actor("officer-rv03", "officer", frozenset({"RV-03"}))
SUPERVISOR = Actor("supervisor-1", "supervisor")
REPORTER = Actor("resident-ana", "resident", is_reporter=True)
S = Status


# --- transitions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.SUBMITTED, S.ACKNOWLEDGED),
        (S.ACKNOWLEDGED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.RESOLVED),
        (S.ACKNOWLEDGED, S.REFERRED),
        (S.REFERRED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.CLOSED_NOT_RESOLVED),
        (S.SUBMITTED, S.DUPLICATE),
    ],
)
def test_officer_of_the_beat_makes_legal_moves(current, target):
    check_transition(current, target, OFFICER, "RV-02")


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.SUBMITTED, S.RESOLVED),  # must be acknowledged first
        (S.SUBMITTED, S.IN_PROGRESS),
        (S.RESOLVED, S.IN_PROGRESS),  # final
        (S.DUPLICATE, S.ACKNOWLEDGED),
        (S.REFERRED, S.DUPLICATE),
        (S.ACKNOWLEDGED, S.SUBMITTED),
    ],
)
def test_illegal_moves_are_conflicts_naming_what_is_allowed(current, target):
    with pytest.raises(Conflict) as caught:
        check_transition(current, target, OFFICER, "RV-02")
    assert "status" in caught.value.details


def test_final_statuses_have_no_way_out():
    assert {S.RESOLVED, S.CLOSED_NOT_RESOLVED, S.DUPLICATE, S.WITHDRAWN} == FINAL_STATUSES
    assert all(not TRANSITIONS[status] for status in FINAL_STATUSES)


def test_officer_of_another_beat_may_not_change_a_concern():
    with pytest.raises(PermissionDenied):
        check_transition(S.SUBMITTED, S.ACKNOWLEDGED, OTHER_OFFICER, "RV-02")


def test_concern_outside_every_beat_is_for_supervisors():
    with pytest.raises(PermissionDenied):
        check_transition(S.SUBMITTED, S.ACKNOWLEDGED, OFFICER, None)
    check_transition(S.SUBMITTED, S.ACKNOWLEDGED, SUPERVISOR, None)


def test_only_the_reporter_withdraws_and_only_the_reporter_may_not_manage():
    check_transition(S.IN_PROGRESS, S.WITHDRAWN, REPORTER, "RV-02")
    with pytest.raises(PermissionDenied):
        check_transition(S.IN_PROGRESS, S.WITHDRAWN, OFFICER, "RV-02")
    with pytest.raises(PermissionDenied):
        check_transition(S.SUBMITTED, S.ACKNOWLEDGED, REPORTER, "RV-02")
    with pytest.raises(Conflict):
        check_transition(S.RESOLVED, S.WITHDRAWN, REPORTER, "RV-02")


def test_version_must_be_given_and_current():
    check_version(3, 3)
    with pytest.raises(InvalidInput):
        check_version(3, None)
    with pytest.raises(Conflict) as caught:
        check_version(3, 2)
    assert "3" in caught.value.message


def test_each_transition_announces_one_event():
    assert event_for(S.ACKNOWLEDGED) == "beat.concern.acknowledged"
    assert event_for(S.IN_PROGRESS) == "beat.concern.status_changed"
    assert event_for(S.REFERRED) == "beat.concern.status_changed"
    assert event_for(S.RESOLVED) == "beat.concern.resolved"
    assert event_for(S.CLOSED_NOT_RESOLVED) == "beat.concern.closed"
    assert event_for(S.WITHDRAWN) == "beat.concern.closed"
    assert event_for(S.DUPLICATE) == "beat.concern.merged"


def test_open311_knows_only_open_and_closed():
    assert [open311_status(s) for s in (S.SUBMITTED, S.ACKNOWLEDGED, S.IN_PROGRESS, S.REFERRED)] == ["open"] * 4
    assert {open311_status(s) for s in FINAL_STATUSES} == {"closed"}


# --- agenda ranking ---------------------------------------------------------------------


def test_agenda_ranks_by_support_and_age():
    candidates = [
        AgendaCandidate("new-popular", 5, NOW - timedelta(days=1)),  # 6 support + 1/7
        AgendaCandidate("old-quiet", 0, NOW - timedelta(days=70)),  # 1 + 10
        AgendaCandidate("new-quiet", 0, NOW - timedelta(days=1)),  # 1 + 1/7
        AgendaCandidate("middle", 2, NOW - timedelta(days=14)),  # 3 + 2
    ]
    ranked = rank_agenda(candidates, NOW)
    assert [item.concern_id for item in ranked] == ["old-quiet", "new-popular", "middle", "new-quiet"]
    assert [item.position for item in ranked] == [1, 2, 3, 4]
    assert ranked[1].support == 6


def test_agenda_ties_go_to_the_older_concern_and_respect_the_limit():
    same = [AgendaCandidate(f"c{n}", 1, NOW - timedelta(days=7)) for n in range(3)]
    older = AgendaCandidate("older", 0, NOW - timedelta(days=14))  # 1 + 2 == 2 + 1
    ranked = rank_agenda([*same, older], NOW, limit=2)
    assert [item.concern_id for item in ranked] == ["older", "c0"]


# --- duplicate suggestion ---------------------------------------------------------------


def _candidate(concern_id, lat, long, days_ago=1, category="noise", is_open=True):
    return Candidate(concern_id, category, lat, long, NOW - timedelta(days=days_ago), is_open)


def test_duplicates_are_same_category_near_recent_and_open_nearest_first():
    lat, long = 43.045, -108.380
    candidates = [
        _candidate("far", lat + 0.01, long),  # ~1.1 km
        _candidate("near", lat + 0.001, long),  # ~111 m
        _candidate("nearer", lat + 0.0005, long),  # ~56 m
        _candidate("other-category", lat, long, category="drug_activity"),
        _candidate("old", lat, long, days_ago=45),
        _candidate("closed", lat, long, is_open=False),
        _candidate("no-location", None, None),
    ]
    found = suggest_duplicates("noise", lat, long, NOW, candidates, max_metres=250, max_days=30)
    assert [s.concern_id for s in found] == ["nearer", "near"]
    assert 50 <= found[0].distance_metres <= 60


def test_no_location_no_suggestions():
    assert suggest_duplicates("noise", None, None, NOW, [_candidate("x", 43, -108)], 250, 30) == []


# --- beat placement ---------------------------------------------------------------------

SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]}
# A "C" shape: concave, so a bounding box alone would be wrong.
C_SHAPE = {
    "type": "Polygon",
    "coordinates": [[[20, 0], [30, 0], [30, 3], [23, 3], [23, 7], [30, 7], [30, 10], [20, 10], [20, 0]]],
}
WITH_HOLE = {
    "type": "Polygon",
    "coordinates": [
        [[40, 0], [50, 0], [50, 10], [40, 10], [40, 0]],
        [[44, 4], [46, 4], [46, 6], [44, 6], [44, 4]],
    ],
}
ISLANDS = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[60, 0], [61, 0], [61, 1], [60, 1], [60, 0]]],
        [[[70, 0], [71, 0], [71, 1], [70, 1], [70, 0]]],
    ],
}


def _beats():
    return [
        geo.boundary("SQ", SQUARE),
        geo.boundary("C", C_SHAPE),
        geo.boundary("HOLE", WITH_HOLE),
        geo.boundary("ISL", ISLANDS),
    ]


@pytest.mark.parametrize(
    ("lat", "long", "expected"),
    [
        (5, 5, "SQ"),
        (1, 25, "C"),
        (5, 25, None),  # in the mouth of the C: inside its bounding box, outside the beat
        (5, 41, "HOLE"),
        (5, 45, None),  # in the hole
        (0.5, 70.5, "ISL"),
        (0.5, 65, None),  # between the islands
        (0, 5, "SQ"),  # on an edge counts as inside
        (50, 50, None),
    ],
)
def test_point_in_polygon_placement(lat, long, expected):
    assert geo.place(lat, long, _beats()) == expected


def test_overlapping_beats_place_in_the_first_by_code():
    overlapping = [geo.boundary("B", SQUARE), geo.boundary("A", SQUARE)]
    assert geo.place(5, 5, overlapping) == "A"


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [1, 2]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},  # too few positions
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},  # not closed
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 100], [0, 0]]]},  # latitude out of range
        {"type": "Polygon", "coordinates": [[["a", 0], [1, 0], [1, 1], ["a", 0]]]},
        "not a geometry",
    ],
)
def test_bad_geometries_are_refused(geometry):
    with pytest.raises(InvalidInput):
        geo.boundary("X", geometry)


def test_public_point_is_rounded_to_about_100_metres():
    lat, long = geo.public_point(43.045678, -108.381234)
    assert (lat, long) == (43.046, -108.381)
    assert geo.distance_metres(43.045678, -108.381234, lat, long) < 120
    assert geo.public_point(None, None) == (None, None)


def test_distance_is_haversine():
    assert round(geo.distance_metres(0, 0, 0, 1)) == 111195


# --- attributes -------------------------------------------------------------------------

DEFINITIONS = [
    {
        "code": "when",
        "datatype": "singlevaluelist",
        "required": True,
        "order": 1,
        "description": "When?",
        "values": [{"key": "day", "name": "Day"}, {"key": "night", "name": "Night"}],
    },
    {
        "code": "vehicles",
        "datatype": "multivaluelist",
        "required": False,
        "order": 2,
        "description": "Which?",
        "values": [{"key": "car", "name": "Car"}, {"key": "truck", "name": "Truck"}],
    },
    {"code": "count", "datatype": "number", "required": False, "order": 3, "description": "How many?"},
    {"code": "since", "datatype": "datetime", "required": False, "order": 4, "description": "Since when?"},
    {"code": "plate", "datatype": "string", "required": False, "order": 5, "description": "Plate"},
    {"code": "info", "datatype": "text", "variable": False, "required": True, "order": 6, "description": "Note"},
]


def test_answers_are_checked_and_normalised():
    cleaned = clean_answers(
        DEFINITIONS,
        {"when": "night", "vehicles": ["car", "truck"], "count": "3", "since": "2026-01-01T00:00:00Z", "plate": ""},
    )
    assert cleaned == {"when": "night", "vehicles": ["car", "truck"], "count": 3, "since": "2026-01-01T00:00:00+00:00"}


@pytest.mark.parametrize(
    ("answers", "bad"),
    [
        ({}, "when"),  # required (the non-variable one is not asked)
        ({"when": "dusk"}, "when"),
        ({"when": "day", "vehicles": ["car", "bus"]}, "vehicles"),
        ({"when": "day", "count": "many"}, "count"),
        ({"when": "day", "since": "yesterday"}, "since"),
        ({"when": "day", "plate": "AB\n12"}, "plate"),
        ({"when": "day", "colour": "red"}, "colour"),
        ({"when": ["day", "night"]}, "when"),
        ({"when": "day", "info": "x"}, "info"),  # not variable: no input taken
    ],
)
def test_bad_answers_name_the_attribute(answers, bad):
    with pytest.raises(InvalidInput) as caught:
        clean_answers(DEFINITIONS, answers)
    assert bad in caught.value.details["attributes"]


def test_definitions_must_be_coherent():
    check_definitions(DEFINITIONS)
    with pytest.raises(InvalidInput):
        check_definitions([*DEFINITIONS, {**DEFINITIONS[0], "order": 9}])
    with pytest.raises(InvalidInput):
        check_definitions([{**DEFINITIONS[0], "values": []}])


# --- rate limits ------------------------------------------------------------------------


def test_token_bucket_allows_a_burst_then_waits_for_refill():
    buckets = TokenBuckets(Rate(2, 60))
    assert buckets.take("a", NOW) == 0
    assert buckets.take("a", NOW) == 0
    assert buckets.take("a", NOW) == pytest.approx(30)
    assert buckets.take("b", NOW) == 0  # keys are independent
    assert buckets.take("a", NOW + timedelta(seconds=31)) == 0


def test_rate_limits_raise_with_retry_after():
    limits = RateLimits({"address": Rate(1, 10), "token": Rate(5, 10)})
    limits.check({"address": "1.2.3.4", "token": None}, NOW)
    with pytest.raises(RateLimited) as caught:
        limits.check({"address": "1.2.3.4", "token": None}, NOW)
    assert caught.value.retry_after == 10


def test_rates_parse():
    assert Rate.parse("30/3600") == Rate(30, 3600.0)
    for bad in ("30", "x/1", "0/10", "5/0"):
        with pytest.raises(InvalidInput):
            Rate.parse(bad)


# --- privacy ----------------------------------------------------------------------------


def test_contact_details_in_free_text_are_masked():
    text = "Call me on +1 (555) 123-4567 or mail ana.b@example.org, number 12 on the door."
    masked = mask_contact_details(text)
    assert "555" not in masked and "example.org" not in masked
    assert "number 12 on the door" in masked
