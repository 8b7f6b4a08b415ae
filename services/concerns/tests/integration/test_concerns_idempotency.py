"""Idempotency-Key on POST /concerns: a retried submission finds the concern it made."""

import eventlet
import requests
from concerns_testkit import concern_body, resident, run_timer

KEY = "a3f1c2d4-retry-key-0001"


def post(web_session, body: dict, key: str | None = KEY, headers: dict | None = None):
    sent = {**(headers or {}), **({"Idempotency-Key": key} if key is not None else {})}
    return web_session.post("/concerns", json=body, headers=sent)


def test_a_retry_with_the_same_key_answers_with_the_same_concern(web_session, service, db_count, clock):
    body = concern_body(description="Broken street light outside number 12")
    first = post(web_session, body)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = post(web_session, body)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["concern"]["id"] == first.json()["concern"]["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert db_count("concerns") == 1
    assert db_count("outbox", "WHERE event_type = 'beat.concern.submitted'") == 1  # officers are told once
    # Only hashes are stored, so the retry carries a new receipt token and the first one stops working.
    new_token, old_token = again.json()["receipt_token"], first.json()["receipt_token"]
    assert new_token != old_token
    assert web_session.get(f"/receipts/{new_token}").status_code == 200
    assert web_session.get(f"/receipts/{old_token}").status_code == 404
    assert db_count("idempotency_keys", f"WHERE key_hash LIKE '%{KEY}%' OR request_hash LIKE '%{KEY}%'") == 0

    # Without a key, or with another one, the same body is another concern.
    assert post(web_session, body, key=None).status_code == 201
    assert post(web_session, body, key="another-key-0002").status_code == 201
    assert db_count("concerns") == 3

    # A day later the key is forgotten (the overdue timer purges keys) and starts afresh.
    clock.advance(hours=23)
    run_timer(service, "check_overdue")
    assert db_count("idempotency_keys") == 2
    clock.advance(hours=2)
    run_timer(service, "check_overdue")
    assert db_count("idempotency_keys") == 0
    later = post(web_session, body)
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert db_count("concerns") == 4


def test_a_key_is_the_senders_own(web_session, service, db_count):
    body = concern_body()
    assert post(web_session, body, headers=resident("resident-ana")).status_code == 201
    other = post(web_session, body, headers=resident("resident-ben"))
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    anonymous = post(web_session, body)
    assert anonymous.status_code == 201 and "Idempotent-Replayed" not in anonymous.headers
    assert db_count("concerns") == 3


def test_bad_or_reused_keys_are_refused_and_store_nothing(web_session, service, db_count):
    body = concern_body()
    for bad in ("short", "x" * 256, "has space inside", "ünïcode-key-123"):
        refused = post(web_session, body, key=bad.encode().decode("latin-1"))  # headers travel as Latin-1
        assert refused.status_code == 400, (bad, refused.text)
        assert "Idempotency-Key" in refused.json()["error"]["details"]
    assert db_count("concerns") == 0 and db_count("idempotency_keys") == 0

    assert post(web_session, body).status_code == 201
    changed = post(web_session, {**body, "description": "Something else entirely, at another time"})
    assert changed.status_code == 422
    assert changed.json()["error"]["code"] == "unprocessable"
    invalid = post(web_session, {**body, "category": "no-such-category"}, key="fresh-key-0003")
    assert invalid.status_code == 400
    assert db_count("concerns") == 1 and db_count("idempotency_keys") == 1  # the refused key was not kept


def test_concurrent_retries_make_one_concern(web_session, web_config_port, service, db_count):
    body = concern_body(description="Car alarm going off every night on Pine Street")
    url = f"http://127.0.0.1:{web_config_port}/concerns"

    def send(_: int) -> tuple[int, str | None]:
        answer = requests.post(url, json=body, headers={"Idempotency-Key": KEY}, timeout=30)
        return answer.status_code, answer.json().get("concern", {}).get("id")

    answers = list(eventlet.GreenPool(6).imap(send, range(6)))
    assert {status for status, _ in answers} <= {201, 409}
    made = {concern_id for status, concern_id in answers if status == 201}
    assert len(made) == 1 and db_count("concerns") == 1
    assert db_count("outbox", "WHERE event_type = 'beat.concern.submitted'") == 1
