"""Waves, one-time invitations and anonymous responses over real PostgreSQL and RabbitMQ."""

import eventlet
import requests
from nameko.testing.services import entrypoint_hook
from sqlalchemy import select

from beat_shared.config import env
from surveys.domain.tokens import token_hash
from surveys.models import Invitation

WAVE = {
    "survey_code": "standard",
    "name": "Winter 2026",
    "period": "2026-Q1",
    "beat_codes": ["RV-01", "RV-02"],
    "opens_at": "2026-01-10T00:00:00Z",
    "closes_at": "2026-03-31T00:00:00Z",
    "open_link": {"enabled": True, "daily_limit_per_device": 2, "max_responses_per_beat": 3},
}

ANSWERS = {
    "safety_after_dark": "fairly_safe",
    "safety_by_day": "very_safe",
    "police_good_job": "good",
    "police_reliable": 4,
    "police_respect": 5,
    "police_unfair": 2,
    "police_listen": 3,
    "police_understand": 4,
    "problem_drugs": 2,
    "problem_vandalism": 3,
    "problem_groups": 1,
    "problem_noise": 2,
    "efficacy_help": 4,
    "efficacy_close_knit": 3,
    "efficacy_trusted": 4,
    "efficacy_not_get_along": 2,
    "efficacy_intervene": 5,
    "safety_change": 6,
    "problems_seen": ["graffiti"],
    "years_in_area": 7,
    "comments": "More street lights on Elm Street, please. Ana",
}


def start_wave(web_session, helpers):
    helpers.seed_demo()  # ships the standard survey (and older waves)
    created = web_session.post("/waves", json=WAVE, headers=helpers.headers())
    assert created.status_code == 201, created.text
    return created.json()


def issue(web_session, helpers, wave_id):
    issued = web_session.post(f"/waves/{wave_id}/invitations", headers=helpers.headers())
    assert issued.status_code == 201, issued.text
    return issued.json()


