"""Concerns' use cases on SQLite with their events recorded: what voicing, moving, noting, asking
for a referral and setting a beat's priorities write, announce and refuse, and the answers the
endpoint groups give from them, in milliseconds, beside the integration tests over the broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from beat_shared.db import unit_of_work
from beat_shared.errors import NotFound, PermissionDenied
from beat_shared.testing import RecordedEvents
from concerns import commands, queries, store
from concerns.domain.workflow import Actor, Status
from concerns.intake_endpoints import submission_from
from concerns.reference import ReferenceCache
from concerns.schemas import ConcernInput
from concerns.settings import Settings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SETTINGS = Settings.from_config({})
OFFICER = Actor("officer-rv02", "officer", frozenset({"RV-02"}))
OTHER_BEATS_OFFICER = Actor("officer-rv05", "officer", frozenset({"RV-05"}))
IN_RV02 = {"lat": 43.045, "long": -108.380}


def _voice(session, recorded: RecordedEvents, reference: ReferenceCache, **contact: str) -> commands.Submitted:
    body = ConcernInput().load({"category": "noise", "description": "Music all night", "location": IN_RV02})
    body["contact"] = contact or None
    return commands.submit(session, SETTINGS, NOW, recorded, submission_from(body, None), reference)


def test_a_voiced_concern_is_announced_once_placed_in_its_beat_and_answered_with_its_receipt(engine):
    recorded, reference = RecordedEvents(), ReferenceCache(max_age=1)
    with unit_of_work(engine) as session:
        made = _voice(session, recorded, reference)
        answer = queries.submission_answer(session, SETTINGS, reference, made.concern, made.receipt_token, made)
    assert recorded.types() == ["beat.concern.submitted"]
    [(_, subject, data)] = recorded.events
    assert subject == made.concern.id and data["beat_code"] == "RV-02" and data["anonymous"] is True
    assert answer["concern"]["id"] == made.concern.id and answer["concern"]["status"] == "submitted"
    assert answer["receipt_token"] == made.receipt_token and answer["possible_duplicates"] == []
    assert "officer of your beat" in answer["service_notice"]
    assert "referral_requests" not in answer["concern"]  # the resident's view, not the staff's


def test_a_reissued_receipt_replaces_the_first_and_the_replayed_answer_suggests_nothing(engine):
    recorded, reference = RecordedEvents(), ReferenceCache(max_age=1)
    with unit_of_work(engine) as session:
        made = _voice(session, recorded, reference)
        near = _voice(session, recorded, reference)
    with unit_of_work(engine) as session:
        concern, token = commands.reissue_receipt(session, near.concern.id)
        replayed = queries.submission_answer(session, SETTINGS, reference, concern, token)
        assert store.concern_by_receipt(session, near.receipt_token) is None
        assert store.concern_by_receipt(session, token).id == near.concern.id
    assert near.duplicates and near.duplicates[0].concern_id == made.concern.id  # the first one, nearby
    assert replayed["possible_duplicates"] == [] and replayed["problems"] == []
    assert [step["status"] for step in replayed["concern"]["updates"]] == ["submitted"]
    assert recorded.types() == ["beat.concern.submitted"] * 2  # reissuing announces nothing


def test_moves_and_notes_by_the_beat_s_officer_each_announce_one_event(engine):
    recorded, reference = RecordedEvents(), ReferenceCache(max_age=1)
    with unit_of_work(engine) as session:
        concern_id = _voice(session, recorded, reference, email="ana@example.org").concern.id
    with unit_of_work(engine) as session:
        change = commands.Change(Status.ACKNOWLEDGED, 1, public_note="We have seen it")
        commands.transition(session, NOW, recorded, concern_id, OFFICER, change)
        commands.add_note(session, NOW, recorded, concern_id, OFFICER, commands.Note(2, internal_note="Car park"))
        commands.add_note(session, NOW, recorded, concern_id, OFFICER, commands.Note(3, public_note="Patrol tonight"))
        concern = store.concern(session, concern_id)
        staff = queries.concern_answer(session, SETTINGS, reference, concern, "staff")
    assert recorded.types()[1:] == ["beat.concern.acknowledged", "beat.concern.status_changed"]  # internal: none
    assert recorded.events[-1][2]["previous_status"] == recorded.events[-1][2]["status"] == "acknowledged"
    assert concern.version == 4 and staff["status"] == "acknowledged" and staff["referral_requests"] == []
    with unit_of_work(engine) as session, pytest.raises(PermissionDenied):
        commands.add_note(session, NOW, recorded, concern_id, OTHER_BEATS_OFFICER, commands.Note(4, "Not mine"))
    assert len(recorded.events) == 3


def test_a_referral_request_is_announced_without_the_client_and_read_back_by_referrals(engine):
    recorded, reference = RecordedEvents(), ReferenceCache(max_age=1)
    with unit_of_work(engine) as session:
        concern_id = _voice(session, recorded, reference).concern.id
    consent = {"given_by": "Ana Diaz", "given_at": NOW - timedelta(minutes=5), "method": "verbal", "scope": "food"}
    client = {"name": "Ana Diaz", "phone": "555-0101"}
    ask = commands.ReferralAsk("food", "routine", client, consent, concern_id=concern_id)
    with unit_of_work(engine) as session:
        with pytest.raises(PermissionDenied):
            commands.request_referral(session, NOW, recorded, OTHER_BEATS_OFFICER, ask)
        made = commands.request_referral(session, NOW, recorded, OFFICER, ask)
        staff = queries.concern_answer(session, SETTINGS, reference, store.concern(session, concern_id), "staff")
        asked = queries.referral_client(session, made.id)
        assert queries.referral_client(session, "no-such-request") is None
    assert recorded.types() == ["beat.concern.submitted", "beat.referral.requested"]
    announced = recorded.events[-1][2]
    assert announced["beat_code"] == "RV-02" and "Ana" not in str(announced)  # events carry no personal data
    assert [request["state"] for request in staff["referral_requests"]] == ["requested"]
    assert asked["name"] == "Ana Diaz" and asked["consent"]["method"] == "verbal"


def test_a_beat_s_priorities_are_set_by_its_own_officers_only(engine):
    items = [{"title": "Noise at night"}, {"title": "Speeding on Main Street"}]
    with unit_of_work(engine) as session:
        with pytest.raises(PermissionDenied):
            commands.set_beat_priorities(session, NOW, OTHER_BEATS_OFFICER, "RV-02", "2026-Q1", items)
        commands.set_beat_priorities(session, NOW, OFFICER, "RV-02", "2026-Q1", items)
    with unit_of_work(engine) as session:
        agreed = queries.priorities(session, "RV-02", "2026-Q1")
        with pytest.raises(NotFound, match=r"^action no-such-action does not exist$"):
            commands.update_action(session, NOW, OFFICER, "no-such-action", "done")
    assert [item["title"] for item in agreed["items"]] == ["Noise at night", "Speeding on Main Street"]


def test_other_services_find_a_beat_and_its_officers(engine):
    with unit_of_work(engine) as session:
        contacts = queries.beat_contacts(session, "RV-02")
        assert queries.beat_exists(session, "RV-02") and not queries.beat_exists(session, "RV-99")
    assert [person["subject"] for person in contacts["officers"]] == ["officer-rv02"]
    assert [person["subject"] for person in contacts["supervisors"]] == ["supervisor-1"]
