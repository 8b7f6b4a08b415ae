"""What one response adds to the running totals, computed by hand."""

from surveys.domain.definitions import ScoredAnswer
from surveys.totals import Placement, response_rows


def test_one_response_adds_one_row_per_group_and_measure():
    placement = Placement("post_contact", "2026-Q1", "invited", "RV-01", "noise")
    answers = [
        ScoredAnswer("treated_fairly", 5.0, None, 100.0),
        ScoredAnswer("kept_informed", 2.0, None, 25.0),
        ScoredAnswer("years_in_area", 7.0, None, None),  # numeric: a value, no score
        ScoredAnswer("comments", None, "thanks", None),  # free text: answered, no value
    ]
    rows = response_rows(placement, {"procedural_justice": 62.5}, answers)

    assert len(rows) == 2 * 5  # beat and category, one construct and four items
    by_key = {(row["grouping"], row["measure"], row["code"]): row for row in rows}
    statistics = ("answered", "n", "total", "squares", "favourable")
    pick = lambda key: tuple(by_key[key][name] for name in statistics)  # noqa: E731
    assert pick(("beat", "construct", "procedural_justice")) == (1, 1, 62.5, 3906.25, 1)
    assert pick(("category", "item", "treated_fairly")) == (1, 1, 100.0, 10000.0, 1)
    assert pick(("beat", "item", "kept_informed")) == (1, 1, 25.0, 625.0, 0)
    assert pick(("beat", "item", "years_in_area")) == (1, 1, 7.0, 49.0, 0)
    assert pick(("beat", "item", "comments")) == (1, 0, 0.0, 0.0, 0)
    assert {row["group_code"] for row in rows} == {"RV-01", "noise"}
    assert all(row["period"] == "2026-Q1" and row["channel"] == "invited" for row in rows)
    keys = [(row["grouping"], row["group_code"], row["measure"], row["code"]) for row in rows]
    assert keys == sorted(keys)  # one lock order for every transaction


def test_a_score_of_exactly_fifty_is_not_favourable_and_no_group_adds_nothing():
    rows = response_rows(Placement("standard", "2026-Q1", "open", "RV-02", None), {"safety": 50.0}, [])
    assert [(row["grouping"], row["favourable"]) for row in rows] == [("beat", 0)]
    assert response_rows(Placement("standard", "2026-Q1", "open", None, None), {"safety": 80.0}, []) == []
