"""A JSON endpoint refuses a body declared as another media type with a 415 in the one error
shape, and stores nothing; JSON (and +json types, and no declared type) is read as before."""

import json

from sqlalchemy import text

from beat_shared.db import make_engine


def entries(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM entries")).scalar_one())
    finally:
        engine.dispose()


def test_a_text_plain_body_is_415_and_nothing_is_stored(ledger, ledger_db, web_session):
    body = json.dumps({"subject": "s", "sequence": 1})
    for media_type in ("text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded"):
        response = web_session.post("/entries", data=body, headers={"Content-Type": media_type})
        assert response.status_code == 415, response.text
        error = response.json()["error"]
        assert error["code"] == "unsupported_media_type" and "application/json" in error["message"]
    assert entries(ledger_db) == 0


def test_json_and_json_suffixed_bodies_are_read(ledger, ledger_db, web_session):
    for sequence, media_type in enumerate(("application/json; charset=utf-8", "application/merge-patch+json"), 1):
        data = json.dumps({"subject": "s", "sequence": sequence})
        response = web_session.post("/entries", data=data, headers={"Content-Type": media_type})
        assert response.status_code == 201, response.text
    assert entries(ledger_db) == 2


def test_a_body_without_content_type_is_refused_like_text_plain(ledger, ledger_db, web_session):
    # requests sends no Content-Type for a str body; the WSGI server then says text/plain.
    response = web_session.post("/entries", data=json.dumps({"subject": "s", "sequence": 1}))
    assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"
    assert entries(ledger_db) == 0
