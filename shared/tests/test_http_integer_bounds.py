"""Integers beyond 64 bits (SQLite's INTEGER, PostgreSQL's bigint) never reach a database: in an
`<int:...>` path they match no route (404), in any JSON body they are a 400 naming the field,
and nothing is stored. Once in the shared HTTP layer, for every service, on both backends."""

from sqlalchemy import text

from beat_shared.auth import mint_token
from beat_shared.config import env
from beat_shared.db import make_engine
from beat_shared.fields import INT64_MAX, INT64_MIN, out_of_range_integers

OFFICER = {"Authorization": f"Bearer {mint_token('officer', 'officer-1', env('BEAT_JWT_SECRET'))}"}


def entries(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM entries")).scalar_one())
    finally:
        engine.dispose()


def test_a_path_integer_beyond_64_bits_is_404_and_the_largest_one_is_looked_up(ledger, web_session):
    for entry_id in (INT64_MAX + 1, 13848968913678185267200):
        response = web_session.get(f"/entries/{entry_id}", headers=OFFICER)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    largest = web_session.get(f"/entries/{INT64_MAX}", headers=OFFICER)
    assert largest.status_code == 404 and f"entry {INT64_MAX} does not exist" in largest.json()["error"]["message"]


def test_a_body_integer_beyond_64_bits_is_400_naming_the_field_and_nothing_is_stored(ledger, ledger_db, web_session):
    for sequence in (INT64_MAX + 1, INT64_MIN - 1, 1e30):
        response = web_session.post("/entries", json={"subject": "big", "sequence": sequence})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_input" and "sequence" in error["details"]
    assert entries(ledger_db) == 0
    assert web_session.post("/entries", json={"subject": "small", "sequence": 7}).status_code == 201
    assert entries(ledger_db) == 1


def test_out_of_range_integers_are_found_wherever_they_are_nested():
    body = {"a": 1, "b": [2, {"c": INT64_MAX + 1}], "d": True, "e": INT64_MIN, "f": "99999999999999999999999"}
    assert list(out_of_range_integers(body)) == ["b.1.c"]
    assert set(out_of_range_integers(INT64_MIN - 1)) == {"body"}
