from concerns_testkit import officer


def test_submit_and_read(submit, web_session, events):
    answer = submit()
    concern = answer["concern"]
    assert concern["beat_code"] == "RV-02"
    response = web_session.get(f"/concerns/{concern['id']}", headers=officer())
    assert response.status_code == 200, response.text
    event = events.wait_for("beat.concern.submitted")[0]
    assert event["data"]["beat_code"] == "RV-02"
