"""Results, suppression in every feed, the results_updated event, weights."""

import csv
import io

SUPPRESSED_BEAT = "RV-06"  # the demo gives it 9 responses a quarter


def all_cells(web_session, query=""):
    cells, page = [], 1
    while True:
        body = web_session.get(f"/results?per_page=100&page={page}{query}").json()
        cells += body["contents"]
        if body["last_page"]:
            return cells, body
        page += 1


def test_a_beat_with_nine_responses_shows_no_figures_anywhere(surveys, web_session, helpers):
    helpers.seed_demo()
    assert helpers.scalar("SELECT count(*) FROM responses WHERE beat_code = 'RV-06' AND period = '2026-Q1'") == 9

    cells, body = all_cells(web_session)
    assert body["minimum_cell"] == 30
    assert body["periods"] == ["2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1"]
    hidden = [c for c in cells if c["group"] == SUPPRESSED_BEAT]
    assert hidden and all(c["suppressed"] for c in hidden)
    for cell in hidden:
        for key in ("n", "n_eff", "mean", "mean_ci", "share_favourable", "share_ci", "change"):
            assert cell[key] is None, (key, cell)
    shown = [c for c in cells if c["group"] == "RV-01"]
    assert shown and not any(c["suppressed"] for c in shown)
    # The city cell leaves the suppressed beat out, so it cannot be recovered by subtraction.
    city = [c for c in cells if c["group"] == "all"]
    assert city and all(SUPPRESSED_BEAT not in c["pooled_groups"] for c in city)
    per_beat = sum(
        c["n"]
        for c in cells
        if c["group"] not in ("all", SUPPRESSED_BEAT) and c["code"] == "safety" and c["period"] == "2026-Q1"
    )
    city_safety = next(c for c in city if c["code"] == "safety" and c["period"] == "2026-Q1")
    assert city_safety["n"] == per_beat

    items, _ = all_cells(web_session, f"&measure=item&group={SUPPRESSED_BEAT}")
    assert items and all(c["suppressed"] and c["n"] is None and c["mean"] is None for c in items)

    exported = web_session.get("/results.csv")
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == len(cells)
    for row in rows:
        if row["group"] == SUPPRESSED_BEAT:
            assert row["suppressed"] == "true"
            assert all(row[key] == "" for key in ("n", "n_eff", "mean", "mean_low", "mean_high", "share_favourable"))
    assert any(row["group"] == "RV-01" and row["mean"] for row in rows)

    metrics = web_session.get("/metrics").text
    assert 'beat_survey_score{beat="RV-01",construct="safety",period="2026-Q1",survey="standard"}' in metrics
    assert 'beat="RV-06"' not in metrics
    assert 'beat_survey_score{beat="all"' in metrics

    card = web_session.get(f"/report-cards/{SUPPRESSED_BEAT}?period=2026-Q1").json()
    for score in card["scores"].values():
        assert score["suppressed"] is True
        assert {key: value for key, value in score.items() if key != "suppressed"} == dict.fromkeys(
            ("n", "mean", "mean_ci", "share_favourable", "change")
        )
    assert card["actions"]["concerns_received"] > 0  # actions are counts of events, not of respondents

    page = web_session.get(f"/dashboard/beats/{SUPPRESSED_BEAT}")
    assert page.status_code == 200 and 'data-beat="RV-06"' in page.text


def test_results_shape_weights_items_and_bad_queries(surveys, web_session, helpers):
    helpers.seed_demo()
    body = web_session.get("/results?group=RV-01&period=2026-Q1&code=safety").json()
    [cell] = body["contents"]
    assert cell["n"] == 64 and cell["scale"] == "0-100"
    low, high = cell["mean_ci"]
    assert low < cell["mean"] < high
    assert cell["share_ci"][0] < cell["share_favourable"] < cell["share_ci"][1]
    assert cell["change"]["from_period"] == "2025-Q4" and isinstance(cell["change"]["significant"], bool)

    plain = web_session.get("/results?group=&period=2026-Q1&code=trust").json()["contents"]
    weighted = web_session.get("/results?period=2026-Q1&code=trust&weighted=true").json()["contents"]
    city_plain = next(c for c in plain if c["group"] == "all")
    city_weighted = next(c for c in weighted if c["group"] == "all")
    assert city_weighted["weighted"] and not city_plain["weighted"]
    assert city_weighted["n"] == city_plain["n"]
    assert city_weighted["n_eff"] < city_plain["n_eff"]  # unequal weights cost precision

    items = web_session.get("/results?measure=item&group=RV-01&period=2026-Q1&per_page=100").json()["contents"]
    by_code = {c["code"]: c for c in items}
    assert by_code["years_in_area"]["scale"] == "raw" and by_code["years_in_area"]["share_favourable"] is None
    assert by_code["problems_seen"]["mean"] is None and by_code["problems_seen"]["n"] == 64
    assert 0 <= by_code["problem_drugs"]["share_favourable"] <= 1

    assert web_session.get("/results?measure=everything").status_code == 400
    assert web_session.get("/results?code=happiness").status_code == 400
    assert web_session.get("/results?per_page=1000").status_code == 400
    assert web_session.get("/report-cards/RV-01?period=2026-Q9").status_code == 400
    assert web_session.get("/report-cards/RV-01").status_code == 400