def test_invitation_token_works_once_and_leaves_nothing_that_identifies(surveys, notifications, web_session, helpers):
    wave = start_wave(web_session, helpers)
    assert issue(web_session, helpers, wave["id"]) == {"created": 6, "by_beat": {"RV-01": 3, "RV-02": 3}}
    assert issue(web_session, helpers, wave["id"])["created"] == 0  # nobody is invited twice

    events = [e for e in helpers.outbox("beat.survey.invitation_created") if e["data"]["wave_id"] == wave["id"]]
    assert len(events) == 6
    event = next(e for e in events if e["data"]["recipient_ref"] == "subscriber-RV-01-0")
    assert event["data"]["kind"] == "wave" and event["data"]["beat_code"] == "RV-01"
    invitation_id = event["data"]["invitation_id"]

    with entrypoint_hook(surveys, "invitation_link") as invitation_link:
        link = invitation_link(invitation_id)
        assert invitation_link("no-such-invitation") is None
    assert link["url"].startswith(env("SURVEYS_PUBLIC_URL") + "/respond#")
    token = link["url"].split("#", 1)[1]
    before = helpers.scalar("SELECT count(*) FROM responses")

    form = web_session.post("/invitations/survey", json={"token": token, "language": "es"})
    assert form.status_code == 200
    assert form.json()["questions"][0]["text"].startswith("¿Qué tan seguro")

    bad = web_session.post("/responses", json={"token": token, "answers": {**ANSWERS, "police_respect": 9}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_input"
    assert helpers.scalar("SELECT count(*) FROM responses") == before  # nothing stored
    assert helpers.scalar(select(Invitation.used).where(Invitation.id == invitation_id)) is False

    first = web_session.post("/responses", json={"token": token, "language": "es", "answers": ANSWERS})
    assert first.status_code == 201, first.text
    assert first.json() == {"status": "recorded"}
    second = web_session.post("/responses", json={"token": token, "answers": ANSWERS})
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "invitation_used"
    assert web_session.post("/invitations/survey", json={"token": token}).status_code == 409
    assert helpers.scalar("SELECT count(*) FROM responses") == before + 1
    with entrypoint_hook(surveys, "invitation_link") as invitation_link:
        assert invitation_link(invitation_id) is None  # a spent link is not sent again

    # The spent invitation forgot whom it was for.
    [spent] = helpers.rows(select(Invitation.__table__).where(Invitation.id == invitation_id))
    assert spent["used"] is True
    assert spent["recipient_ref"] is None and spent["beat_code"] is None and spent["concern_id"] is None

    # Nothing in the response tables names the token, its hash, the invitation or the person.
    secrets = {token, token_hash(token), invitation_id, "subscriber-RV-01-0", spent["recipient_key"]}
    response_columns = helpers.columns("responses", "answers")
    assert not response_columns & {"invitation_id", "token", "token_hash", "recipient_ref", "concern_id"}
    assert not {c for c in response_columns if c.endswith("_at") or "time" in c or "date" in c}
    [mine] = helpers.rows("SELECT * FROM responses WHERE wave_id = :w", w=wave["id"])
    answers = helpers.rows("SELECT * FROM answers WHERE response_id = :r", r=mine["id"])
    for row in [mine, *answers]:
        for value in row.values():
            assert str(value) not in secrets
    assert mine["beat_code"] == "RV-01" and mine["period"] == "2026-Q1" and mine["safety"] is not None
    assert {a["item_code"] for a in answers} == set(ANSWERS)


def test_unknown_token_and_closed_wave(surveys, notifications, web_session, helpers, clock):
    wave = start_wave(web_session, helpers)
    unknown = web_session.post("/responses", json={"token": "x" * 43, "answers": ANSWERS})
    assert unknown.status_code == 404
    issue(web_session, helpers, wave["id"])
    event = helpers.outbox("beat.survey.invitation_created")[-1]
    with entrypoint_hook(surveys, "invitation_link") as invitation_link:
        token = invitation_link(event["data"]["invitation_id"])["url"].split("#")[1]
    clock.advance(days=70)  # past the wave's close
    late = web_session.post("/responses", json={"token": token, "answers": ANSWERS})
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "survey_closed"


def test_open_link_limits_against_ballot_stuffing(surveys, web_session, helpers):
    wave = start_wave(web_session, helpers)
    slug = wave["open_link_url"].split("open=")[1]
    survey = web_session.get(f"/open/{slug}?language=en").json()
    assert survey["beats"] == ["RV-01", "RV-02"]

    def answer(beat, agent):
        body = {"beat_code": beat, "answers": ANSWERS}
        return web_session.post(f"/open/{slug}/responses", json=body, headers={"User-Agent": agent})

    assert answer("RV-01", "phone-a").status_code == 201
    assert answer("RV-01", "phone-a").status_code == 201
    third = answer("RV-01", "phone-a")
    assert third.status_code == 429  # two a day from one device
    assert int(third.headers["Retry-After"]) > 0
    assert answer("RV-01", "phone-b").status_code == 201
    capped = answer("RV-01", "phone-c")
    assert capped.status_code == 409  # three open-link answers per beat
    assert answer("RV-02", "phone-c").status_code == 201
    assert answer("RV-09", "phone-d").status_code == 400
    assert web_session.post("/open/nope/responses", json={"beat_code": "RV-01", "answers": ANSWERS}).status_code == 404
    channels = helpers.rows(
        "SELECT channel, count(*) AS n FROM responses WHERE wave_id = :w GROUP BY channel", w=wave["id"]
    )
    assert channels == [{"channel": "open", "n": 4}]
    assert helpers.scalar("SELECT count(*) FROM open_link_uses") == 3
    # The device table keeps a daily keyed hash, never the address or the browser.
    assert all(len(row["device_hash"]) == 64 for row in helpers.rows("SELECT device_hash FROM open_link_uses"))


def test_survey_definitions_are_versioned_and_bilingual(surveys, web_session, helpers):
    body = {
        "code": "lighting",
        "kind": "wave",
        "title": {"en": "Street lighting", "es": "Alumbrado"},
        "questions": [
            {"item": "safety_after_dark"},
            {
                "item_code": "lights_work",
                "type": "likert_5",
                "construct": "safety",
                "text": {"en": "The street lights work.", "es": "Las farolas funcionan."},
                "options": [],
            },
        ],
    }
    assert web_session.post("/surveys", json=body).status_code == 401
    assert web_session.post("/surveys", json=body, headers=helpers.headers("resident")).status_code == 403
    first = web_session.post("/surveys", json=body, headers=helpers.headers())
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    assert first.json()["questions"][0]["text"]["es"].startswith("¿Qué tan seguro")
    second = web_session.post("/surveys", json=body, headers=helpers.headers())
    assert second.json()["version"] == 2
    assert web_session.get("/surveys/lighting").json()["version"] == 2
    assert web_session.get("/surveys/lighting/versions/1").json()["id"] == first.json()["id"]
    assert web_session.get("/surveys/lighting/versions/3").status_code == 404

    no_spanish = {**body, "code": "other", "title": {"en": "Only English"}}
    refused = web_session.post("/surveys", json=no_spanish, headers=helpers.headers())
    assert refused.status_code == 400
    assert helpers.scalar("SELECT count(*) FROM surveys WHERE code = 'other'") == 0
    assert web_session.get("/item-bank").json()["items"][0]["text"]["es"]
    document = web_session.get("/openapi.json").json()
    assert "/results" in document["paths"] and "/responses" in document["paths"]


def test_running_totals_equal_a_recount_after_every_kind_of_response(surveys, notifications, web_session, helpers):
    wave = start_wave(web_session, helpers)  # the demo's responses, counted by a rebuild
    slug = wave["open_link_url"].split("open=")[1]
    issue(web_session, helpers, wave["id"])
    tokens = []
    for event in helpers.outbox("beat.survey.invitation_created")[:2]:
        with entrypoint_hook(surveys, "invitation_link") as invitation_link:
            tokens.append(invitation_link(event["data"]["invitation_id"])["url"].split("#")[1])
    before = helpers.totals()

    refused = web_session.post("/responses", json={"token": tokens[0], "answers": {**ANSWERS, "police_respect": 9}})
    assert refused.status_code == 400
    assert helpers.totals() == before  # a refused answer counts nowhere

    partial = {**{key: value for key, value in ANSWERS.items() if key != "comments"}, "police_respect": 1}
    assert web_session.post("/responses", json={"token": tokens[0], "answers": ANSWERS}).status_code == 201
    assert web_session.post("/responses", json={"token": tokens[1], "answers": partial}).status_code == 201
    opened = web_session.post(f"/open/{slug}/responses", json={"beat_code": "RV-02", "answers": ANSWERS})
    assert opened.status_code == 201
    running = helpers.totals()
    assert running != before
    assert running == helpers.recounted()

    safety = {
        (row["group_code"], row["channel"]): row["n"]
        for row in running
        if row["period"] == "2026-Q1" and row["measure"] == "construct" and row["code"] == "safety"
    }
    assert safety[("RV-02", "open")] == 1
    comments = [
        row for row in running if (row["period"], row["channel"], row["code"]) == ("2026-Q1", "invited", "comments")
    ]
    # Only the first invited answer had a comment: counted as answered, with no value to average.
    assert sum(row["answered"] for row in comments) == 1 and all(row["n"] == 0 for row in comments)
    columns = helpers.columns("result_totals")
    assert not columns & {"response_id", "invitation_id", "token_hash", "recipient_ref", "concern_id"}


def test_concurrent_answers_lose_no_count_and_stop_exactly_at_the_cap(surveys, web_session, web_config_port, helpers):
    cap = 6
    start_wave(web_session, helpers)
    created = web_session.post(
        "/waves",
        json={**WAVE, "name": "Crowded", "open_link": {"enabled": True, "max_responses_per_beat": cap}},
        headers=helpers.headers(),
    )
    assert created.status_code == 201, created.text
    slug = created.json()["open_link_url"].split("open=")[1]
    url = f"http://127.0.0.1:{web_config_port}/open/{slug}/responses"

    def answer(device: int) -> int:
        body = {"beat_code": "RV-01", "answers": ANSWERS}
        return requests.post(url, json=body, headers={"User-Agent": f"phone-{device}"}, timeout=30).status_code

    statuses = sorted(eventlet.GreenPool(10).imap(answer, range(cap + 4)))
    assert statuses == [201] * cap + [409] * 4
    wave_id = created.json()["id"]
    assert helpers.scalar("SELECT responses FROM open_link_counts WHERE wave_id = :w", w=wave_id) == cap
    assert helpers.scalar("SELECT count(*) FROM responses WHERE wave_id = :w", w=wave_id) == cap
    assert helpers.totals() == helpers.recounted()
