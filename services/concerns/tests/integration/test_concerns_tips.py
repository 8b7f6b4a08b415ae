"""Tips over HTTP on both backends: never public, no client address or device kept, read only by
the beat's officers and supervisors (every read logged), linked to problems, erased on time."""

import logging

from concerns_testkit import admin, officer, resident, run_timer, supervisor
from sqlalchemy import text

from beat_shared.db import make_engine

TIP = {
    "beat_code": "RV-02",
    "text": "The blue van with plate KX-441 deals behind the laundrette.",
    "contact": "+1 555 0199 777",
}


def _rows(url: str, table: str) -> list[tuple]:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}"))]
    engine.dispose()
    return rows


def test_a_tip_reaches_only_the_beats_officers_and_every_read_is_logged(
    web_session, service, concerns_db, db_count, events, caplog, clock
):
    caplog.set_level(logging.DEBUG)
    given = web_session.post("/tips", json=TIP, headers={"User-Agent": "Phone-1234", "X-Forwarded-For": "203.0.113.9"})
    assert given.status_code == 201, given.text
    assert given.json()["received"] is True and "not an emergency line" in given.json()["notice"]
    assert "id" not in given.json()  # nothing a resident could read it back with
    clock.advance(minutes=1)
    anonymous = web_session.post(
        "/tips", json={"beat_code": "RV-02", "text": "Lights out on Elm.", "language": "es"}, headers=resident()
    )
    assert anonymous.status_code == 201 and "no es una línea de emergencias" in anonymous.json()["notice"].lower()
    stored = _rows(concerns_db, "tips")
    assert len(stored) == 2
    flat = " ".join(str(value) for row in stored for value in row)
    for kept_nowhere in ("127.0.0.1", "203.0.113.9", "Phone-1234", "resident-ana"):
        assert kept_nowhere not in flat

    # Who may read: the beat's officers and supervisors; not another beat's, not admins, not residents.
    for headers, status in ((officer("RV-03"), 403), (admin(), 403), (resident(), 403), ({}, 401)):
        assert web_session.get("/beats/RV-02/tips", headers=headers).status_code == status
    listed = web_session.get("/beats/RV-02/tips", headers=officer())
    assert listed.status_code == 200
    tips = listed.json()["tips"]
    assert [tip["text"] for tip in tips] == ["Lights out on Elm.", TIP["text"]]  # newest first
    tip_id = next(tip["id"] for tip in tips if tip["contact"] == TIP["contact"])
    assert db_count("tip_reads") == 2  # one "list" read per tip listed
    assert web_session.get(f"/tips/{tip_id}", headers=supervisor()).json()["contact"] == TIP["contact"]
    assert web_session.get(f"/tips/{tip_id}", headers=officer("RV-03")).status_code == 403
    assert web_session.get("/tips/nope", headers=officer()).status_code == 404
    assert db_count("tip_reads") == 3  # refusals read nothing and log nothing
    log = web_session.get(f"/tips/{tip_id}/reads", headers=supervisor()).json()["reads"]
    assert [(read["reader"], read["action"]) for read in log] == [("officer-rv02", "list"), ("supervisor-1", "read")]
    assert web_session.get(f"/tips/{tip_id}/reads", headers=officer()).status_code == 403

    # Linked to a problem of its beat, never another's; the problem's workspace counts it.
    mine = web_session.post(
        "/problems", json={"beat_code": "RV-02", "title": "Van", "categories": ["drug_activity"]}, headers=officer()
    ).json()
    theirs = web_session.post(
        "/problems", json={"beat_code": "RV-03", "title": "X", "categories": ["noise"]}, headers=officer("RV-03")
    ).json()
    assert (
        web_session.put(f"/tips/{tip_id}/problem", json={"problem_id": theirs["id"]}, headers=officer()).status_code
        == 400
    )
    linked = web_session.put(f"/tips/{tip_id}/problem", json={"problem_id": mine["id"]}, headers=officer())
    assert linked.status_code == 200 and linked.json()["problem_id"] == mine["id"]
    assert web_session.get(f"/problems/{mine['id']}", headers=officer()).json()["tips"] == 1
    assert web_session.get(f"/public/problems/{mine['id']}").text.count("laundrette") == 0

    # Neither the logs nor any event nor the outbox carry a tip's text or contact.
    events.wait_for("beat.problem.opened", 2)
    published = str(events.seen)
    outbox = " ".join(str(value) for row in _rows(concerns_db, "outbox") for value in row)
    for secret in (TIP["text"], "KX-441", TIP["contact"], "Lights out on Elm"):
        assert secret not in caplog.text and secret not in published and secret not in outbox


def test_tips_are_erased_after_the_retention_period_and_their_read_log_stays(web_session, service, clock, db_count):
    assert web_session.post("/tips", json=TIP).status_code == 201
    tip_id = web_session.get("/beats/RV-02/tips", headers=officer()).json()["tips"][0]["id"]
    clock.advance(days=179)
    assert run_timer(service, "erase_expired_tips") == 0
    assert web_session.get(f"/tips/{tip_id}", headers=officer()).status_code == 200
    clock.advance(days=1)  # 180 days: CONCERNS_TIP_RETENTION_DAYS
    assert run_timer(service, "erase_expired_tips") == 1
    assert web_session.get(f"/tips/{tip_id}", headers=officer()).status_code == 404
    assert db_count("tips") == 0 and db_count("tip_reads") == 2
    assert web_session.get(f"/tips/{tip_id}/reads", headers=supervisor()).json()["reads"][0]["reader"] == "officer-rv02"


def test_a_shorter_retention_and_bad_tips(make_service, web_session, clock, db_count):
    service = make_service(CONCERNS_TIP_RETENTION_DAYS="7")
    assert web_session.get("/tips/notice", params={"language": "es"}).json()["notice"].startswith("Esta no es")
    for bad, status in (
        ({"beat_code": "RV-02"}, 400),
        ({**TIP, "text": ""}, 400),
        ({**TIP, "language": "fr"}, 400),
        ({**TIP, "device_id": "abc"}, 400),  # a device identifier is not even accepted
        ({**TIP, "beat_code": "RV-99"}, 404),
        ({**TIP, "category": "nope"}, 400),
        ({**TIP, "text": "x" * 4001}, 400),
    ):
        assert web_session.post("/tips", json=bad).status_code == status, bad
    assert db_count("tips") == 0
    assert web_session.post("/tips", json=TIP).status_code == 201
    clock.advance(days=7)
    assert run_timer(service, "erase_expired_tips") == 1
