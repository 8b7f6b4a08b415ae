"""Idempotency keys on SQLite (the embedded default); PostgreSQL and concurrency are tested
through the services (concerns, referrals, notifications)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import MetaData, func, select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from beat_shared import idempotency
from beat_shared.auth import Principal
from beat_shared.db import make_engine, unit_of_work
from beat_shared.errors import InvalidInput, Unprocessable
from beat_shared.http import http, idempotent_create

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = "retry-key-0001"


@pytest.fixture
def keyed(tmp_path):
    metadata = MetaData()
    table = idempotency.add_idempotency_table(metadata)
    engine = make_engine(f"sqlite:///{tmp_path}/keys.db", pool_size=1)
    metadata.create_all(engine)
    yield engine, table
    engine.dispose()


def test_first_use_claims_then_a_retry_finds_what_it_made(keyed):
    engine, table = keyed
    sender = idempotency.sender_of(Principal("ana", "resident"))
    with unit_of_work(engine) as session:
        first = idempotency.claim(session, table, KEY, sender, {"a": 1}, NOW)
        assert first.resource_id is None
        idempotency.remember(session, table, first, "concern-1")
    with unit_of_work(engine) as session:
        assert idempotency.claim(session, table, KEY, sender, {"a": 1}, NOW + timedelta(hours=1)).resource_id == (
            "concern-1"
        )
        # Another sender's identical key is another key.
        assert idempotency.claim(session, table, KEY, "anonymous", {"a": 1}, NOW).resource_id is None
        with pytest.raises(Unprocessable):
            idempotency.claim(session, table, KEY, sender, {"a": 2}, NOW)


def test_keys_expire_after_a_day_and_bad_keys_are_refused(keyed):
    engine, table = keyed
    with unit_of_work(engine) as session:
        idempotency.remember(session, table, idempotency.claim(session, table, KEY, "anonymous", {}, NOW), "x")
    later = NOW + idempotency.KEPT_FOR + timedelta(seconds=1)
    with unit_of_work(engine) as session:  # expired but not purged: starts afresh
        assert idempotency.claim(session, table, KEY, "anonymous", {"other": True}, later).resource_id is None
    with unit_of_work(engine) as session:
        assert idempotency.forget_expired(session, table, later + idempotency.KEPT_FOR) == 1
        assert session.scalar(select(func.count()).select_from(table)) == 0
        for bad in ("short", "x" * 256, "with space", "tab\there"):
            with pytest.raises(InvalidInput):
                idempotency.claim(session, table, bad, "anonymous", {}, NOW)


def _request(key: str | None) -> Request:
    headers = {idempotency.HEADER: key} if key else {}
    return Request(EnvironBuilder(method="POST", path="/things", headers=headers).get_environ())


def test_once_makes_once_per_key_and_replays_after(keyed):
    engine, table = keyed
    made: list[str] = []

    def make() -> dict[str, str]:
        made.append(f"thing-{len(made) + 1}")
        return {"id": made[-1]}

    def run(key: str | None, body: dict) -> idempotency.Once:
        with unit_of_work(engine) as session:
            return idempotency.once(session, table, _request(key), body, NOW, make=make, id_of=lambda t: t["id"])

    first = run(KEY, {"a": 1})
    assert (first.resource_id, first.made, first.replayed, first.headers) == ("thing-1", {"id": "thing-1"}, False, {})
    retry = run(KEY, {"a": 1})
    assert (retry.resource_id, retry.made, retry.replayed) == ("thing-1", None, True)
    assert retry.headers == {idempotency.REPLAYED_HEADER: "true"}
    assert made == ["thing-1"]  # the retry made nothing
    # Without the header every request makes something; a key reused for another body is refused.
    assert run(None, {"a": 1}).resource_id == "thing-2"
    assert run(None, {"a": 1}).resource_id == "thing-3"
    with pytest.raises(Unprocessable):
        run(KEY, {"a": 2})
    assert made == ["thing-1", "thing-2", "thing-3"]


def test_once_remembers_nothing_when_the_work_fails(keyed):
    engine, table = keyed

    def fail() -> dict[str, str]:
        raise InvalidInput("no", {})

    with pytest.raises(InvalidInput), unit_of_work(engine) as session:
        idempotency.once(session, table, _request(KEY), {}, NOW, make=fail, id_of=lambda t: t["id"])
    with unit_of_work(engine) as session:  # rolled back with the work: the key is free again
        assert session.scalar(select(func.count()).select_from(table)) == 0


def test_idempotent_create_declares_a_post_answering_201_that_honours_the_key():
    @idempotent_create(http, "/things", auth="none", tags=["things"])
    def make_thing(self, request): ...

    (endpoint,) = make_thing.nameko_entrypoints
    assert (endpoint.method, endpoint.url, endpoint.auth, endpoint.doc.tags) == ("POST", "/things", "none", ("things",))
    assert endpoint.doc.status == 201
    assert idempotency.HEADER in endpoint.doc.headers
    assert set(idempotency.RESPONSES_DOC) <= set(endpoint.doc.responses)