def test_results_updated_is_published_once_per_changed_period(surveys, web_session, helpers, run_entrypoint):
    helpers.seed_demo()
    body = {
        "beat_code": "RV-02",
        "answers": {"safety_after_dark": "very_safe", "police_good_job": "good"},
    }
    wave = web_session.post(
        "/waves",
        json={
            "survey_code": "post-contact-free",
            "name": "x",
            "period": "2026-Q1",
            "beat_codes": ["RV-02"],
            "opens_at": "2026-01-01T00:00:00Z",
            "closes_at": "2026-03-01T00:00:00Z",
        },
        headers=helpers.headers(),
    )
    assert wave.status_code == 404  # no such survey
    survey = {
        "code": "quick",
        "kind": "wave",
        "title": {"en": "Quick", "es": "Rápida"},
        "questions": [{"item": "safety_after_dark"}, {"item": "police_good_job"}],
    }
    assert web_session.post("/surveys", json=survey, headers=helpers.headers()).status_code == 201
    wave = web_session.post(
        "/waves",
        json={
            "survey_code": "quick",
            "name": "Quick poll",
            "period": "2026-Q1",
            "beat_codes": ["RV-02"],
            "opens_at": "2026-01-01T00:00:00Z",
            "closes_at": "2026-03-01T00:00:00Z",
            "open_link": {"enabled": True},
        },
        headers=helpers.headers(),
    ).json()
    slug = wave["open_link_url"].split("open=")[1]
    assert web_session.post(f"/open/{slug}/responses", json=body).status_code == 201
    assert run_entrypoint(surveys, "publish_results_updates") == 1
    assert run_entrypoint(surveys, "publish_results_updates") == 0  # nothing changed since
    [event] = helpers.outbox("beat.survey.results_updated")
    assert event["data"]["period"] == "2026-Q1" and event["data"]["beat_codes"] == ["RV-02"]
    assert event["data"]["survey_id"] == wave["survey_id"]


def test_every_beats_report_card_is_paged_like_every_list(surveys, web_session, helpers):
    helpers.seed_demo()
    first = web_session.get("/report-cards?period=2026-Q1&per_page=4")
    assert first.status_code == 200, first.text
    second = web_session.get("/report-cards?period=2026-Q1&per_page=4&page=2").json()
    beats = [card["beat_code"] for card in first.json()["contents"] + second["contents"]]
    assert beats == ["RV-01", "RV-02", "RV-03", "RV-04", "RV-05", "RV-06"]
    assert second["last_page"] is True
    assert web_session.get("/report-cards?period=2026-Q1&per_page=0").status_code == 400


def test_results_in_a_date_window_are_those_of_the_periods_it_overlaps(surveys, web_session, helpers):
    helpers.seed_demo()

    def periods(query):
        response = web_session.get(f"/results?group=RV-01&code=safety{query}")
        assert response.status_code == 200, response.text
        return [cell["period"] for cell in response.json()["contents"]]

    assert periods("&from=2025-11-15T00:00:00Z&to=2026-02-10T00:00:00Z") == ["2025-Q4", "2026-Q1"]
    # A window's end is not in it; a quarter that ends where the window starts is not either.
    assert periods("&from=2026-01-01T00:00:00Z&to=2026-04-01T00:00:00Z") == ["2026-Q1"]
    assert periods("&from=2025-12-31T23:00:00-06:00") == ["2026-Q1"]  # 05:00 UTC on 1 January
    assert periods("&to=2025-07-01T00:00:00Z") == ["2025-Q2"]
    # The periods asked for, narrowed by the window; none overlapping means no cell, not every cell.
    assert periods("&period=2025-Q3,2026-Q1&from=2025-10-01T00:00:00Z") == ["2026-Q1"]
    assert periods("&from=2027-01-01T00:00:00Z&to=2027-04-01T00:00:00Z") == []
    whole = web_session.get("/results?group=RV-01&code=safety&period=2026-Q1").json()["contents"]
    windowed = web_session.get("/results?group=RV-01&code=safety&from=2026-02-01T00:00:00Z").json()["contents"]
    assert windowed == whole

    for bad in ("from=yesterday", "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to=2026-13-01T00:00:00Z"):
        response = web_session.get(f"/results?{bad}")
        assert response.status_code == 400 and response.json()["error"]["code"], bad
    assert web_session.get("/results.csv?from=2026-02-01T00:00:00Z&to=2026-02-01T00:00:00Z").status_code == 400
