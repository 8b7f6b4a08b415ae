"""Problems on meeting agendas (issue 26), over HTTP on both backends: the agenda a beat's officers
are offered for a community meeting comes with the beat's open problems (the meeting works them
too), not another beat's and not a closed one's; who may not plan the beat's meetings gets none."""

from concerns_testkit import officer, resident, supervisor


def _problem(web_session, beat: str, title: str, concern_ids: list[str], who: dict[str, str]) -> dict:
    body = {"beat_code": beat, "title": title, "categories": ["noise"], "concern_ids": concern_ids}
    made = web_session.post("/problems", json=body, headers=who)
    assert made.status_code == 201, made.text
    return made.json()


def test_the_agenda_suggestion_brings_the_beats_open_problems(submit, web_session):
    here = [submit(category="noise")["concern"]["id"] for _ in range(2)]
    elsewhere = submit(category="noise", beat="RV-03")["concern"]["id"]
    worked = _problem(web_session, "RV-02", "Music from the yard", here, officer())
    _problem(web_session, "RV-03", "Another beat's problem", [elsewhere], supervisor())

    answer = web_session.get("/beats/RV-02/agenda", headers=officer())
    assert answer.status_code == 200, answer.text
    suggestion = answer.json()
    assert sorted(item["concern_id"] for item in suggestion["agenda"]) == sorted(here)
    [problem] = suggestion["problems"]
    assert problem["id"] == worked["id"] and problem["title"] == "Music from the yard"
    assert problem["stage"] == worked["stage"] and problem["concerns"] == 2

    assert web_session.get("/beats/RV-02/agenda", headers=officer("RV-05")).status_code == 403
    assert web_session.get("/beats/RV-02/agenda", headers=resident()).status_code == 403


def test_a_beat_with_no_problem_has_an_empty_list(service, web_session):
    answer = web_session.get("/beats/RV-02/agenda", headers=officer())
    assert answer.status_code == 200 and answer.json()["problems"] == []
